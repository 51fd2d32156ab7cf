"""The voice check as a pure function: sentences, bytes, tone markers, forbidden words, limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from siyu.content.services import check_voice, split_sentences, utf8_bytes, voice_check
from siyu.content.services.voice import SENTENCE_ENDS

VOICE = {"tone_markers": ["呀", "哦", "啦", "~"], "catchphrases": ["亲测好用"], "forbidden_words": ["全网最低"]}


def test_a_sentence_without_any_tone_marker_is_a_warning_naming_it():
    findings = check_voice("你好呀～欢迎来到我们的店铺。有问题随时问我哦！", **VOICE)
    assert [(f.level, f.code, f.sentence) for f in findings] == [("warning", "no_tone", "欢迎来到我们的店铺。")]


def test_a_catchphrase_counts_as_the_persona_voice():
    assert check_voice("这个粉底液亲测好用。", **VOICE) == []


def test_the_full_width_tilde_counts_as_the_tilde_marker():
    assert check_voice("送你一份见面礼～", **VOICE) == []


def test_a_forbidden_word_is_an_error_even_in_a_voiced_sentence():
    [finding] = check_voice("全网最低价哦！", **VOICE)
    assert finding.level == "error" and finding.code == "forbidden" and finding.word == "全网最低"


def test_text_over_four_thousand_bytes_is_an_error():
    findings = check_voice("啦" * 1334)  # 4,002 bytes
    assert [f.code for f in findings] == ["too_long"]
    assert check_voice("啦" * 1333) == []


def test_more_than_nine_attachments_is_an_error():
    assert [f.code for f in check_voice("", attachments=10)] == ["too_many_attachments"]
    assert check_voice("", attachments=9) == []


def test_a_persona_without_markers_gets_no_sentence_warnings():
    assert voice_check(None, "欢迎光临。") == []


def test_a_sentence_of_only_a_variable_or_emoji_is_not_flagged():
    assert check_voice("{customer_nickname}，\n🎉🎉\n", **VOICE) == []


@given(st.text())
def test_utf8_bytes_is_the_encoded_length(text):
    assert utf8_bytes(text) == len(text.encode("utf-8", errors="surrogatepass"))


@given(st.text(alphabet=st.sampled_from(list("你好呀。！？!?;；\n~～ ab{}"))))
def test_sentences_keep_every_character_but_whitespace_in_order(text):
    sentences = split_sentences(text)
    assert "".join(sentences).replace(" ", "") == "".join(text.split()).replace("\n", "")
    for sentence in sentences:
        inner = sentence.rstrip(SENTENCE_ENDS)
        assert not any(mark in inner for mark in SENTENCE_ENDS)
