"""Bulk invite (SPEC §5.3): filters, background run, exactly once, cancel, resume."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.charts.models import Encounter
from portico.notifications.models import OutboundEmail
from portico.outreach import services
from portico.outreach.models import BulkInviteRun, RunState
from portico.outreach.selectors import BulkFilter
from portico.portal.models import AccessState, Invitation, InvitationOrigin, PortalAccess
from tests import factories

NOW = dt.datetime(2026, 6, 15, 15, 0, tzinfo=dt.UTC)


def _start(actor, practice, criteria=None):
    return services.bulk_invite_start(actor, practice=practice, criteria=criteria or BulkFilter())


def _patients(practice, n, **fields):
    return [factories.make_patient(practice, **fields) for _ in range(n)]


@pytest.mark.django_db
def test_every_matching_chart_is_invited_once_with_one_email(staff, practice, settings):
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 3
    charts = _patients(practice, 8)
    run = _start(staff, practice)
    assert services.bulk_invite_process(run.pk) == RunState.FINISHED

    run.refresh_from_db()
    assert (run.total, run.invited, run.skipped, run.failed, run.batches) == (8, 8, {}, 0, 3)
    for chart in charts:
        invitation = Invitation.objects.get(patient=chart)
        assert invitation.origin == InvitationOrigin.BULK
        assert invitation.created_by == staff
        access = PortalAccess.objects.get(patient=chart)
        assert access.state == AccessState.INVITED
        assert access.current_invitation == invitation
        assert OutboundEmail.objects.filter(subject_id=invitation.public_id).count() == 1
        event = AuditEvent.objects.get(patient=chart, action="portal.invite")
        assert event.actor == staff
        assert event.details["run"] == str(run.public_id)


@pytest.mark.django_db
def test_bulk_invitation_works_like_a_staff_invitation(staff, practice, send_email):
    chart = factories.make_patient(practice)
    with send_email:
        _start(staff, practice)
    invitation = Invitation.objects.get(patient=chart)
    # The registration link of the email works, and resending from the chart replaces it.
    assert len(mail.outbox) == 1
    assert invitation.is_usable
    factories.portal.invitation_resend(staff, patient=chart)
    invitation.refresh_from_db()
    assert not invitation.is_usable


@pytest.mark.django_db
def test_filters_choose_the_charts(staff, practice):
    with time_machine.travel(NOW, tick=False):
        young = factories.make_patient(practice, date_of_birth=dt.date(2010, 1, 1))
        adult = factories.make_patient(practice, date_of_birth=dt.date(1980, 6, 16))
        turns_30_today = factories.make_patient(practice, date_of_birth=dt.date(1996, 6, 15))
        old = factories.make_patient(practice, date_of_birth=dt.date(1930, 1, 1))
        no_email = factories.make_patient(practice, email="")
        invited = factories.make_patient(practice)
        factories.invite(staff, invited)
        Encounter.objects.create(practice=practice, patient=adult, visit_date=dt.date(2026, 3, 1))
        Encounter.objects.create(practice=practice, patient=old, visit_date=dt.date(2025, 1, 1))

        def matching(**kw):
            run = _start(staff, practice, BulkFilter(**kw))
            services.bulk_invite_process(run.pk)
            invited_now = set(
                Invitation.objects.filter(origin=InvitationOrigin.BULK).values_list(
                    "patient_id", flat=True
                )
            )
            Invitation.objects.filter(origin=InvitationOrigin.BULK).delete()
            PortalAccess.objects.exclude(patient=invited).delete()
            return invited_now

        assert matching(age_min=18, age_max=45) == {adult.pk, turns_30_today.pk, no_email.pk} - {
            no_email.pk
        }
        assert matching(age_min=30, age_max=30) == {turns_30_today.pk}
        assert matching(seen_since=dt.date(2026, 1, 1)) == {adult.pk}
        assert young.pk in matching()
        assert old.pk in matching(age_min=90)


@pytest.mark.django_db
def test_charts_that_cannot_be_invited_are_skipped_with_a_reason(staff, practice):
    ready = factories.make_patient(practice)
    enrolled = factories.make_patient(practice)
    factories.enroll(staff, enrolled)
    factories.make_patient(practice, email="")
    run = _start(staff, practice, BulkFilter(not_invited=False, has_email=False))
    services.bulk_invite_process(run.pk)
    run.refresh_from_db()
    assert run.invited == 1
    assert run.skipped == {"no_email": 1, "state_active": 1}
    assert Invitation.objects.filter(patient=ready, origin=InvitationOrigin.BULK).count() == 1
    assert PortalAccess.objects.get(patient=enrolled).state == AccessState.ACTIVE


@pytest.mark.django_db
def test_a_chart_invited_by_staff_during_the_run_is_not_invited_again(staff, practice, settings):
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 2
    charts = _patients(practice, 4)
    run = _start(staff, practice)
    assert services.bulk_invite_step(run.pk)
    factories.invite(staff, charts[3])
    services.bulk_invite_process(run.pk)
    run.refresh_from_db()
    assert run.invited == 3
    assert run.skipped == {"no_longer_matching": 1}
    assert Invitation.objects.filter(patient=charts[3]).count() == 1


@pytest.mark.django_db
def test_a_run_killed_mid_batch_resumes_without_inviting_anyone_twice(
    staff, practice, settings, monkeypatch
):
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 3
    charts = _patients(practice, 7)
    run = _start(staff, practice)
    assert services.bulk_invite_step(run.pk)

    class Killed(BaseException):
        pass

    real = services.invitation_issue_batch

    def dies_after_writing(actor, **kwargs):
        real(actor, **kwargs)
        raise Killed  # the process dies before the batch commits

    monkeypatch.setattr(services, "invitation_issue_batch", dies_after_writing)
    with pytest.raises(Killed):
        services.bulk_invite_step(run.pk)
    monkeypatch.setattr(services, "invitation_issue_batch", real)

    services.bulk_invite_process(run.pk)
    run.refresh_from_db()
    assert (run.invited, run.skipped, run.state) == (7, {}, RunState.FINISHED)
    for chart in charts:
        assert Invitation.objects.filter(patient=chart).count() == 1
    assert OutboundEmail.objects.count() == 7


@pytest.mark.django_db
def test_a_cancelled_run_invites_no_further_chart(staff, practice, settings):
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 2
    _patients(practice, 6)
    run = _start(staff, practice)
    services.bulk_invite_step(run.pk)
    services.bulk_invite_cancel(staff, run=run)
    assert services.bulk_invite_process(run.pk) == RunState.CANCELLED
    run.refresh_from_db()
    assert run.invited == 2
    assert Invitation.objects.count() == 2
    assert "Stan Staff" in run.stop_reason


@pytest.mark.django_db
def test_withdrawing_the_invite_right_stops_the_run(staff, practice, settings):
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 2
    _patients(practice, 4)
    run = _start(staff, practice)
    services.bulk_invite_step(run.pk)
    staff.memberships.filter(practice=practice).update(may_invite_patients=False)
    assert services.bulk_invite_process(run.pk) == RunState.CANCELLED
    assert Invitation.objects.count() == 2


@pytest.mark.django_db
def test_a_stalled_run_is_handed_to_a_new_task(staff, practice, django_capture_on_commit_callbacks):
    _patients(practice, 3)
    with time_machine.travel(NOW, tick=False):
        run = _start(staff, practice)
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        assert services.bulk_invite_resume_stalled() == 0
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.bulk_invite_resume_stalled() == 1
    run.refresh_from_db()
    assert run.state == RunState.FINISHED
    assert run.invited == 3


@pytest.mark.django_db
def test_a_batch_costs_far_fewer_queries_than_charts(
    staff, practice, settings, django_assert_max_num_queries
):
    # About a dozen statements, plus one insert per few dozen rows where SQLite limits the
    # parameters of one statement: well under 0.2 queries per invitation.
    settings.PORTICO_BULK_INVITE_BATCH_SIZE = 200
    _patients(practice, 200)
    run = _start(staff, practice)
    with django_assert_max_num_queries(30):
        assert services.bulk_invite_step(run.pk)
    assert Invitation.objects.count() == 200


# ---------------------------------------------------------------------------
# Pages


@pytest.mark.django_db
def test_staff_filter_confirm_and_start_a_run(client, staff, practice, send_email):
    _patients(practice, 3)
    factories.make_patient(practice, email="")
    factories.sign_in(client, staff)
    url = reverse("outreach:bulk_invite")
    page = client.get(url).content.decode()
    assert "3 matching patients" in page
    query = "filtered=1&not_invited=on&has_email=on&age_min=&age_max=&seen_since="
    page = client.get(f"{url}?{query}").content.decode()
    assert "Invite all 3 matching" in page
    page = client.get(f"{url}?{query}&confirm=1").content.decode()
    assert "Invite 3 patients" in page
    assert BulkInviteRun.objects.count() == 0

    with send_email:
        response = client.post(url, {"filtered": "1", "not_invited": "True", "has_email": "True"})
    run = BulkInviteRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach:run", args=[run.public_id])
    assert run.state == RunState.FINISHED  # the immediate backend ran the task
    page = client.get(response["Location"]).content.decode()
    assert "Finished" in page
    status = client.get(reverse("outreach:run_status", args=[run.public_id])).json()
    assert status["invited"] == 3
    assert status["percent"] == 100
    assert not status["active"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field_message"),
    [
        ({"age_min": "50", "age_max": "20"}, "The upper age must not be below the lower age."),
        ({"age_min": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"seen_since": "2999-01-01"}, "Choose a date that is not in the future."),
        ({"seen_since": "yesterday"}, "Enter a valid date."),
    ],
)
def test_bad_filters_get_a_message_and_start_nothing(
    client, staff, practice, params, field_message
):
    _patients(practice, 2)
    factories.sign_in(client, staff)
    data = {"filtered": "1", "not_invited": "True", **params}
    for response in (
        client.get(reverse("outreach:bulk_invite"), data),
        client.post(reverse("outreach:bulk_invite"), data),
    ):
        assert response.status_code == 200
        assert field_message in response.content.decode()
    assert BulkInviteRun.objects.count() == 0
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_a_member_without_the_invite_right_sees_no_invite_action(client, non_inviter, practice):
    _patients(practice, 2)
    factories.sign_in(client, non_inviter)
    url = reverse("outreach:bulk_invite")
    page = client.get(url).content.decode()
    assert "2 matching patients" in page
    assert "Invite all" not in page
    assert client.post(url, {"filtered": "1", "not_invited": "True"}).status_code == 403
    assert BulkInviteRun.objects.count() == 0


@pytest.mark.django_db
def test_another_practice_s_run_is_not_found(client, staff, outsider, practice):
    _patients(practice, 1)
    run = _start(staff, practice)
    factories.sign_in(client, outsider)
    for name in ("outreach:run", "outreach:run_status"):
        assert client.get(reverse(name, args=[run.public_id])).status_code == 404
    assert client.post(reverse("outreach:run_cancel", args=[run.public_id])).status_code == 404


@pytest.mark.django_db
def test_cancel_from_the_run_page(client, staff, practice):
    _patients(practice, 2)
    run = _start(staff, practice)  # no commit callbacks here: the task never ran
    factories.sign_in(client, staff)
    page = client.get(reverse("outreach:run", args=[run.public_id])).content.decode()
    assert 'http-equiv="refresh"' in page
    assert ">Cancel</button>" in page
    response = client.post(reverse("outreach:run_cancel", args=[run.public_id]), follow=True)
    assert "was cancelled" in response.content.decode()
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
