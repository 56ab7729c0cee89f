"""SPEC §3.1–3.3, 3.6–3.8: every staff transition of a chart's portal access and every refusal.

The services are called directly; pages and the API only translate to and from them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.portal import registration, tokens
from portico.portal import selectors as portal_selectors
from portico.portal import services as portal
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationStatus,
    PortalAccess,
    allowed_actions,
)
from tests.factories import PASSWORD, enroll, invite, make_patient, make_user

# SPEC §3.2: the actions that fit each state. Written out here, not imported, so that a change
# to the service's table has to be a change to the specification too.
ALLOWED = {
    "not_invited": {"invite"},
    "invited": {"resend", "cancel"},
    "active": {"revoke"},
    "cancelled": {"invite"},
    "expired": {"invite"},
    "revoked": {"invite"},
}
ACTIONS = ("invite", "resend", "cancel", "revoke")


def act(action: str, actor, patient: Patient):
    service = {
        "invite": portal.invitation_issue,
        "resend": portal.invitation_resend,
        "cancel": portal.invitation_cancel,
        "revoke": portal.access_revoke,
    }[action]
    return service(actor, patient=patient)


def bring_to(state: str, actor, patient: Patient, time_machine) -> None:
    """Put the chart's portal access in `state` the way staff and patient would."""
    if state == "not_invited":
        return
    if state == "active":
        enroll(actor, patient)
    elif state == "revoked":
        enroll(actor, patient)
        portal.access_revoke(actor, patient=patient)
    else:
        invite(actor, patient)
        if state == "cancelled":
            portal.invitation_cancel(actor, patient=patient)
        elif state == "expired":
            time_machine.move_to(timezone.now() + dt.timedelta(days=31))
    assert state_of(patient) == state


def state_of(patient: Patient) -> str:
    access = PortalAccess.objects.filter(patient=patient).first()
    return access.effective_state if access else AccessState.NOT_INVITED


def snapshot(patient: Patient):
    """Everything a refused action must leave exactly as it was."""
    patient = Patient.objects.get(pk=patient.pk)
    return (
        list(PortalAccess.objects.filter(patient=patient).values()),
        list(Invitation.objects.filter(patient=patient).values()),
        AuditEvent.objects.filter(patient=patient).count(),
        OutboundEmail.objects.filter(patient=patient).count(),
        (patient.email, patient.mobile_phone),
    )


def token_of(invitation: Invitation) -> str:
    return tokens.link_token(invitation.link_nonce)


def verify(invitation: Invitation, patient: Patient, code: str | None = None) -> Invitation:
    return registration.registration_verify(
        token=token_of(invitation),
        date_of_birth=patient.date_of_birth,
        access_code=invitation.access_code if code is None else code,
    )


# ---------------------------------------------------------------------------
# Refusals first: permission, tenancy, wrong state, bad values


PREPARED_STATE = {
    "invite": "not_invited",
    "resend": "invited",
    "cancel": "invited",
    "revoke": "active",
}


@pytest.mark.parametrize("action", ACTIONS)
def test_member_who_may_not_invite_is_refused_and_nothing_changes(
    action, admin, non_inviter, patient, time_machine
):
    bring_to(PREPARED_STATE[action], admin, patient, time_machine)
    before = snapshot(patient)

    with pytest.raises(PermissionDenied):
        act(action, non_inviter, patient)

    assert snapshot(patient) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_staff_of_another_practice_is_refused_and_nothing_changes(
    action, admin, outsider, patient, time_machine
):
    bring_to(PREPARED_STATE[action], admin, patient, time_machine)
    before = snapshot(patient)

    with pytest.raises(PermissionDenied):
        act(action, outsider, patient)

    assert snapshot(patient) == before


def test_signed_out_user_is_refused(admin, patient):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        portal.invitation_issue(AnonymousUser(), patient=patient)
    assert not Invitation.objects.exists()


def test_member_whose_membership_ended_is_refused(staff, patient, practice):
    staff.memberships.filter(practice=practice).update(is_active=False)

    with pytest.raises(PermissionDenied):
        portal.invitation_issue(staff, patient=patient)
    assert not Invitation.objects.exists()


WRONG_STATE_CASES = [
    (state, action) for state in ALLOWED for action in ACTIONS if action not in ALLOWED[state]
]


@pytest.mark.parametrize(("state", "action"), WRONG_STATE_CASES)
def test_action_that_does_not_fit_the_state_is_refused_and_nothing_changes(
    state, action, admin, patient, time_machine
):
    bring_to(state, admin, patient, time_machine)
    before = snapshot(patient)

    with pytest.raises(portal.InvalidTransition):
        act(action, admin, patient)

    assert snapshot(patient) == before
    assert state_of(patient) == state


def test_actions_offered_for_each_state_are_exactly_the_allowed_ones(admin, practice, time_machine):
    for state, expected in ALLOWED.items():
        patient = make_patient(practice)
        bring_to(state, admin, patient, time_machine)
        access = PortalAccess.objects.filter(patient=patient).first()
        assert set(allowed_actions(access)) == expected, state


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "An email address is needed to send the enrollment email."),
        ("not-an-email", "Enter a valid email address."),
        ("robin@", "Enter a valid email address."),
    ],
)
def test_invite_without_a_valid_email_is_refused_and_nothing_is_created(
    email, message, admin, practice
):
    patient = make_patient(practice, email="")
    before = snapshot(patient)

    with pytest.raises(ValidationError) as caught:
        portal.invitation_issue(admin, patient=patient, email=email)

    assert caught.value.message_dict["email"] == [message]
    assert snapshot(patient) == before
    assert not PortalAccess.objects.filter(patient=patient).exists()


def test_invite_of_a_chart_without_email_is_refused(admin, practice):
    patient = make_patient(practice, email="")

    with pytest.raises(ValidationError) as caught:
        portal.invitation_issue(admin, patient=patient)

    assert "email" in caught.value.message_dict
    assert not Invitation.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("phone", ["123", "not a phone", "+1 555 000"])
def test_invite_with_an_invalid_phone_is_refused_and_nothing_is_created(phone, admin, patient):
    before = snapshot(patient)

    with pytest.raises(ValidationError) as caught:
        portal.invitation_issue(admin, patient=patient, phone=phone)

    assert caught.value.message_dict["phone"] == [
        "Enter a valid phone number, such as (217) 555-0134."
    ]
    assert snapshot(patient) == before


def test_resend_with_an_invalid_email_keeps_the_pending_invite_working(admin, patient):
    invitation = invite(admin, patient)
    before = snapshot(patient)

    with pytest.raises(ValidationError):
        portal.invitation_resend(admin, patient=patient, email="nope")

    assert snapshot(patient) == before
    assert verify(invitation, patient) == invitation


# ---------------------------------------------------------------------------
# Transitions


def test_invite_from_not_invited_issues_code_and_link_and_state_is_invite_pending(staff, patient):
    invitation = invite(staff, patient)

    access = PortalAccess.objects.get(patient=patient)
    assert access.effective_state_label == "Invite pending"
    assert access.current_invitation == invitation
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.created_by == staff
    assert invitation.email == patient.email
    assert len(invitation.access_code) == 8
    assert registration.invitation_for_link(token_of(invitation)) == invitation


def test_invite_with_edited_contact_uses_it_and_corrects_the_chart(staff, patient):
    invitation = portal.invitation_issue(
        staff, patient=patient, email=" Robin.New@Example.TEST ", phone="(202) 555-0187"
    )

    patient.refresh_from_db()
    assert invitation.email == "robin.new@example.test"
    assert invitation.phone == "+12025550187"
    assert (patient.email, patient.mobile_phone) == ("robin.new@example.test", "+12025550187")


@pytest.mark.parametrize("state", ["cancelled", "expired", "revoked"])
def test_invite_again_issues_new_code_and_link_and_kills_the_old_ones(
    state, admin, patient, time_machine
):
    bring_to(state, admin, patient, time_machine)
    old = Invitation.objects.filter(patient=patient).first()

    new = invite(admin, patient)

    assert state_of(patient) == AccessState.INVITED
    assert new.link_nonce != old.link_nonce
    assert new.token_hash != old.token_hash
    with pytest.raises(registration.RegistrationError) as caught:
        registration.invitation_for_link(token_of(old))
    assert caught.value.code == "expired_link"
    assert Invitation.objects.filter(patient=patient, status=InvitationStatus.PENDING).get() == new
    assert verify(new, patient) == new


def test_resend_issues_new_code_and_link_and_the_patient_needs_the_new_code(admin, patient):
    old = invite(admin, patient)

    new = portal.invitation_resend(admin, patient=patient)

    old.refresh_from_db()
    assert old.status == InvitationStatus.SUPERSEDED
    assert old.ended_at is not None
    assert new.status == InvitationStatus.PENDING
    assert (new.access_code, new.token_hash) != (old.access_code, old.token_hash)
    assert state_of(patient) == AccessState.INVITED
    assert PortalAccess.objects.get(patient=patient).current_invitation == new
    # The old link is dead ...
    with pytest.raises(registration.RegistrationError) as caught:
        verify(old, patient)
    assert caught.value.code == "expired_link"
    # ... the old code does not open the new link ...
    if old.access_code != new.access_code:  # 31**8 codes: equal only by a one-in-a-trillion draw
        with pytest.raises(registration.RegistrationError) as caught:
            verify(new, patient, code=old.access_code)
        assert caught.value.code == "wrong_code"
    # ... and the new code does.
    assert verify(new, patient) == new


def test_resend_twice_leaves_exactly_one_pending_invitation(admin, patient):
    invite(admin, patient)
    portal.invitation_resend(admin, patient=patient)
    newest = portal.invitation_resend(admin, patient=patient)

    pending = Invitation.objects.filter(patient=patient, status=InvitationStatus.PENDING)
    assert list(pending) == [newest]
    assert Invitation.objects.filter(patient=patient).count() == 3


def test_cancel_kills_code_and_link_and_state_is_invite_cancelled(staff, patient):
    invitation = invite(staff, patient)

    access = portal.invitation_cancel(staff, patient=patient)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.CANCELLED
    assert invitation.ended_at is not None
    assert access.effective_state_label == "Invite cancelled"
    assert state_of(patient) == AccessState.CANCELLED
    with pytest.raises(registration.RegistrationError) as caught:
        verify(invitation, patient)
    assert caught.value.code == "expired_link"


def test_revoke_ends_access_and_state_is_access_revoked(staff, patient):
    account = enroll(staff, patient)
    [before] = portal_selectors.patient_access_list(account)
    assert before.effective_state == AccessState.ACTIVE

    access = portal.access_revoke(staff, patient=patient)

    assert access.effective_state_label == "Access revoked"
    [after] = portal_selectors.patient_access_list(account)
    assert after.patient == patient
    assert after.effective_state == AccessState.REVOKED
    assert after.effective_state != AccessState.ACTIVE
    # The account that had access is kept for the record.
    assert after.account == account


def test_reinvite_after_revoke_requires_verifying_identity_again(admin, patient):
    account = enroll(admin, patient)
    portal.access_revoke(admin, patient=patient)

    new = invite(admin, patient)

    # Inviting again gives the old account nothing by itself.
    [access] = portal_selectors.patient_access_list(account)
    assert access.effective_state == AccessState.INVITED
    # The invitation it registered with is used up; the new one needs date of birth + new code.
    with pytest.raises(registration.RegistrationError) as caught:
        registration.registration_verify(
            token=token_of(new), date_of_birth=dt.date(1999, 1, 1), access_code=new.access_code
        )
    assert caught.value.code == "wrong_code"
    verified = verify(new, patient)

    registration.registration_link_account(account, invitation_id=str(verified.public_id))

    [access] = portal_selectors.patient_access_list(account)
    assert access.effective_state == AccessState.ACTIVE


def test_register_with_new_account_makes_the_chart_enrolled(admin, patient):
    invitation = invite(admin, patient)
    verify(invitation, patient)

    account = registration.registration_create_account(
        invitation_id=str(invitation.public_id), email="robin@example.test", password=PASSWORD
    )

    assert account.check_password(PASSWORD)
    access = PortalAccess.objects.get(patient=patient)
    assert access.effective_state_label == "Enrolled"
    assert access.account == account
    assert access.enrolled_at is not None
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.USED


def test_link_to_existing_account_adds_this_record_to_it(admin, patient, practice):
    existing = make_user(email="robin@example.test")
    other_chart = make_patient(practice)
    enroll(admin, other_chart, email="someone-else@example.test")
    invitation = invite(admin, patient)
    verify(invitation, patient)

    access = registration.registration_link_account(
        existing, invitation_id=str(invitation.public_id)
    )

    assert access.effective_state == AccessState.ACTIVE
    assert access.account == existing
    assert [a.patient for a in portal_selectors.patient_access_list(existing)] == [patient]


def test_invitation_expires_after_30_days_by_default(admin, patient, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    invitation = invite(admin, patient)
    assert invitation.expires_at == start + dt.timedelta(days=30)

    time_machine.move_to(start + dt.timedelta(days=30) - dt.timedelta(seconds=1), tick=False)
    assert state_of(patient) == AccessState.INVITED
    assert registration.invitation_for_link(token_of(invitation)) == invitation

    time_machine.move_to(start + dt.timedelta(days=30), tick=False)
    access = PortalAccess.objects.get(patient=patient)
    assert access.effective_state_label == "Invite expired"
    with pytest.raises(registration.RegistrationError) as caught:
        registration.invitation_for_link(token_of(invitation))
    assert caught.value.code == "expired_link"
    assert "has expired" in caught.value.message


def test_invitation_lifetime_comes_from_setting(admin, patient, settings, time_machine):
    settings.PORTICO_INVITATION_TTL_DAYS = 3
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    invitation = invite(admin, patient)

    time_machine.move_to(start + dt.timedelta(days=2, hours=23), tick=False)
    assert state_of(patient) == AccessState.INVITED

    time_machine.move_to(start + dt.timedelta(days=3), tick=False)
    assert state_of(patient) == AccessState.EXPIRED
    with pytest.raises(registration.RegistrationError) as caught:
        verify(invitation, patient)
    assert caught.value.code == "expired_link"


def test_expired_invite_cannot_be_resent_or_cancelled_only_invited_again(
    admin, patient, time_machine
):
    bring_to("expired", admin, patient, time_machine)

    with pytest.raises(portal.InvalidTransition):
        portal.invitation_resend(admin, patient=patient)
    new = invite(admin, patient)

    assert state_of(patient) == AccessState.INVITED
    assert new.expires_at > timezone.now() + dt.timedelta(days=29)


# ---------------------------------------------------------------------------
# Concurrency (PostgreSQL only: SQLite runs one writer at a time, so nothing races)

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one writer at a time, so nothing races",
)


def _run_in_thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except Exception as exc:  # noqa: BLE001 (the test asserts there were none)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_a_transaction_waits_for_a_lock(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the lock")


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_resends_at_once_leave_exactly_one_pending_invitation(practice, admin):
    patient = make_patient(practice)
    invite(admin, patient)
    barrier = threading.Barrier(2)
    errors: list = []

    def resend():
        barrier.wait(timeout=10)
        portal.invitation_resend(admin, patient=patient)

    for thread in [_run_in_thread(resend, errors), _run_in_thread(resend, errors)]:
        thread.join(timeout=30)

    assert errors == []
    pending = list(Invitation.objects.filter(patient=patient, status=InvitationStatus.PENDING))
    assert len(pending) == 1
    assert PortalAccess.objects.get(patient=patient).current_invitation == pending[0]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_that_waited_for_a_resend_kills_the_invitation_the_resend_issued(practice, admin):
    patient = make_patient(practice)
    invite(admin, patient)
    resent, finish = threading.Event(), threading.Event()
    errors: list = []

    def resend_and_hold_the_lock():
        with transaction.atomic():
            portal.invitation_resend(admin, patient=patient)
            resent.set()
            finish.wait(timeout=10)

    def cancel():
        resent.wait(timeout=10)
        portal.invitation_cancel(admin, patient=patient)

    threads = [_run_in_thread(resend_and_hold_the_lock, errors), _run_in_thread(cancel, errors)]
    resent.wait(timeout=10)
    _wait_until_a_transaction_waits_for_a_lock()
    finish.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert state_of(patient) == AccessState.CANCELLED
    # The cancelled invite's link must not work: no invitation of the chart is still pending.
    assert not Invitation.objects.filter(patient=patient, status=InvitationStatus.PENDING).exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_racing_a_registration_waits_instead_of_deadlocking(practice, admin, monkeypatch):
    patient = make_patient(practice)
    invitation = invite(admin, patient)
    account = make_user()
    registering, finish = threading.Event(), threading.Event()
    errors: list = []
    refused: list = []
    enroll_now = registration._enroll

    def enroll_slowly(invitation, account):
        registering.set()
        finish.wait(timeout=10)
        return enroll_now(invitation, account)

    monkeypatch.setattr(registration, "_enroll", enroll_slowly)

    def register():
        registration.registration_link_account(account, invitation_id=str(invitation.public_id))

    def cancel():
        registering.wait(timeout=10)
        try:
            portal.invitation_cancel(admin, patient=patient)
        except portal.InvalidTransition:
            refused.append("cancel")

    threads = [_run_in_thread(register, errors), _run_in_thread(cancel, errors)]
    registering.wait(timeout=10)
    _wait_until_a_transaction_waits_for_a_lock()
    finish.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # The registration held the chart first, so it won; cancelling an enrolled chart is refused.
    assert refused == ["cancel"]
    access = PortalAccess.objects.get(patient=patient)
    assert (access.state, access.account) == (AccessState.ACTIVE, account)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.USED


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_wrong_codes_cannot_get_past_the_five_try_limit(practice, admin):
    from portico.portal.tokens import link_token

    patient = make_patient(practice)
    invitation = invite(admin, patient)
    token = link_token(invitation.link_nonce)
    guessers = 8
    barrier = threading.Barrier(guessers)
    outcomes: list[str] = []
    errors: list = []

    def guess():
        barrier.wait(timeout=10)
        try:
            registration.registration_verify(
                token=token, date_of_birth=patient.date_of_birth, access_code="WRONG999"
            )
        except registration.RegistrationError as exc:
            outcomes.append(exc.code)

    threads = [_run_in_thread(guess, errors) for _ in range(guessers)]
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    invitation.refresh_from_db()
    # Exactly five guesses were judged; every later one met the lock.
    assert invitation.failed_attempts == 5
    assert invitation.is_locked
    assert sorted(outcomes) == ["locked"] * 4 + ["wrong_code"] * 4
