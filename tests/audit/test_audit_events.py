"""SPEC §3.9, DESIGN "Audit": every transition is an append-only event saying who, where, what."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portico.audit import context
from portico.audit.models import AuditEvent
from portico.audit.services import audit_record
from portico.portal import registration, tokens
from portico.portal import services as portal
from tests.factories import PASSWORD, enroll, invite, make_patient, sign_in


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def wrong_code(invitation) -> str:
    return "".join("A" if ch != "A" else "B" for ch in invitation.access_code)


def verify_wrong(invitation) -> None:
    with pytest.raises(registration.RegistrationError):
        registration.registration_verify(
            token=tokens.link_token(invitation.link_nonce),
            date_of_birth=invitation.patient.date_of_birth,
            access_code=wrong_code(invitation),
        )


# ---------------------------------------------------------------------------
# Append-only


@pytest.fixture
def event(admin, practice, patient):
    return audit_record(admin, action="chart.view", practice=practice, patient=patient)


def test_audit_event_cannot_be_changed(event):
    event.action = "chart.update"
    with pytest.raises(RuntimeError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "chart.view"


def test_audit_event_cannot_be_deleted(event):
    with pytest.raises(RuntimeError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_events_cannot_be_changed_in_bulk(event):
    with pytest.raises(RuntimeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="chart.update")
    with pytest.raises(RuntimeError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "chart.view"


def test_audit_events_cannot_be_deleted_in_bulk(event):
    with pytest.raises(RuntimeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_event_keeps_where_the_request_came_from(admin, practice, patient):
    token = context.set_current(context.RequestContext("203.0.113.9", "Firefox/140"))
    try:
        event = audit_record(admin, action="chart.view", practice=practice, patient=patient)
    finally:
        context.reset(token)

    event.refresh_from_db()
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", "Firefox/140")
    assert event.actor == admin
    assert event.actor_label == "Ada Admin"
    assert event.created_at is not None


# ---------------------------------------------------------------------------
# Every transition writes its event


@pytest.mark.parametrize(
    ("action", "do"),
    [
        ("portal.invite", lambda staff, patient: invite(staff, patient)),
        (
            "portal.resend",
            lambda staff, patient: (
                invite(staff, patient),
                portal.invitation_resend(staff, patient=patient),
            ),
        ),
        (
            "portal.cancel",
            lambda staff, patient: (
                invite(staff, patient),
                portal.invitation_cancel(staff, patient=patient),
            ),
        ),
        (
            "portal.revoke",
            lambda staff, patient: (
                enroll(staff, patient),
                portal.access_revoke(staff, patient=patient),
            ),
        ),
    ],
)
def test_staff_transition_is_audited_with_actor_practice_and_patient(
    action, do, staff, patient, practice
):
    do(staff, patient)

    [event] = events(action)
    assert event.actor == staff
    assert event.actor_label == "Stan Staff"
    assert event.practice == practice
    assert event.patient == patient


def test_invite_event_names_the_invitation_and_the_state_it_came_from(staff, patient):
    invitation = invite(staff, patient)

    [event] = events("portal.invite")
    assert event.details == {"invitation": str(invitation.public_id), "from_state": "not_invited"}


def test_refused_transition_is_not_audited(non_inviter, admin, patient):
    with pytest.raises(PermissionDenied):
        invite(non_inviter, patient)
    with pytest.raises(portal.InvalidTransition):
        portal.invitation_cancel(admin, patient=patient)

    assert not AuditEvent.objects.filter(action__startswith="portal.").exists()


def test_registration_is_audited_with_the_new_account_as_actor(admin, patient, practice):
    account = enroll(admin, patient)

    [event] = events("portal.register")
    assert event.actor == account
    assert (event.practice, event.patient) == (practice, patient)


def test_wrong_code_is_audited_with_the_attempt_number(admin, patient, practice):
    invitation = invite(admin, patient)

    verify_wrong(invitation)
    verify_wrong(invitation)

    failed = sorted(events("portal.verify_failed"), key=lambda e: e.pk)
    assert [e.details["attempt"] for e in failed] == [1, 2]
    for event in failed:
        assert event.actor is None
        assert event.actor_label == "registration page"
        assert (event.practice, event.patient) == (practice, patient)


def test_lock_is_audited_once(admin, patient, practice):
    invitation = invite(admin, patient)

    for _ in range(5):
        verify_wrong(invitation)

    [locked] = events("portal.invitation_locked")
    assert locked.details == {"invitation": str(invitation.public_id)}
    assert (locked.practice, locked.patient) == (practice, patient)
    assert len(events("portal.verify_failed")) == 4


def test_audit_details_carry_no_names_or_emails(admin, patient, practice):
    """Run every transition, then look for PHI in what the events' details say."""
    first = invite(admin, patient, email="robin.private@example.test")
    verify_wrong(first)
    portal.invitation_cancel(admin, patient=patient)
    invite(admin, patient)
    second = portal.invitation_resend(admin, patient=patient)
    registration.registration_create_account(
        invitation_id=str(second.public_id), email="robin.account@example.test", password=PASSWORD
    )
    portal.access_revoke(admin, patient=patient)

    patient.refresh_from_db()
    secrets_of_the_patient = {
        patient.legal_first_name,
        patient.legal_last_name,
        patient.email,
        "robin.private@example.test",
        "robin.account@example.test",
        "example.test",
        patient.mobile_phone,
        patient.date_of_birth.isoformat(),
        first.access_code,
        second.access_code,
    }
    details = [json.dumps(e.details) for e in AuditEvent.objects.filter(patient=patient)]
    assert len(details) >= 8
    for text in details:
        for secret in secrets_of_the_patient:
            assert secret not in text


@pytest.mark.parametrize(
    ("hops", "remote_addr", "forwarded_for", "recorded"),
    [
        # Behind one trusted proxy: the address it saw (the left entry can be spoofed).
        (1, "10.0.0.2", "198.51.100.7, 203.0.113.50", "203.0.113.50"),
        # No trusted proxy: the connecting address; anyone can send X-Forwarded-For.
        (0, "192.0.2.10", "203.0.113.50", "192.0.2.10"),
        # A forwarded value that is no address is stored as unknown, and the page still works.
        (1, "10.0.0.2", "not-an-address", None),
    ],
    ids=["trusted-proxy", "no-proxy", "not-an-address"],
)
def test_the_audit_log_records_the_clients_address_by_the_rate_limits_rule(
    client, settings, staff, patient, hops, remote_addr, forwarded_for, recorded
):
    settings.PORTICO_TRUSTED_PROXY_HOPS = hops
    sign_in(client, staff)
    response = client.get(
        reverse("charts:chart", args=[patient.public_id]),
        REMOTE_ADDR=remote_addr,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="chart.view").latest("id")
    assert event.ip_address == recorded


def test_a_batch_of_events_is_written_with_the_batch_actor_and_each_patients_details(
    admin, practice, patient
):
    from portico.audit.services import EventOf, audit_record_many

    other = make_patient(practice)
    token = context.set_current(context.RequestContext("203.0.113.9", "Firefox/140"))
    try:
        written = audit_record_many(
            admin,
            action="portal.invite",
            practice=practice,
            events=[EventOf(patient.pk, {"n": 1}), EventOf(other.pk, {"n": 2})],
        )
    finally:
        context.reset(token)

    assert written == 2
    rows = list(AuditEvent.objects.filter(action="portal.invite").order_by("details__n"))
    assert [(e.patient, e.details["n"]) for e in rows] == [(patient, 1), (other, 2)]
    assert {(e.actor, e.actor_label, e.practice, e.ip_address) for e in rows} == {
        (admin, "Ada Admin", practice, "203.0.113.9")
    }


@pytest.mark.django_db(transaction=True)
def test_a_reads_event_alone_commits_without_waiting_for_the_disk_on_postgresql(admin, patient):
    """DESIGN: only the transaction that writes nothing but a read's audit event may skip the
    wait for the write-ahead log; the event of a change commits with the change, as usual."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from portico.audit.services import audit_read

    with CaptureQueriesContext(connection) as alone:
        audit_read(admin, action="chart.view", patient=patient, details={"page": "chart"})
    with CaptureQueriesContext(connection) as inside, transaction.atomic():
        audit_read(admin, action="chart.view", patient=patient, details={"page": "chart"})
    with CaptureQueriesContext(connection) as change:
        audit_record(admin, action="chart.update", practice=patient.practice, patient=patient)

    def relaxed(queries) -> bool:
        return any("synchronous_commit" in q["sql"] for q in queries.captured_queries)

    assert relaxed(alone) == (connection.vendor == "postgresql")
    assert not relaxed(inside)
    assert not relaxed(change)
    assert AuditEvent.objects.filter(action="chart.view", patient=patient).count() == 2
