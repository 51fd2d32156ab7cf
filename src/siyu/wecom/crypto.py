"""WeCom callback crypto (企业微信回调加解密): signatures, AES envelopes and XML parsing.

Pure and Django-free, so the web view, the worker and the WeCom simulator (the "twin") share it.
The protocol is summarised in WECOM.md §2 (WeCom docs 91144 and 96238):

- signature = sha1 of the sorted concatenation of token, timestamp, nonce and the encrypted text;
- aes_key = base64(EncodingAESKey + "="); AES-256-CBC with IV = aes_key[:16];
  PKCS#7 padding to a multiple of 32 bytes;
- plaintext = random(16) + uint32_be(len(msg)) + msg + receive_id, sent as base64.

There is no MAC over the ciphertext: integrity comes only from the signature, so callers must
verify it (as `verify_url` and `decrypt_event` do) before trusting a decrypted message.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import re
import secrets
import struct
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

__all__ = [
    "BLOCK_SIZE",
    "CallbackCipher",
    "CallbackCryptoError",
    "Reason",
    "parse_xml",
    "signature",
    "verify_signature",
]

# WECOM.md §2: WeCom pads to 32-byte blocks, not AES's 16, so a standard PKCS7(128) is wrong.
BLOCK_SIZE = 32
RANDOM_PREFIX_BYTES = 16
LENGTH_FIELD_BYTES = 4
HEADER_BYTES = RANDOM_PREFIX_BYTES + LENGTH_FIELD_BYTES
AES_BLOCK_BYTES = 16
ENCODING_AES_KEY_CHARS = 43
DEFAULT_MAX_BODY_BYTES = 64 * 1024

_TOKEN_RE = re.compile(r"[A-Za-z0-9]{1,32}")


class Reason(enum.StrEnum):
    """Why a callback was refused; stable codes for logs and metrics."""

    BAD_SIGNATURE = "bad_signature"
    BAD_KEY = "bad_key"  # the callback settings (EncodingAESKey or Token) are invalid
    UNDECRYPTABLE = "undecryptable"
    WRONG_RECEIVE_ID = "wrong_receive_id"
    MALFORMED_XML = "malformed_xml"
    TOO_LARGE = "too_large"


class CallbackCryptoError(Exception):
    """A callback could not be verified, decrypted or parsed; `reason` says which check failed."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"CallbackCryptoError({self.reason.name}, {self.message!r})"


# --- signatures ----------------------------------------------------------------------------


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """The msg_signature WeCom sends: sha1 over the four strings sorted and joined (WECOM.md §2)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    # SHA-1 is mandated by the protocol; we cannot choose another hash.
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324


def verify_signature(
    token: str, timestamp: str, nonce: str, encrypted: str, msg_signature: str
) -> None:
    """Raise CallbackCryptoError(BAD_SIGNATURE) unless msg_signature matches, in constant time."""
    expected = signature(token, timestamp, nonce, encrypted).encode("ascii")
    # Compare bytes: compare_digest raises TypeError on non-ASCII str, and the input is untrusted.
    given = msg_signature.encode("utf-8", errors="replace")
    if not hmac.compare_digest(expected, given):
        raise CallbackCryptoError(Reason.BAD_SIGNATURE, "msg_signature does not match the message")


# --- XML -----------------------------------------------------------------------------------


def parse_xml(data: bytes, max_bytes: int) -> dict[str, str]:
    """Parse a WeCom XML document into {child tag: text} for the root's direct children.

    Only direct children of the root are read; a child that has children of its own maps to its
    own leading text (usually ""). If a tag repeats, the first occurrence wins. Text is kept
    exactly as sent (CDATA unwrapped, no stripping), because signatures cover it byte for byte.

    Any DOCTYPE is refused, and with it every entity trick (billion laughs, external entities):
    WeCom never sends one (WECOM.md §2).
    """
    if len(data) > max_bytes:
        raise CallbackCryptoError(
            Reason.TOO_LARGE, f"XML body is {len(data)} bytes; the limit is {max_bytes}"
        )
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CallbackCryptoError(
            Reason.MALFORMED_XML, f"XML with a DTD or entities is refused ({type(exc).__name__})"
        ) from exc
    except (ParseError, ValueError, LookupError) as exc:
        # LookupError: an unknown encoding in the XML declaration.
        raise CallbackCryptoError(Reason.MALFORMED_XML, f"XML is not well-formed: {exc}") from exc
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str):
            fields.setdefault(child.tag, child.text or "")
    return fields


def _cdata(text: str) -> str:
    if "]]>" in text:
        raise ValueError(f"cannot wrap {text!r} in CDATA")
    return f"<![CDATA[{text}]]>"


# --- the cipher ----------------------------------------------------------------------------


def _decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != ENCODING_AES_KEY_CHARS:
        raise CallbackCryptoError(
            Reason.BAD_KEY,
            f"EncodingAESKey must be exactly {ENCODING_AES_KEY_CHARS} characters, "
            f"got {len(encoding_aes_key)}",
        )
    try:
        # WECOM.md §2: the 43 characters are base64 without its final "=".
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CallbackCryptoError(Reason.BAD_KEY, "EncodingAESKey is not valid base64") from exc
    if len(key) != 32:  # pragma: no cover - 43 valid base64 chars always give 32 bytes
        raise CallbackCryptoError(Reason.BAD_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key


class CallbackCipher:
    """One app's callback settings: Token, EncodingAESKey and the expected receive_id.

    receive_id is the corp_id for in-house apps (WECOM.md §2); a message carrying another
    receive_id was meant for someone else and is refused.
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise CallbackCryptoError(
                Reason.BAD_KEY, "Token must be 1 to 32 ASCII letters or digits"
            )
        self.token = token
        self.receive_id = receive_id
        self._key = _decode_aes_key(encoding_aes_key)
        self._iv = self._key[:AES_BLOCK_BYTES]  # WECOM.md §2: IV is the key's first 16 bytes.

    def __repr__(self) -> str:  # never print the key
        return f"CallbackCipher(receive_id={self.receive_id!r})"

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._iv))

    # -- raw envelope --

    def encrypt(self, plaintext: bytes, random_prefix: bytes | None = None) -> str:
        """base64(AES-CBC(random16 + len + msg + receive_id, padded to 32)) (WECOM.md §2).

        random_prefix exists for deterministic tests; leave it None in production.
        """
        if random_prefix is None:
            random_prefix = secrets.token_bytes(RANDOM_PREFIX_BYTES)
        if len(random_prefix) != RANDOM_PREFIX_BYTES:
            raise ValueError(f"random_prefix must be {RANDOM_PREFIX_BYTES} bytes")
        body = (
            random_prefix
            + struct.pack(">I", len(plaintext))
            + plaintext
            + self.receive_id.encode("utf-8")
        )
        pad = BLOCK_SIZE - len(body) % BLOCK_SIZE  # 1..32; a full block when already aligned
        body += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(body) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside `encrypted`, after checking padding, length field and receive_id.

        Does not check the signature: use verify_url / decrypt_event for untrusted input.
        """
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CallbackCryptoError(
                Reason.UNDECRYPTABLE, "ciphertext is not valid base64"
            ) from exc
        if not ciphertext or len(ciphertext) % AES_BLOCK_BYTES:
            raise CallbackCryptoError(
                Reason.UNDECRYPTABLE,
                f"ciphertext length {len(ciphertext)} is not a positive multiple of 16",
            )
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()

        pad = padded[-1]
        if not 1 <= pad <= BLOCK_SIZE or padded[-pad:] != bytes([pad]) * pad:
            raise CallbackCryptoError(Reason.UNDECRYPTABLE, "invalid padding after decryption")
        content = padded[:-pad]
        if len(content) < HEADER_BYTES:
            raise CallbackCryptoError(Reason.UNDECRYPTABLE, "decrypted message is too short")
        (length,) = struct.unpack(">I", content[RANDOM_PREFIX_BYTES:HEADER_BYTES])
        if length > len(content) - HEADER_BYTES:
            raise CallbackCryptoError(
                Reason.UNDECRYPTABLE, "length field points past the end of the message"
            )
        message = content[HEADER_BYTES : HEADER_BYTES + length]
        receive_id = content[HEADER_BYTES + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise CallbackCryptoError(
                Reason.WRONG_RECEIVE_ID, "message was encrypted for another receive_id"
            )
        return message

    # -- the two inbound requests --

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """Answer WeCom's URL check: the plaintext of echostr, to send back as the whole body.

        Pass the query parameters already URL-decoded (WECOM.md §2).
        """
        verify_signature(self.token, timestamp, nonce, echostr, msg_signature)
        plaintext = self.decrypt(echostr)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CallbackCryptoError(Reason.UNDECRYPTABLE, "echostr is not UTF-8 text") from exc

    def decrypt_event(
        self,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        body: bytes,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> bytes:
        """The inner XML of an event POST, after size bound, envelope parse and signature check."""
        # Size first, so a huge body costs nothing to refuse.
        if len(body) > max_body_bytes:
            raise CallbackCryptoError(
                Reason.TOO_LARGE, f"body is {len(body)} bytes; the limit is {max_body_bytes}"
            )
        encrypted = parse_xml(body, max_body_bytes).get("Encrypt", "")
        if not encrypted:
            raise CallbackCryptoError(Reason.MALFORMED_XML, "envelope has no Encrypt element")
        # WECOM.md §2: the signature covers the Encrypt text; check it before decrypting.
        verify_signature(self.token, timestamp, nonce, encrypted, msg_signature)
        return self.decrypt(encrypted)

    # -- outbound: passive replies, and the simulator's callbacks --

    def encrypt_reply(self, plaintext: bytes, timestamp: str, nonce: str) -> bytes:
        """The encrypted passive-reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce)."""
        encrypted = self.encrypt(plaintext)
        msg_signature = signature(self.token, timestamp, nonce, encrypted)
        xml = (
            f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{_cdata(msg_signature)}</MsgSignature>"
            f"<TimeStamp>{escape(timestamp)}</TimeStamp>"
            f"<Nonce>{_cdata(nonce)}</Nonce></xml>"
        )
        return xml.encode("utf-8")

    def encrypt_event(
        self, inner_xml: bytes, timestamp: str, nonce: str, agent_id: str | int
    ) -> tuple[str, bytes]:
        """(msg_signature, POST body) for a callback as WeCom would send it (WECOM.md §2)."""
        encrypted = self.encrypt(inner_xml)
        msg_signature = signature(self.token, timestamp, nonce, encrypted)
        xml = (
            f"<xml><ToUserName>{_cdata(self.receive_id)}</ToUserName>"
            f"<AgentID>{_cdata(str(agent_id))}</AgentID>"
            f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
        )
        return msg_signature, xml.encode("utf-8")
