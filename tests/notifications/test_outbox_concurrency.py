"""Two senders draining the outbox at the same time each take different messages (PostgreSQL:
SELECT ... FOR UPDATE SKIP LOCKED; SQLite runs one writer at a time, so nothing races there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from portico.notifications import services
from portico.notifications.models import EmailState, OutboundEmail
from tests.factories import invite, make_patient

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one writer at a time, so nothing races",
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_drains_send_each_message_once(practice, admin, smtp, settings):
    settings.PORTICO_EMAIL_BATCH_SIZE = 5
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # no worker
    for _ in range(40):
        invite(admin, make_patient(practice))
    assert OutboundEmail.objects.filter(state=EmailState.QUEUED).count() == 40
    barrier = threading.Barrier(2)
    handled: list[int] = []
    errors: list = []

    def drain():
        try:
            barrier.wait(timeout=10)
            handled.append(services.outbox_drain())
        except Exception as exc:  # noqa: BLE001 (the test asserts there were none)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(handled) == 40
    ids = [m["message"]["Message-ID"] for m in smtp.messages]
    assert len(ids) == len(set(ids)) == 40
    assert set(OutboundEmail.objects.values_list("state", "attempts")) == {(EmailState.SENT, 1)}
