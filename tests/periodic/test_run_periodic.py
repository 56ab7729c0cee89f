"""`portico run_periodic`: every periodic job once, counts printed, failures reported."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts.models import Encounter
from portico.periodic import jobs as periodic
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess
from portico.practices.services import auto_invite_set
from tests.factories import invite, make_patient

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_periodic", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_job_runs_once_and_prints_its_count(
    admin, practice, django_capture_on_commit_callbacks
):
    auto_invite_set(admin, practice=practice, enabled=True)
    patient = make_patient(practice)
    Encounter.objects.create(
        practice=practice, patient=patient, visit_date=timezone.localdate() - dt.timedelta(days=31)
    )
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run()
    assert "auto-invites for unsigned encounters: 1" in out.splitlines()
    assert "invitation expiry: 0" in out.splitlines()
    assert "bulk invite runs resumed after a lost worker: 0" in out.splitlines()
    assert "email retries and messages a stopped sender left: 1" in out.splitlines()
    assert err == ""
    assert Invitation.objects.filter(patient=patient, origin="auto").count() == 1

    out, _ = run()
    assert "auto-invites for unsigned encounters: 0" in out.splitlines()


def test_one_failing_job_does_not_stop_the_others_and_the_exit_is_an_error(monkeypatch):
    ran = []

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(
        periodic,
        "JOBS",
        [periodic.Job("first", broken), periodic.Job("second", lambda: ran.append(1) or 7)],
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 periodic job"):
        call_command("run_periodic", stdout=out, stderr=err)
    assert ran == [1]
    assert "second: 7" in out.getvalue()
    assert "first: FAILED (RuntimeError" in err.getvalue()


def test_loop_needs_a_positive_number_of_seconds():
    with pytest.raises(CommandError):
        run("--loop", "0")


# -- invitation expiry -----------------------------------------------------------------------


def test_expired_invitations_are_stored_as_expired_once_and_audited(admin, patient):
    invitation = invite(admin, patient)
    ttl = invitation.expires_at - invitation.created_at
    with time_machine.travel(invitation.created_at + ttl - dt.timedelta(minutes=1), tick=False):
        assert portal.invitations_expire() == 0
    with time_machine.travel(invitation.created_at + ttl + dt.timedelta(minutes=1), tick=False):
        assert portal.invitations_expire() == 1
        assert portal.invitations_expire() == 0
        invitation.refresh_from_db()
        assert not invitation.is_usable

    access = PortalAccess.objects.get(patient=patient)
    assert access.state == AccessState.EXPIRED
    assert invitation.ended_at == invitation.expires_at
    assert invitation.status == InvitationStatus.EXPIRED and invitation.is_expired
    event = AuditEvent.objects.get(action="portal.expired")
    assert event.actor is None and event.actor_label == "system (expiry)"
    assert event.patient == patient and event.details == {"invitation": str(invitation.public_id)}

    # Staff can invite again; the new invitation works.
    with time_machine.travel(invitation.expires_at + dt.timedelta(days=1), tick=False):
        again = portal.invitation_issue(admin, patient=patient)
        assert again.is_usable
        assert PortalAccess.objects.get(patient=patient).state == AccessState.INVITED


def test_expiry_leaves_live_and_finished_invitations_alone(admin, practice):
    live, cancelled = make_patient(practice), make_patient(practice)
    invite(admin, live)
    invite(admin, cancelled)
    portal.invitation_cancel(admin, patient=cancelled)
    Invitation.objects.filter(patient=cancelled).update(expires_at=timezone.now())
    assert portal.invitations_expire() == 0
    states = dict(PortalAccess.objects.values_list("patient_id", "state"))
    assert states == {live.pk: AccessState.INVITED, cancelled.pk: AccessState.CANCELLED}
