"""The messaging emails (SPEC §7.4): "there is a new message" and "your record has something
new", each with a link to the portal or the inbox and nothing else. Never the text, the
subject, who wrote it, the patient's name, an attachment's name or any health data.

Patient emails are written in the patient's language (chosen when they were queued, see
messaging.services._notify and messaging.record_updates); the practice's are English. Each is
rendered at send time and skipped (None) when it no longer applies: the patient's portal
access is no longer active, the thread is gone, the provider no longer works at the practice,
the patient turned record-update emails off.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from portico.messaging.models import Thread
from portico.messaging.record_updates import record_update_emails_enabled
from portico.messaging.selectors import thread_readers
from portico.notifications.rendering import RenderedEmail, from_templates
from portico.portal.models import AccessState, PortalAccess
from portico.practices.models import Membership


def _url(name: str, **kwargs) -> str:
    return settings.PORTICO_BASE_URL + reverse(name, kwargs=kwargs)


def render_new_for_patient(email) -> RenderedEmail | None:
    """The practice wrote in one of the patient's threads: a link to the thread in the portal
    for the reader it was queued for (the patient, or a representative), while they may still
    read it."""
    thread = (
        Thread.objects.select_related("practice", "patient")
        .filter(public_id=email.subject_id)
        .first()
    )
    if thread is None:
        return None
    # The reader it was queued for, if they may still read the thread (the patient's access,
    # or a representative's, may have ended since).
    to = email.to_address.lower()
    access = next((a for a in thread_readers(thread) if a.account.email.lower() == to), None)
    if access is None:
        return None
    practice = thread.practice
    context = {
        "practice": practice,
        "url": _url(
            "messaging:patient_thread", access_id=access.public_id, thread_id=thread.public_id
        ),
    }
    return from_templates(
        gettext("You have a new message in your patient portal"),
        "messaging/email/patient_new_message",
        context,
        sender=practice.name,
    )


def render_new_for_practice(email) -> RenderedEmail | None:
    """A patient wrote to the practice: a link to the thread in the inbox, while the person
    it was sent to still works at the practice."""
    thread = Thread.objects.select_related("practice").filter(public_id=email.subject_id).first()
    if thread is None:
        return None
    works_there = Membership.objects.filter(
        practice=thread.practice, is_active=True, user__email__iexact=email.to_address
    ).exists()
    if not works_there:
        return None
    context = {
        "practice": thread.practice,
        "url": _url("messaging:staff_thread", thread_id=thread.public_id),
    }
    return from_templates(
        gettext("New patient message in Portico"),
        "messaging/email/practice_new_message",
        context,
        sender="Portico",
    )


def render_record_update(email) -> RenderedEmail | None:
    """The practice newly shared results or a visit summary: a link to the record, while the
    access is active and the patient still wants these emails."""
    access = (
        PortalAccess.objects.select_related("practice", "patient")
        .filter(public_id=email.subject_id)
        .first()
    )
    if access is None or access.state != AccessState.ACTIVE or access.account_id is None:
        return None
    if not record_update_emails_enabled(access.patient):
        return None
    practice = access.practice
    context = {
        "practice": practice,
        "url": _url("records:record", access_id=access.public_id),
    }
    return from_templates(
        gettext("There is something new in your health record"),
        "messaging/email/record_update",
        context,
        sender=practice.name,
    )
