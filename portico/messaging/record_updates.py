"""The email that tells an enrolled patient their practice newly shared results or a visit
summary with them (no content; at most one a day; the patient may turn it off)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from portico.messaging.models import RecordUpdateEmails
from portico.notifications.services import email_enqueue
from portico.portal.selectors import enrolled_access

RECORD_UPDATE_EMAIL = "messaging.record_update"
AT_MOST_EVERY = dt.timedelta(days=1)


def record_shared(sender, *, patient, what: str, **kwargs) -> None:
    """charts.signals.record_shared: queue the email once the sharing commits."""
    patient_id = patient.pk
    transaction.on_commit(lambda: record_update_notify(patient_id))


@transaction.atomic
def record_update_notify(patient_id: int, now: dt.datetime | None = None) -> bool:
    """Queue the "your record has something new" email to the chart's enrolled account, unless
    the patient turned these emails off or one was queued in the last day; True if queued."""
    now = now or timezone.now()
    access = enrolled_access(patient_id)
    if access is None:
        return False
    setting, _created = RecordUpdateEmails.objects.select_for_update().get_or_create(
        patient_id=patient_id
    )
    if not setting.enabled:
        return False
    if setting.last_queued_at is not None and now - setting.last_queued_at < AT_MOST_EVERY:
        return False
    setting.last_queued_at = now
    setting.save(update_fields=["last_queued_at"])
    email_enqueue(
        kind=RECORD_UPDATE_EMAIL,
        subject_id=access.public_id,
        to_address=access.account.email,
        practice=access.practice,
        patient=access.patient,
        language=access.account.language,
    )
    return True


def record_update_emails_enabled(patient) -> bool:
    setting = RecordUpdateEmails.objects.filter(patient=patient).first()
    return setting is None or setting.enabled
