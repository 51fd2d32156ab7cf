"""Secrets at rest (corp secrets, callback tokens, AES keys): Fernet-encrypted with the
instance's encryption keys. The first key encrypts; all keys decrypt, so keys can rotate."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.SIYU_ENCRYPTION_KEYS])


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with this instance's encryption keys") from exc
