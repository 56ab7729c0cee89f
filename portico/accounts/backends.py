"""The authentication backend: Django's ModelBackend, with the account of a signed-in session
read by SQL built once (every signed-in request reads it; see portico.core.prepared)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import router

from portico.accounts.models import User
from portico.core import prepared

PATH = "portico.accounts.backends.AccountBackend"


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        """The active account with this primary key, or None, as ModelBackend answers."""
        user = prepared.fetch_one(User, "id", user_id, using=router.db_for_read(User))
        return user if user is not None and self.user_can_authenticate(user) else None
