"""The session engine: Django's database sessions, with the row read by SQL built once.

Every signed-in request loads its session; see portico.core.prepared for why that read is not an
ORM query. Saving, creating and deleting sessions are Django's own. The class keeps Django's
name, so the signing salt and every existing session stay valid.
"""

from __future__ import annotations

import copy

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

    def decode(self, session_data):
        """Django's decode (signature check, then JSON), remembered per process by the signed
        text: a session is read on every request and changes only now and then, and checking
        its signature and parsing it cost more than reading its row. Only text that decoded
        to something is kept, so altered text is still checked, and rejected, every time."""
        decoded = _decoded.get(session_data)
        if decoded is None:
            decoded = super().decode(session_data)
            if not decoded:
                return decoded
            if len(_decoded) >= _DECODED_LIMIT:
                _decoded.clear()
            _decoded[session_data] = decoded
        # The caller may change the session: give it its own copy of anything mutable.
        return {
            key: value
            if isinstance(value, str | int | float | bool | None)
            else copy.deepcopy(value)
            for key, value in decoded.items()
        }


_DECODED_LIMIT = 2048
_decoded: dict[str, dict] = {}  # signed session text -> what it decoded to
