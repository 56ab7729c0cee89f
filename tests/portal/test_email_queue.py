"""SPEC §3.3, §5.3: one enrollment email per invitation, and none for an invitation that died."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.services import email_deliver
from portico.portal import registration
from portico.portal import services as portal
from portico.portal.emails import registration_url
from portico.portal.models import Invitation
from tests.factories import PASSWORD, invite


def email_for(invitation: Invitation) -> OutboundEmail:
    return OutboundEmail.objects.get(kind=portal.ENROLLMENT_EMAIL, subject_id=invitation.public_id)


def test_refused_invite_queues_no_email(non_inviter, patient, send_email):
    with send_email, pytest.raises(PermissionDenied):
        invite(non_inviter, patient)

    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_invite_with_bad_email_queues_no_email(admin, patient, send_email):
    with send_email, pytest.raises(ValidationError):
        invite(admin, patient, email="not-an-email")

    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_invite_queues_exactly_one_enrollment_email(admin, patient, send_email):
    with send_email:
        invitation = invite(admin, patient)

    stored = email_for(invitation)
    assert OutboundEmail.objects.count() == 1
    assert stored.to_address == patient.email
    assert (stored.practice, stored.patient) == (patient.practice, patient)
    assert stored.state == EmailState.SENT
    assert len(mail.outbox) == 1
    assert registration_url(invitation) in mail.outbox[0].body


def test_email_waits_for_the_transaction_to_commit(
    admin, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation = invite(admin, patient)

    assert email_for(invitation).state == EmailState.QUEUED
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_resend_queues_exactly_one_more_email_with_the_new_link(
    admin, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(admin, patient)
    with django_capture_on_commit_callbacks(execute=True):
        second = portal.invitation_resend(admin, patient=patient, email="robin.new@example.test")

    assert OutboundEmail.objects.count() == 2
    assert email_for(second).state == EmailState.SENT
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["robin.new@example.test"]
    assert registration_url(second) in mail.outbox[1].body
    assert registration_url(first) not in mail.outbox[1].body


def test_email_of_invitation_superseded_before_delivery_is_skipped(admin, patient, send_email):
    # Both transactions commit before the worker gets to the first email.
    with send_email:
        first = invite(admin, patient)
        second = portal.invitation_resend(admin, patient=patient)

    assert email_for(first).state == EmailState.SKIPPED
    assert email_for(first).sent_at is None
    assert email_for(second).state == EmailState.SENT
    assert len(mail.outbox) == 1
    assert registration_url(second) in mail.outbox[0].body
    assert registration_url(first) not in mail.outbox[0].body


def test_email_of_invite_cancelled_before_delivery_is_not_sent(admin, patient, send_email):
    with send_email:
        invitation = invite(admin, patient)
        portal.invitation_cancel(admin, patient=patient)

    assert email_for(invitation).state == EmailState.SKIPPED
    assert mail.outbox == []


def test_email_of_invitation_expired_before_delivery_is_not_sent(
    admin, patient, django_capture_on_commit_callbacks, time_machine
):
    with django_capture_on_commit_callbacks(execute=False):
        invitation = invite(admin, patient)
    time_machine.move_to(invitation.expires_at)

    assert email_deliver(email_id=email_for(invitation).pk) == EmailState.SKIPPED
    assert mail.outbox == []


def test_delivering_the_same_email_twice_sends_it_once(admin, patient, send_email):
    with send_email:
        invitation = invite(admin, patient)

    assert email_deliver(email_id=email_for(invitation).pk) == "not-queued"
    assert len(mail.outbox) == 1


def test_cancel_sends_no_email(admin, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin, patient)
    with django_capture_on_commit_callbacks(execute=True):
        portal.invitation_cancel(admin, patient=patient)

    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_revoke_sends_no_email(admin, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(admin, patient)
    registration.registration_create_account(
        invitation_id=str(invitation.public_id), email=patient.email, password=PASSWORD
    )
    with django_capture_on_commit_callbacks(execute=True):
        portal.access_revoke(admin, patient=patient)

    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1
