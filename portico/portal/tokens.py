"""Secrets of an invitation: the access code and the registration link's token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.utils.crypto import salted_hmac

# No look-alikes: no 0/O, 1/I/L. 31 symbols, 8 of them: about 40 bits,
# with at most five tries per invitation.
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 8
_LINK_SALT = "portico.portal.registration-link"
_SECURITY_CODE_SALT = "portico.portal.security-code"
SECURITY_CODE_LENGTH = 6


def new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def normalize_access_code(raw: str) -> str:
    """Accept codes as people type them: any case, with spaces or dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def access_code_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), normalize_access_code(given).encode())


def new_link_nonce() -> str:
    """128 random bits; the link token is derived from it with the secret key."""
    return secrets.token_hex(16)


def link_token(nonce: str, *, salt: str = _LINK_SALT) -> str:
    """The registration link's token: HMAC-SHA256 of the nonce under SECRET_KEY (256 bits).
    Other kinds of links pass their own salt."""
    digest = salted_hmac(salt, nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def security_code(nonce: str) -> str:
    """The 6-digit code texted for a SecurityCode row: derived from its nonce under SECRET_KEY."""
    digest = salted_hmac(_SECURITY_CODE_SALT, nonce, algorithm="sha256").digest()
    number = int.from_bytes(digest[:8], "big") % 10**SECURITY_CODE_LENGTH
    return str(number).zfill(SECURITY_CODE_LENGTH)


def normalize_security_code(raw: str) -> str:
    """Digits only, as people type them ("123 456", "123-456")."""
    return "".join(ch for ch in (raw or "") if ch in "0123456789")


def security_code_matches(nonce: str, given: str) -> bool:
    expected = security_code(nonce).encode()
    return hmac.compare_digest(expected, normalize_security_code(given).encode())
