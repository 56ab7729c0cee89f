"""Secrets of a sent record link: 128 random bits, the token derived with the secret key
(the same construction as registration links, under its own salt)."""

from __future__ import annotations

from portico.portal import tokens as _portal_tokens

_SALT = "portico.records.shared-link"

new_link_nonce = _portal_tokens.new_link_nonce
hash_token = _portal_tokens.hash_token


def link_token(nonce: str) -> str:
    return _portal_tokens.link_token(nonce, salt=_SALT)
