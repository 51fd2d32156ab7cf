"""The voice check (人设语气检查): does a message sound like its persona and fit WeCom?

Pure functions over text, so the template form checks as staff type and the save enforces the
same rules. A sentence with none of the persona's tone markers or catchphrases is a warning
(a persona speaks in its voice; a plain sentence now and then is a choice, not a mistake);
a forbidden word, text over WeCom's 4,000 bytes and more than 9 attachments are errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

MAX_TEXT_BYTES = 4000  # WECOM.md §5: text <= 4000 bytes (UTF-8)
MAX_ATTACHMENTS = 9  # WECOM.md §5: attachments <= 9
SENTENCE_ENDS = "。！？!?；;～~\n"  # a chat's ～ ends a clause as often as a full stop
_SENTENCE = re.compile(rf"[^{SENTENCE_ENDS}]*[{SENTENCE_ENDS[:-1]}]+|[^{SENTENCE_ENDS}]+")
_VARIABLE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_WORDY = re.compile(r"[^\W_]")  # a letter, digit or CJK character: something was said

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR blocks a save; WARNING is shown
    code: str  # no_tone | forbidden | too_long | too_many_attachments
    message: str
    sentence: str = ""
    word: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


def utf8_bytes(text: str) -> int:
    """What WeCom counts: the text's length in UTF-8 bytes (a Chinese character is 3, most emoji 4)."""
    return len(text.encode("utf-8", errors="surrogatepass"))


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, each with its closing punctuation (so a closing `～` counts as
    that sentence's tone marker), stripped; a line break ends a sentence too."""
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]


def _fold(text: str) -> str:
    return text.replace("～", "~").casefold()


def _says_something(sentence: str) -> bool:
    return bool(_WORDY.search(_VARIABLE.sub("", sentence)))


def check_voice(text: str, *, tone_markers: Iterable[str] = (), catchphrases: Iterable[str] = (),
                forbidden_words: Iterable[str] = (), attachments: int = 0) -> list[Finding]:
    """Every finding, errors first. Sentence warnings only when the persona has tone markers
    or catchphrases to look for."""
    findings: list[Finding] = []
    folded = _fold(text or "")
    for word in dict.fromkeys(w.strip() for w in forbidden_words if w and w.strip()):
        if _fold(word) in folded:
            findings.append(Finding(ERROR, "forbidden", _("“%(word)s” is a word this persona never says.")
                                    % {"word": word}, word=word))
    size = utf8_bytes(text or "")
    if size > MAX_TEXT_BYTES:
        findings.append(Finding(ERROR, "too_long", _("The text is %(n)s bytes; WeCom takes at most %(max)s.")
                                % {"n": f"{size:,}", "max": f"{MAX_TEXT_BYTES:,}"}))
    if attachments > MAX_ATTACHMENTS:
        findings.append(Finding(ERROR, "too_many_attachments",
                                _("%(n)s attachments; WeCom sends at most %(max)s with one message.")
                                % {"n": attachments, "max": MAX_ATTACHMENTS}))
    voice = [_fold(m) for m in (*tone_markers, *catchphrases) if m and m.strip()]
    if voice:
        for sentence in split_sentences(text or ""):
            if _says_something(sentence) and not any(m.strip() in _fold(sentence) for m in voice):
                findings.append(Finding(WARNING, "no_tone", _("This sentence has none of the persona's tone "
                                                              "markers or catchphrases."), sentence=sentence))
    return findings


def voice_check(persona: Any, text: str, attachments: int = 0) -> list[Finding]:
    """`check_voice` against a persona (`ip.Persona`, or None for no persona: limits only)."""
    return check_voice(
        text, attachments=attachments,
        tone_markers=getattr(persona, "tone_markers", None) or (),
        catchphrases=getattr(persona, "catchphrases", None) or (),
        forbidden_words=getattr(persona, "forbidden_words", None) or (),
    )
