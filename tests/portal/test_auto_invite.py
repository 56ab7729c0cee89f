"""SPEC §5.1–5.2: auto-invite. Who is invited, when, by whom, and what stops it."""

from __future__ import annotations

import datetime as dt
import re
import threading
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts.models import Encounter
from portico.charts.services import encounter_create, encounter_sign
from portico.notifications.models import OutboundEmail
from portico.portal import auto_invite, registration, tokens
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, InvitationOrigin, PortalAccess
from portico.practices.services import auto_invite_set
from tests.factories import enroll, invite, make_admin, make_patient, make_practice
from tests.portal.test_transitions import (
    _run_in_thread,
    _wait_until_a_transaction_waits_for_a_lock,
    needs_postgres,
)

pytestmark = pytest.mark.django_db

# Noon in New York (the factories' practices use America/New_York) on 15 June 2026.
TODAY = dt.date(2026, 6, 15)
NOON = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def practice(practice, admin):
    auto_invite_set(admin, practice=practice, enabled=True)
    return practice


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` runs what the block queued for after commit (tasks, email)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def travel():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def seen(patient, *, visit_date=TODAY, signed=False) -> Encounter:
    """An encounter on the chart, made directly (no signing hook)."""
    return Encounter.objects.create(
        practice=patient.practice,
        patient=patient,
        visit_date=visit_date,
        signed_at=timezone.now() if signed else None,
    )


def eligible_patient(practice, **fields):
    patient = make_patient(practice, **fields)
    seen(patient)
    return patient


def invitations(patient):
    return list(Invitation.objects.filter(patient=patient))


# -- eligibility -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_of_birth", "reason"),
    [
        (dt.date(2008, 6, 16), "younger_than_18"),  # 17, turns 18 tomorrow
        (dt.date(2008, 6, 15), None),  # 18th birthday today
        (dt.date(1940, 6, 16), None),  # 85, turns 86 tomorrow
        (dt.date(1940, 6, 15), "older_than_85"),  # 86th birthday today
    ],
)
def test_patients_aged_18_to_85_on_the_day_are_eligible(travel, practice, date_of_birth, reason):
    patient = eligible_patient(practice, date_of_birth=date_of_birth)
    assert auto_invite.ineligible_reason(patient) == reason


def test_age_is_judged_on_the_practices_date_not_utc(practice):
    patient = eligible_patient(practice, date_of_birth=dt.date(2008, 6, 15))
    # 02:00 UTC on the 15th is still the evening of the 14th in New York: 17 there.
    with time_machine.travel(dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC), tick=False):
        assert auto_invite.ineligible_reason(patient) == "younger_than_18"
    with time_machine.travel(dt.datetime(2026, 6, 15, 5, 0, tzinfo=dt.UTC), tick=False):
        assert auto_invite.ineligible_reason(patient) is None


def test_someone_born_on_29_february_turns_18_on_1_march(practice):
    patient = eligible_patient(practice, date_of_birth=dt.date(2008, 2, 29))
    with time_machine.travel(dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC), tick=False):
        assert auto_invite.ineligible_reason(patient) == "younger_than_18"
    with time_machine.travel(dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC), tick=False):
        assert auto_invite.ineligible_reason(patient) is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"email": ""}, "no_email"), ({"mobile_phone": ""}, "no_mobile_phone")],
)
def test_a_chart_without_email_or_mobile_phone_is_not_eligible(travel, practice, fields, reason):
    assert auto_invite.ineligible_reason(eligible_patient(practice, **fields)) == reason


def test_a_chart_without_an_encounter_is_not_eligible(travel, practice):
    assert auto_invite.ineligible_reason(make_patient(practice)) == "no_encounter"


def test_nobody_is_eligible_while_the_practice_has_auto_invite_off(travel, practice, admin):
    patient = eligible_patient(practice)
    auto_invite_set(admin, practice=practice, enabled=False)
    patient.refresh_from_db()
    assert auto_invite.ineligible_reason(patient) == "auto_invite_off"


# -- without a text-message backend (SMS_URL empty) ------------------------------------------


@pytest.fixture
def no_sms_backend(settings):
    """The operator removed SMS_URL after auto-invite was turned on: it stays on, paused."""
    settings.SMS_URL = ""


def test_nobody_is_eligible_while_no_text_message_backend_is_configured(
    travel, practice, no_sms_backend
):
    """An auto-invited patient verifies only with a texted security code: without a backend
    they could not register, so nobody is auto-invited."""
    patient = eligible_patient(practice)
    assert practice.auto_invite_enabled
    assert auto_invite.ineligible_reason(patient) == "no_sms_backend"
    assert portal.invitation_issue_auto(patient=patient, reason="test") is None
    assert invitations(patient) == [] and mail.outbox == []


def test_the_periodic_job_invites_nobody_until_a_text_message_backend_is_configured(
    travel, settings, practice, commit, django_assert_num_queries
):
    patient = make_patient(practice)
    seen(patient, visit_date=TODAY - dt.timedelta(days=40))
    settings.SMS_URL = ""
    # A paused practice is skipped whole: its charts are not even read.
    with django_assert_num_queries(1), commit():
        assert auto_invite.invite_unsigned_due() == 0
    assert invitations(patient) == [] and mail.outbox == []

    settings.SMS_URL = "memory://"  # the operator configures a backend: invitations resume
    with commit():
        assert auto_invite.invite_unsigned_due() == 1
    assert len(invitations(patient)) == 1 and len(mail.outbox) == 1


def put_in_state(state, staff, patient):
    if state == "not_invited_row":
        PortalAccess.objects.create(patient=patient, practice=patient.practice)
    elif state == "invited":
        invite(staff, patient)
    elif state == "active":
        enroll(staff, patient)
    elif state == "cancelled":
        invite(staff, patient)
        portal.invitation_cancel(staff, patient=patient)
    elif state == "revoked":
        enroll(staff, patient)
        portal.access_revoke(staff, patient=patient)
    elif state == "expired":
        invite(staff, patient)
        Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("not_invited_row", None),
        ("invited", "portal_invited"),
        ("active", "portal_active"),
        ("cancelled", "portal_cancelled"),
        ("revoked", "portal_revoked"),
        # Decided: a lapsed invitation is not repeated automatically (see portal.auto_invite).
        ("expired", "portal_expired"),
    ],
)
def test_only_charts_never_invited_are_eligible(travel, practice, staff, state, reason):
    patient = eligible_patient(practice)
    put_in_state(state, staff, patient)
    assert auto_invite.ineligible_reason(patient) == reason
    before = len(invitations(patient))
    assert (portal.invitation_issue_auto(patient=patient, reason="test") is None) == bool(reason)
    assert len(invitations(patient)) == before + (0 if reason else 1)


# -- after signing ---------------------------------------------------------------------------


def test_signing_an_encounter_invites_the_chart_as_the_system(
    travel, practice, staff, provider, commit
):
    patient = make_patient(practice)
    encounter = encounter_create(staff, patient=patient, visit_date=TODAY)
    with commit():
        encounter_sign(provider, encounter=encounter)

    [invitation] = invitations(patient)
    assert invitation.origin == InvitationOrigin.AUTO and invitation.created_by is None
    assert invitation.email == patient.email and invitation.phone == patient.mobile_phone
    assert PortalAccess.objects.get(patient=patient).state == AccessState.INVITED
    event = AuditEvent.objects.get(action="portal.invite", patient=patient)
    assert event.actor is None and event.actor_label == "system (auto-invite)"
    assert event.details["origin"] == "auto" and event.details["reason"] == "encounter_signed"
    assert [m.to for m in mail.outbox] == [[patient.email]]
    assert OutboundEmail.objects.get(patient=patient).subject_id == invitation.public_id


@pytest.mark.parametrize("stopped", ["auto_invite_off", "no_sms_backend"])
def test_signing_while_auto_invite_is_off_or_paused_invites_nobody(
    travel, settings, practice, admin, staff, provider, commit, stopped
):
    if stopped == "auto_invite_off":
        auto_invite_set(admin, practice=practice, enabled=False)
    else:  # on, but the operator removed the text-message backend
        settings.SMS_URL = ""
    patient = make_patient(practice)
    encounter = encounter_create(staff, patient=patient, visit_date=TODAY)
    with commit():
        encounter_sign(provider, encounter=encounter)
    assert invitations(patient) == [] and mail.outbox == []


def test_signing_an_ineligible_chart_invites_nobody(travel, practice, staff, provider, commit):
    patient = make_patient(practice, mobile_phone="")
    encounter = encounter_create(staff, patient=patient, visit_date=TODAY)
    with commit():
        encounter_sign(provider, encounter=encounter)
    assert invitations(patient) == [] and mail.outbox == []


def test_signing_a_second_encounter_does_not_invite_again(
    travel, practice, staff, provider, commit
):
    patient = make_patient(practice)
    for day in (TODAY - dt.timedelta(days=1), TODAY):
        encounter = encounter_create(staff, patient=patient, visit_date=day)
        with commit():
            encounter_sign(provider, encounter=encounter)
    assert len(invitations(patient)) == 1 and len(mail.outbox) == 1


def test_turning_auto_invite_off_stops_invitations_already_enqueued(
    travel,
    settings,
    monkeypatch,
    practice,
    admin,
    staff,
    provider,
    django_capture_on_commit_callbacks,
):
    """The task goes to the real database queue; the administrator turns auto-invite off
    before the worker gets to it; the worker then finds nothing to do."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    patient = make_patient(practice)
    encounter = encounter_create(staff, patient=patient, visit_date=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        encounter_sign(provider, encounter=encounter)
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    auto_invite_set(admin, practice=practice, enabled=False)
    # The real worker loop; only its connection recycling is left out, which would close the
    # test's own transaction on PostgreSQL.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert invitations(patient) == [] and OutboundEmail.objects.count() == 0
    assert not AuditEvent.objects.filter(action="portal.invite").exists()


def test_the_signing_task_run_twice_invites_once(travel, practice, commit):
    patient = eligible_patient(practice)
    with commit():
        assert auto_invite.invite_after_signing.call(patient_id=patient.pk) == "invited"
        assert auto_invite.invite_after_signing.call(patient_id=patient.pk) == "not-eligible"
    assert len(invitations(patient)) == 1 and len(mail.outbox) == 1


# -- unsigned encounters: the periodic job ---------------------------------------------------


def at_days_after(visit_date: dt.date, days: int):
    """Time travel to 09:00 at the practice (New York), `days` after the visit date."""
    day = visit_date + dt.timedelta(days=days)
    local = dt.datetime.combine(day, dt.time(9), tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    return time_machine.travel(local, tick=False)


def test_an_unsigned_encounter_invites_30_days_after_the_visit_not_29(practice, commit):
    visit = dt.date(2026, 5, 1)
    patient = make_patient(practice)
    with at_days_after(visit, 0):
        seen(patient, visit_date=visit)
    with at_days_after(visit, 29), commit():
        assert auto_invite.invite_unsigned_due() == 0
    assert invitations(patient) == []
    with at_days_after(visit, 30), commit():
        assert auto_invite.invite_unsigned_due() == 1
    [invitation] = invitations(patient)
    assert invitation.origin == InvitationOrigin.AUTO
    event = AuditEvent.objects.get(action="portal.invite", patient=patient)
    assert event.actor_label == "system (auto-invite)"
    assert event.details["reason"] == "encounter_unsigned_30_days"
    assert len(mail.outbox) == 1


def test_running_the_periodic_job_twice_invites_once(travel, practice, commit):
    patients = [make_patient(practice) for _ in range(3)]
    for patient in patients:
        seen(patient, visit_date=TODAY - dt.timedelta(days=45))
    with commit():
        assert auto_invite.invite_unsigned_due(batch_size=2) == 3
        assert auto_invite.invite_unsigned_due(batch_size=2) == 0
    assert Invitation.objects.count() == 3 and len(mail.outbox) == 3


def test_the_periodic_job_leaves_signed_ineligible_and_invited_charts_alone(
    travel, practice, staff, commit
):
    long_ago = TODAY - dt.timedelta(days=60)
    signed = make_patient(practice)
    seen(signed, visit_date=long_ago, signed=True)
    too_young = make_patient(practice, date_of_birth=dt.date(2010, 1, 1))
    no_phone = make_patient(practice, mobile_phone="")
    cancelled = make_patient(practice)
    for patient in (too_young, no_phone, cancelled):
        seen(patient, visit_date=long_ago)
    put_in_state("cancelled", staff, cancelled)
    before = Invitation.objects.count()
    with commit():
        assert auto_invite.invite_unsigned_due() == 0
    assert Invitation.objects.count() == before


def test_other_practices_are_untouched(travel, practice, commit):
    elsewhere = make_practice("Hilltop Medical")  # auto-invite off (the default)
    make_admin(elsewhere)
    theirs = make_patient(elsewhere)
    ours = make_patient(practice)
    for patient in (theirs, ours):
        seen(patient, visit_date=TODAY - dt.timedelta(days=40))
    with commit():
        assert auto_invite.invite_unsigned_due() == 1
    assert invitations(theirs) == [] and len(invitations(ours)) == 1


def test_the_candidate_query_does_not_grow_with_the_number_of_charts(
    travel, practice, django_assert_max_num_queries
):
    for _ in range(20):
        seen(make_patient(practice, email=""), visit_date=TODAY - dt.timedelta(days=40))
    with django_assert_max_num_queries(3):
        assert auto_invite.invite_unsigned_due() == 0


# -- the setting -----------------------------------------------------------------------------


def test_auto_invite_is_off_by_default_and_only_administrators_turn_it_on(staff):
    from django.core.exceptions import PermissionDenied

    fresh = make_practice()
    assert fresh.auto_invite_enabled is False
    admin = make_admin(fresh)
    with pytest.raises(PermissionDenied):
        auto_invite_set(staff, practice=fresh, enabled=True)
    assert auto_invite_set(admin, practice=fresh, enabled=True) is True
    assert auto_invite_set(admin, practice=fresh, enabled=True) is False
    fresh.refresh_from_db()
    assert fresh.auto_invite_enabled is True
    [event] = AuditEvent.objects.filter(action="settings.auto_invite", practice=fresh)
    assert event.actor == admin and event.details == {"enabled": True}


# -- the patient's side ----------------------------------------------------------------------


def test_an_auto_invited_patient_registers_with_date_of_birth_and_a_texted_code(
    practice, staff, provider, commit, sms_outbox
):
    """SPEC §5.1: they have no printed access code; the phone on file gets a security code."""
    patient = make_patient(practice, date_of_birth=dt.date(1980, 4, 21))
    encounter = encounter_create(staff, patient=patient, visit_date=timezone.localdate())
    with commit():
        encounter_sign(provider, encounter=encounter)
    [invitation] = invitations(patient)
    assert registration.phone_route_available(invitation)

    token = tokens.link_token(invitation.link_nonce)
    with commit():
        registration.security_code_request(
            token=token, date_of_birth=patient.date_of_birth, phone=patient.mobile_phone
        )
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["text"]).group(1)
    verified = registration.registration_verify_security_code(token=token, security_code=code)
    account = registration.registration_create_account(
        invitation_id=str(verified.public_id),
        email=patient.email,
        password="a long and unusual passphrase",
    )
    access = PortalAccess.objects.get(patient=patient)
    assert access.state == AccessState.ACTIVE and access.account == account


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_an_invite_waiting_on_the_switch_being_turned_off_sends_nothing(practice, admin):
    """Auto-invite is being turned off while a task is about to invite: the task waits for the
    administrator's change and, once it has committed, invites nobody."""
    patient = eligible_patient(practice)
    switching, finish = threading.Event(), threading.Event()
    errors: list = []
    results: list = []

    def turn_off_and_hold_the_lock():
        with transaction.atomic():
            auto_invite_set(admin, practice=practice, enabled=False)
            switching.set()
            finish.wait(timeout=10)

    def auto_invite_now():
        switching.wait(timeout=10)
        results.append(portal.invitation_issue_auto(patient=patient, reason="test"))

    threads = [
        _run_in_thread(turn_off_and_hold_the_lock, errors),
        _run_in_thread(auto_invite_now, errors),
    ]
    switching.wait(timeout=10)
    _wait_until_a_transaction_waits_for_a_lock()
    finish.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == [] and results == [None]
    assert invitations(patient) == [] and OutboundEmail.objects.count() == 0
