"""Ending every session of an account (password reset, account lock, portal access revoked).

Each session stores the account's session hash (User.get_session_auth_hash) at sign-in, and
Django's AuthenticationMiddleware signs a session out when the stored hash no longer matches.
The hash includes User.session_generation, so raising the generation by one ends every session
of the account at once, whatever the session backend (database rows on SQLite or PostgreSQL,
cache, signed cookies) and without scanning the session table.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db.models import F

from portico.audit.services import audit_record


def sessions_end_all(user, *, keep_session_key: str | None = None, actor=None, reason: str = ""):
    """End every session of `user`, except the session `keep_session_key` if given.

    In a request, to keep the caller's own session, call
    `django.contrib.auth.update_session_auth_hash(request, user)` afterwards instead (it also
    gives the session a new key). Audited as account.sessions_ended (actor: `actor`, else
    the account itself).
    """
    type(user).objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    if keep_session_key:
        _keep(user, keep_session_key)
    audit_record(
        actor if actor is not None else user,
        action="account.sessions_ended",
        details={
            "account": str(user.public_id),
            "reason": reason,
            "kept_one": bool(keep_session_key),
        },
    )


def _keep(user, session_key: str) -> None:
    """Give one session the new hash so that it stays signed in."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if str(store.get(SESSION_KEY)) == str(user.pk):
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
