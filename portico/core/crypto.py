"""Encryption at rest of the few secrets the server must read back (authenticator-app secrets).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under keys listed in
PORTICO_FIELD_ENCRYPTION_KEYS, newest first. Each entry is any secret string; the Fernet key is
derived from it with HKDF-SHA256, so operators never handle Fernet's own key format. The first
key encrypts; every listed key decrypts (MultiFernet), so a new key can be put first and the
stored values re-encrypted afterwards (`portico rotate_encryption_keys`). Unset, the keys come
from SECRET_KEY and then SECRET_KEY_FALLBACKS.

This module is the one place that knows the keys; callers hand it text and get text back.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Fixed labels of the derivation: changing either makes every stored value unreadable.
_HKDF_SALT = b"portico.core.crypto"
_HKDF_INFO = b"fernet-key-v1"


class DecryptionError(Exception):
    """No listed key opens the value: it was altered, cut short, or encrypted under a key that
    is no longer listed. Callers fail closed."""


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@functools.lru_cache(maxsize=8)
def _fernets(secrets: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    """The newest key's Fernet alone, and all of them together (cached per list of keys)."""
    fernets = [_derive(secret) for secret in secrets]
    return fernets[0], MultiFernet(fernets)


def _keys() -> tuple[Fernet, MultiFernet]:
    secrets = tuple(settings.PORTICO_FIELD_ENCRYPTION_KEYS) or (
        settings.SECRET_KEY,
        *settings.SECRET_KEY_FALLBACKS,
    )
    return _fernets(secrets)


def encrypt(value: str) -> str:
    """`value` encrypted under the newest key, as ASCII text for a database column."""
    _newest, every = _keys()
    return every.encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text that `encrypt` was given, opened with any listed key."""
    _newest, every = _keys()
    try:
        return every.decrypt((token or "").encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The stored value cannot be decrypted with any listed key.") from exc


def is_current(token: str) -> bool:
    """Is the value encrypted under the newest key (nothing to re-encrypt)?"""
    newest, _every = _keys()
    try:
        newest.decrypt((token or "").encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def reencrypt(token: str) -> str:
    """The same value encrypted under the newest key (raises DecryptionError if unreadable)."""
    _newest, every = _keys()
    try:
        return every.rotate((token or "").encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The stored value cannot be decrypted with any listed key.") from exc
