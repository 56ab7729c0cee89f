"""What a patient may change in the portal (SPEC §8.6): only through their own chart's active
access; a reschedule request leaves the original Confirmed; one open change request per
appointment; a cancellation follows the practice's policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.booking import selectors, services
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.portal import services as portal
from portico.portal.models import PortalAccess
from portico.portal.services import NO_ACCESS_MESSAGE
from portico.practices.models import CancellationApproval
from portico.scheduling import services as scheduling
from portico.scheduling.models import Appointment, AppointmentStatus
from tests import factories
from tests.booking.service_helpers import (
    MONDAY,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    ask,
    at,
    book,
    counts,
    emails,
)

pytestmark = pytest.mark.django_db


def _status(obj) -> str:
    obj.refresh_from_db()
    return obj.status


def _fresh(access) -> PortalAccess:
    """The access as the portal loads it on the patient's next request."""
    return PortalAccess.objects.select_related("patient", "account", "practice").get(pk=access.pk)


@pytest.fixture
def confirmed(admin, patient, provider, follow_up, hours, now):
    return book(admin, patient, provider, follow_up, at(TUESDAY, 10))


@pytest.fixture
def world(profile, admin, patient, provider, follow_up, confirmed, enrolled, access):
    """The patient's confirmed appointment with a reschedule request waiting, another confirmed
    one, and a time the practice proposed for a third request (tentative)."""
    other = book(admin, patient, provider, follow_up, at(THURSDAY, 10))
    waiting = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    asked = ask(profile, follow_up, at(TUESDAY, 9))
    tentative = services.request_propose(
        admin, request=asked, start_at=at(TUESDAY, 14), reason="Busy", patient=patient
    )
    return {"confirmed": confirmed, "other": other, "waiting": waiting, "tentative": tentative}


def _actions(world):
    return {
        "reschedule": lambda account, access: services.reschedule_request(
            account, access=access, appointment=world["other"], start_at=at(WEDNESDAY, 15)
        ),
        "cancel": lambda account, access: services.patient_cancel(
            account, access=access, appointment=world["other"], reason="Sick"
        ),
        "cancel the tentative": lambda account, access: services.patient_cancel(
            account, access=access, appointment=world["tentative"], reason="Sick"
        ),
        "withdraw": lambda account, access: services.request_withdraw(
            account, access=access, request=world["waiting"]
        ),
        "accept": lambda account, access: services.proposal_accept(
            account, access=access, appointment=world["tentative"]
        ),
        "decline": lambda account, access: services.proposal_decline(
            account, access=access, appointment=world["tentative"]
        ),
        "book's cancel": lambda account, access: scheduling.appointment_cancel(
            account, appointment=world["other"], reason="Sick", access=access
        ),
        "book's confirm": lambda account, access: scheduling.appointment_confirm(
            account, appointment=world["tentative"], access=access
        ),
    }


ACTIONS = [
    "reschedule",
    "cancel",
    "cancel the tentative",
    "withdraw",
    "accept",
    "decline",
    "book's cancel",
    "book's confirm",
]


def _state(world):
    return (
        counts(),
        [(a.status, a.start_at) for a in Appointment.objects.order_by("pk")],
        list(AppointmentRequest.objects.order_by("pk").values_list("status", flat=True)),
    )


@pytest.mark.parametrize("action", ACTIONS)
def test_a_revoked_patient_is_refused_with_the_access_message(
    action, world, admin, patient, enrolled, access
):
    portal.access_revoke(admin, patient=patient)
    before = _state(world)
    with pytest.raises(PermissionDenied) as refused:
        _actions(world)[action](enrolled, _fresh(access))
    assert str(refused.value) == str(NO_ACCESS_MESSAGE)
    assert _state(world) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_another_chart_cannot_act_on_this_charts_appointments(action, world, admin, practice):
    stranger = factories.make_patient(practice)
    account = factories.enroll(admin, stranger)
    their_access = _fresh(PortalAccess.objects.get(patient=stranger))
    before = _state(world)
    with pytest.raises(PermissionDenied) as refused:
        _actions(world)[action](account, their_access)
    assert str(refused.value) == str(NO_ACCESS_MESSAGE)
    assert _state(world) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_another_account_cannot_use_this_charts_access(action, world, access, practice):
    someone = factories.make_user()
    before = _state(world)
    with pytest.raises(PermissionDenied):
        _actions(world)[action](someone, _fresh(access))
    with pytest.raises(PermissionDenied):
        _actions(world)[action](None, _fresh(access))
    assert _state(world) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_invited_but_not_registered_patient_is_refused(action, admin, practice, world):
    invited = factories.make_patient(practice)
    factories.invite(admin, invited)
    invited_access = _fresh(PortalAccess.objects.get(patient=invited))
    for appointment in Appointment.objects.all():  # make the chart's own appointments theirs
        appointment.patient = invited
        appointment.save()
    AppointmentRequest.objects.update(patient=invited)
    someone = factories.make_user()
    invited_access.account = someone  # even with an account in hand
    before = _state(world)
    with pytest.raises(PermissionDenied):
        _actions(world)[action](someone, invited_access)
    assert _state(world) == before


# --- Reschedule ----------------------------------------------------------------------------


def test_a_reschedule_request_leaves_the_original_confirmed(
    confirmed, enrolled, access, patient, profile
):
    request = services.reschedule_request(
        enrolled,
        access=access,
        appointment=confirmed,
        start_at=at(WEDNESDAY, 11),
        note="  After work, please ",
    )
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.start_at) == (AppointmentStatus.BOOKED, at(TUESDAY, 10))
    request.refresh_from_db()
    assert (request.kind, request.status) == (RequestKind.RESCHEDULE, RequestStatus.PENDING)
    assert (request.start_at, request.end_at) == (at(WEDNESDAY, 11), at(WEDNESDAY, 11, 20))
    assert request.original == confirmed and request.patient == patient
    assert request.note == "After work, please"
    assert request.email == enrolled.email
    assert emails("booking.received", enrolled.email) == 1
    assert list(selectors.patient_requests(patient)) == [request]


def test_a_representatives_request_says_who_asked_to_the_practice_and_emails_them(
    client, admin, confirmed, patient, profile
):
    from django.urls import reverse

    from tests.factories import enroll_representative, sign_in

    account, parent = enroll_representative(admin, patient, name="Jordan Rivera")
    request = services.reschedule_request(
        account, access=parent, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    request.refresh_from_db()
    assert (request.representative_name, request.requested_as) == ("Jordan Rivera", "parent")
    assert request.email == account.email
    assert emails("booking.received", account.email) == 1
    sign_in(client, admin)
    page = client.get(reverse("booking:request", args=[request.public_id])).content.decode()
    assert "Jordan Rivera, the patient's parent" in " ".join(page.split())


def test_a_reschedule_may_overlap_the_appointments_own_time(confirmed, enrolled, access, profile):
    request = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(TUESDAY, 10, 20)
    )
    assert request.start_at == at(TUESDAY, 10, 20)


@pytest.mark.parametrize(
    ("start_at", "note", "field"),
    [
        (at(TUESDAY, 12, 20), "", "start_at"),  # lunch
        (at(MONDAY, 7), "", "start_at"),  # passed
        (at(MONDAY + dt.timedelta(days=28), 9), "", "start_at"),  # after the days shown
        (at(WEDNESDAY, 11), "x" * 1001, "note"),
        (at(WEDNESDAY, 11), "a\x00b", "note"),
    ],
    ids=["not open", "passed", "too far", "note too long", "control character"],
)
def test_a_bad_reschedule_request_is_refused_and_nothing_is_written(
    start_at, note, field, confirmed, enrolled, access, profile
):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=start_at, note=note
        )
    assert field in refused.value.message_dict
    assert counts() == before


def test_a_time_held_by_another_appointment_cannot_be_asked_for(
    confirmed, enrolled, access, admin, provider, follow_up, practice
):
    book(admin, factories.make_patient(practice), provider, follow_up, at(WEDNESDAY, 11))
    with pytest.raises(ValidationError) as refused:
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
        )
    assert "start_at" in refused.value.message_dict


def test_only_an_upcoming_confirmed_appointment_can_be_moved(
    confirmed, enrolled, access, admin, now
):
    scheduling.appointment_cancel(admin, appointment=confirmed, reason="Closed")
    with pytest.raises(ValidationError) as refused:
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
        )
    assert "status" in refused.value.message_dict
    assert not AppointmentRequest.objects.exists()


# --- One open change request per appointment ---------------------------------------------------


def test_a_second_request_about_an_appointment_waits_for_the_first(
    confirmed, enrolled, access, practice
):
    practice.cancellation_approval = CancellationApproval.ALL
    practice.save()
    first = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    before = counts()
    with pytest.raises(ValidationError) as again:
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 14)
        )
    assert "status" in again.value.message_dict
    with pytest.raises(ValidationError) as cancel:
        services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    assert "status" in cancel.value.message_dict
    assert counts() == before
    # Withdrawn, it no longer stands in the way.
    services.request_withdraw(enrolled, access=access, request=first)
    second = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 14)
    )
    assert second.status == RequestStatus.PENDING


def test_a_cancellation_request_waiting_blocks_a_reschedule_request(
    confirmed, enrolled, access, practice
):
    practice.cancellation_approval = CancellationApproval.ALL
    practice.save()
    services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    with pytest.raises(ValidationError):
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
        )
    assert AppointmentRequest.objects.count() == 1


def test_a_denied_request_no_longer_stands_in_the_way(confirmed, enrolled, access, admin):
    first = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    services.request_deny(admin, request=first, reason="Full")
    assert services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 14)
    ).pk


# --- Cancel ------------------------------------------------------------------------------------


def test_without_approval_a_cancellation_is_at_once(confirmed, enrolled, access, patient, profile):
    cancelled = services.patient_cancel(
        enrolled, access=access, appointment=confirmed, reason="  Feeling better "
    )
    assert isinstance(cancelled, Appointment)
    confirmed.refresh_from_db()
    assert confirmed.status == AppointmentStatus.CANCELLED
    assert confirmed.cancel_reason == "Feeling better"
    assert not AppointmentRequest.objects.exists()
    assert emails("scheduling.cancelled", patient.email) == 1
    assert services.is_open_time(profile, confirmed.appointment_type, at(TUESDAY, 10))


def test_with_approval_a_cancellation_becomes_a_request_and_the_appointment_stays(
    confirmed, enrolled, access, practice
):
    practice.cancellation_approval = CancellationApproval.ALL
    practice.save()
    request = services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    assert isinstance(request, AppointmentRequest)
    assert (request.kind, request.status, request.reason) == (
        RequestKind.CANCEL,
        RequestStatus.PENDING,
        "Sick",
    )
    assert request.start_at is None and request.original == confirmed
    assert _status(confirmed) == AppointmentStatus.BOOKED
    assert emails("booking.received", enrolled.email) == 1


@pytest.mark.parametrize(("reason", "field"), [("", "reason"), ("x" * 301, "reason")])
def test_a_cancellation_needs_a_reason(reason, field, confirmed, enrolled, access):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.patient_cancel(enrolled, access=access, appointment=confirmed, reason=reason)
    assert field in refused.value.message_dict
    assert counts() == before and _status(confirmed) == AppointmentStatus.BOOKED


def test_a_cancelled_appointment_cannot_be_cancelled_again(confirmed, enrolled, access):
    services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    confirmed.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    assert "status" in refused.value.message_dict


def test_cancelling_a_tentative_appointment_declines_the_proposal(world, enrolled, access):
    tentative = world["tentative"]
    services.patient_cancel(enrolled, access=access, appointment=tentative, reason="No thanks")
    tentative.refresh_from_db()
    assert tentative.status == AppointmentStatus.CANCELLED
    assert tentative.cancel_reason == "No thanks"
    assert AppointmentRequest.objects.get(appointment=tentative).status == RequestStatus.DECLINED


def test_accepting_twice_or_after_declining_is_refused(world, enrolled, access):
    tentative = world["tentative"]
    services.proposal_accept(enrolled, access=access, appointment=tentative)
    tentative.refresh_from_db()
    with pytest.raises(ValidationError):
        services.proposal_accept(enrolled, access=access, appointment=tentative)
    with pytest.raises(ValidationError):
        services.proposal_decline(enrolled, access=access, appointment=tentative)
    assert _status(tentative) == AppointmentStatus.BOOKED


@pytest.mark.parametrize("policy", [CancellationApproval.NONE, CancellationApproval.ALL])
def test_while_the_practice_proposes_another_time_nothing_else_is_asked_about_it(
    policy, confirmed, enrolled, access, admin, practice
):
    # The patient asked to move the appointment; the practice answered with another time that
    # waits for the patient. Answering it is the next step: another request about the same
    # appointment would be undone by accepting (which cancels the original).
    practice.cancellation_approval = policy
    practice.save()
    first = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    tentative = services.request_propose(
        admin, request=first, start_at=at(WEDNESDAY, 14), reason="11 is taken"
    )
    before = counts()
    with pytest.raises(ValidationError) as again:
        services.reschedule_request(
            enrolled, access=access, appointment=confirmed, start_at=at(THURSDAY, 15)
        )
    assert again.value.message_dict["status"] == [
        "The practice proposed another time for this appointment: accept or decline it first."
    ]
    with pytest.raises(ValidationError) as cancel:
        services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")
    assert "status" in cancel.value.message_dict
    assert counts() == before and _status(confirmed) == AppointmentStatus.BOOKED
    # Once the patient declined it, the appointment is theirs to change again.
    services.proposal_decline(enrolled, access=access, appointment=tentative)
    assert services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(THURSDAY, 15)
    ).pk


def test_a_proposed_time_the_practice_withdrew_no_longer_stands_in_the_way(
    confirmed, enrolled, access, admin
):
    # Staff cancel the tentative appointment in the book: nothing waits for the patient now.
    first = services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11)
    )
    tentative = services.request_propose(
        admin, request=first, start_at=at(WEDNESDAY, 14), reason="11 is taken"
    )
    scheduling.appointment_cancel(admin, appointment=tentative, reason="Provider away")
    assert services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(THURSDAY, 15)
    ).pk
