"""The session engine: Django's database sessions, with the row read by SQL built once.

Every signed-in request loads its session; see portico.core.prepared for why that read is not an
ORM query. Saving, creating and deleting sessions are Django's own. The class keeps Django's
name, so the signing salt and every existing session stay valid.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import router
from django.utils import timezone

from portico.core import prepared


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """The stored session if its key exists and it has not expired, as Django's does."""
        model = self.model
        session = prepared.fetch_one(
            model, "session_key", self.session_key, using=router.db_for_read(model)
        )
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
