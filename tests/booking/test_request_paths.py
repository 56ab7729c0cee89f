"""Every way staff answer a request and the patient answers them (SPEC §8.5–8.6): approve on a
matched or a new chart, deny, propose another time (accepted or declined); the same for a
patient's reschedule and cancellation requests; answered requests stay answered."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.charts.models import Patient
from portico.portal.models import PortalAccess
from portico.practices.models import CancellationApproval
from portico.scheduling.models import Appointment, AppointmentStatus
from tests import factories
from tests.booking.service_helpers import (
    TUESDAY,
    WEDNESDAY,
    ask,
    at,
    book,
    counts,
    emails,
)

pytestmark = pytest.mark.django_db

TYPED_EMAIL = "rosa@example.org"


def _status(obj) -> str:
    obj.refresh_from_db()
    return obj.status


@pytest.fixture
def asked(profile, follow_up):
    """A visitor's pending request for Tuesday 9:00."""
    return ask(profile, follow_up, at(TUESDAY, 9))


@pytest.fixture
def confirmed(admin, patient, provider, follow_up, hours, now):
    """The enrolled patient's confirmed appointment on Tuesday 10:00."""
    return book(admin, patient, provider, follow_up, at(TUESDAY, 10))


@pytest.fixture
def reschedule(enrolled, access, confirmed, profile):
    """The patient asks to move it to Wednesday 11:00."""
    return services.reschedule_request(
        enrolled, access=access, appointment=confirmed, start_at=at(WEDNESDAY, 11), note="Work"
    )


@pytest.fixture
def cancellation(enrolled, access, confirmed, practice, profile):
    """The patient asks to cancel it; the practice approves every cancellation."""
    practice.cancellation_approval = CancellationApproval.ALL
    practice.save()
    return services.patient_cancel(enrolled, access=access, appointment=confirmed, reason="Sick")


# --- A visitor's request: approve ------------------------------------------------------------


def test_approving_on_a_matched_chart_books_it_there_and_emails_the_typed_address(
    asked, admin, patient
):
    charts = Patient.objects.count()
    appointment = services.request_approve(admin, request=asked, patient=patient)
    appointment.refresh_from_db()
    assert appointment.patient == patient and appointment.status == AppointmentStatus.BOOKED
    assert (appointment.start_at, appointment.end_at) == (at(TUESDAY, 9), at(TUESDAY, 9, 20))
    assert appointment.reason == "Knee pain"
    assert Patient.objects.count() == charts
    asked.refresh_from_db()
    assert asked.status == RequestStatus.APPROVED
    assert (asked.patient, asked.appointment, asked.decided_by) == (patient, appointment, admin)
    assert asked.decided_at is not None
    assert emails("scheduling.booked", TYPED_EMAIL) == 1
    assert emails("scheduling.booked", patient.email) == 0
    assert AuditEvent.objects.filter(
        action="booking.request_approve", patient=patient, actor=admin
    ).exists()


def test_approving_without_a_match_makes_a_chart_from_what_was_typed(asked, staff):
    appointment = services.request_approve(staff, request=asked)
    chart = appointment.patient
    assert (chart.legal_first_name, chart.legal_last_name) == ("Rosa", "Rivera")
    assert chart.date_of_birth.isoformat() == "1980-04-02"
    assert chart.email == TYPED_EMAIL and chart.mobile_phone == "+12175550134"
    assert chart.practice == asked.practice
    assert AuditEvent.objects.filter(action="chart.create", patient=chart).exists()
    asked.refresh_from_db()
    assert asked.patient == chart


def test_staff_may_correct_what_was_typed_for_the_new_chart(asked, staff):
    appointment = services.request_approve(
        staff,
        request=asked,
        new_patient={"legal_first_name": "Rosalinda", "email": "rosalinda@example.org"},
    )
    chart = appointment.patient
    assert (chart.legal_first_name, chart.legal_last_name) == ("Rosalinda", "Rivera")
    assert chart.email == "rosalinda@example.org"
    # The confirmation still goes where the requester asked.
    assert emails("scheduling.booked", TYPED_EMAIL) == 1


def test_a_bad_correction_for_the_new_chart_is_refused_and_nothing_is_written(asked, staff):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_approve(staff, request=asked, new_patient={"legal_last_name": " "})
    assert "legal_last_name" in refused.value.message_dict
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_a_chart_of_another_practice_is_refused(asked, admin, other_practice):
    elsewhere = factories.make_patient(other_practice)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_approve(admin, request=asked, patient=elsewhere)
    assert "patient" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.request_propose(
            admin, request=asked, start_at=at(TUESDAY, 11), reason="Busy", patient=elsewhere
        )
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_approving_a_time_taken_since_makes_no_chart_and_leaves_the_request_waiting(
    asked, admin, patient, provider, follow_up
):
    book(admin, patient, provider, follow_up, at(TUESDAY, 9, 10))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_approve(admin, request=asked)
    assert refused.value.message_dict["start_at"] == [
        "That time is already booked. Choose one of the open times."
    ]
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_staff_of_another_practice_cannot_open_or_answer_a_request(asked, outsider):
    before = counts()
    for answer in (
        lambda: services.request_opened(outsider, request=asked),
        lambda: services.request_approve(outsider, request=asked),
        lambda: services.request_deny(outsider, request=asked, reason="No"),
        lambda: services.request_propose(
            outsider, request=asked, start_at=at(TUESDAY, 11), reason="No"
        ),
    ):
        with pytest.raises(PermissionDenied):
            answer()
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_opening_a_request_is_audited(asked, reschedule, staff, patient):
    services.request_opened(staff, request=asked)
    services.request_opened(staff, request=reschedule)
    opened = AuditEvent.objects.filter(action="booking.request_view", actor=staff)
    assert [(e.details["request"], e.patient) for e in opened.order_by("id")] == [
        (str(asked.public_id), None),
        (str(reschedule.public_id), patient),
    ]


# --- Deny --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message", "field"),
    [
        ("", "", "reason"),
        ("  ", "Sorry", "reason"),
        ("x" * 301, "", "reason"),
        ("No", "\x00", "message"),
    ],
)
def test_a_denial_needs_a_reason_and_clean_text(asked, admin, reason, message, field):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_deny(admin, request=asked, reason=reason, message=message)
    assert field in refused.value.message_dict
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_a_denial_is_stored_and_emailed_to_the_typed_address(asked, admin):
    services.request_deny(admin, request=asked, reason="Not our specialty", message="Call us")
    asked.refresh_from_db()
    assert asked.status == RequestStatus.DENIED and asked.decided_by == admin
    assert (asked.decision_reason, asked.decision_message) == ("Not our specialty", "Call us")
    assert asked.patient is None and not Appointment.objects.exists()
    assert emails("booking.denied", TYPED_EMAIL) == 1


# --- Propose another time ----------------------------------------------------------------------


def test_a_proposal_needs_a_reason(asked, admin, patient):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_propose(
            admin, request=asked, start_at=at(TUESDAY, 11), reason=" ", patient=patient
        )
    assert "reason" in refused.value.message_dict
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_a_proposal_at_a_time_that_is_not_open_is_refused(asked, admin, patient):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.request_propose(
            admin, request=asked, start_at=at(TUESDAY, 12, 30), reason="Busy", patient=patient
        )
    assert "start_at" in refused.value.message_dict
    assert counts() == before and _status(asked) == RequestStatus.PENDING


def test_a_proposal_puts_a_tentative_appointment_on_the_chart_holding_its_time(
    asked, admin, patient, profile, follow_up, provider
):
    tentative = services.request_propose(
        admin,
        request=asked,
        start_at=at(TUESDAY, 11),
        reason="9:00 is taken by surgery",
        message="Does 11 work?",
        patient=patient,
    )
    tentative.refresh_from_db()
    assert tentative.patient == patient and tentative.status == AppointmentStatus.PROPOSED
    assert tentative.start_at == at(TUESDAY, 11) and tentative.reason == "Knee pain"
    asked.refresh_from_db()
    assert asked.status == RequestStatus.PROPOSED and asked.appointment == tentative
    assert asked.decision_message == "Does 11 work?"
    assert not services.is_open_time(profile, follow_up, at(TUESDAY, 11))
    with pytest.raises(ValidationError):
        book(admin, factories.make_patient(asked.practice), provider, follow_up, at(TUESDAY, 11))
    assert emails("booking.proposed", TYPED_EMAIL) == 1
    assert emails("scheduling.booked", TYPED_EMAIL) == 0


def test_the_patient_accepting_the_proposal_confirms_it_and_emails_the_typed_address(
    asked, admin, patient, enrolled, access
):
    tentative = services.request_propose(
        admin, request=asked, start_at=at(TUESDAY, 11), reason="Busy", patient=patient
    )
    confirmed = services.proposal_accept(enrolled, access=access, appointment=tentative)
    assert confirmed.pk == tentative.pk and _status(tentative) == AppointmentStatus.BOOKED
    assert _status(asked) == RequestStatus.APPROVED
    assert emails("scheduling.booked", TYPED_EMAIL) == 1
    assert emails("scheduling.booked", patient.email) == 0


def test_the_patient_declining_the_proposal_frees_its_time(
    asked, admin, patient, enrolled, access, profile, follow_up
):
    tentative = services.request_propose(
        admin, request=asked, start_at=at(TUESDAY, 11), reason="Busy", patient=patient
    )
    services.proposal_decline(enrolled, access=access, appointment=tentative)
    assert _status(tentative) == AppointmentStatus.CANCELLED
    assert _status(asked) == RequestStatus.DECLINED
    assert services.is_open_time(profile, follow_up, at(TUESDAY, 11))
    assert emails("scheduling.cancelled", patient.email) == 0


def test_a_proposal_made_on_a_new_chart_waits_for_that_chart(asked, admin):
    tentative = services.request_propose(
        admin, request=asked, start_at=at(TUESDAY, 11), reason="Busy"
    )
    assert tentative.patient.legal_last_name == "Rivera"
    assert tentative.status == AppointmentStatus.PROPOSED


# --- A patient's reschedule request ------------------------------------------------------------


def test_approving_a_reschedule_moves_the_appointment(reschedule, confirmed, admin, patient):
    moved = services.request_approve(admin, request=reschedule)
    assert moved.pk == confirmed.pk
    confirmed.refresh_from_db()
    assert confirmed.start_at == at(WEDNESDAY, 11)
    assert confirmed.status == AppointmentStatus.BOOKED
    assert Appointment.objects.count() == 1
    assert _status(reschedule) == RequestStatus.APPROVED
    assert emails("scheduling.moved", reschedule.email) == 1


def test_denying_a_reschedule_leaves_the_appointment_as_it_was(reschedule, confirmed, admin):
    services.request_deny(admin, request=reschedule, reason="Fully booked")
    confirmed.refresh_from_db()
    assert (confirmed.start_at, confirmed.status) == (at(TUESDAY, 10), AppointmentStatus.BOOKED)
    assert _status(reschedule) == RequestStatus.DENIED
    assert emails("booking.denied", reschedule.email) == 1


def test_a_reschedule_proposal_accepted_confirms_the_new_time_and_cancels_the_original(
    reschedule, confirmed, admin, enrolled, access
):
    tentative = services.request_propose(
        admin, request=reschedule, start_at=at(WEDNESDAY, 14), reason="11 is taken"
    )
    assert tentative.pk != confirmed.pk and tentative.patient == confirmed.patient
    assert _status(confirmed) == AppointmentStatus.BOOKED  # until the patient accepts
    services.proposal_accept(enrolled, access=access, appointment=tentative)
    assert _status(tentative) == AppointmentStatus.BOOKED
    assert _status(confirmed) == AppointmentStatus.CANCELLED
    assert _status(reschedule) == RequestStatus.APPROVED


def test_a_reschedule_proposal_declined_leaves_the_original_as_it_was(
    reschedule, confirmed, admin, enrolled, access
):
    tentative = services.request_propose(
        admin, request=reschedule, start_at=at(WEDNESDAY, 14), reason="11 is taken"
    )
    services.proposal_decline(enrolled, access=access, appointment=tentative)
    assert _status(tentative) == AppointmentStatus.CANCELLED
    confirmed.refresh_from_db()
    assert (confirmed.start_at, confirmed.status) == (at(TUESDAY, 10), AppointmentStatus.BOOKED)
    assert _status(reschedule) == RequestStatus.DECLINED


def test_a_reschedule_of_an_appointment_cancelled_since_cannot_be_approved(
    reschedule, confirmed, admin
):
    from portico.scheduling import services as scheduling

    scheduling.appointment_cancel(admin, appointment=confirmed, reason="Provider ill")
    with pytest.raises(ValidationError) as refused:
        services.request_approve(admin, request=reschedule)
    assert "status" in refused.value.message_dict
    assert _status(reschedule) == RequestStatus.PENDING


# --- A patient's cancellation request ----------------------------------------------------------


def test_approving_a_cancellation_cancels_the_appointment(cancellation, confirmed, admin):
    assert cancellation.kind == RequestKind.CANCEL
    assert _status(confirmed) == AppointmentStatus.BOOKED  # until the practice acts
    services.request_approve(admin, request=cancellation)
    confirmed.refresh_from_db()
    assert confirmed.status == AppointmentStatus.CANCELLED and confirmed.cancel_reason == "Sick"
    assert _status(cancellation) == RequestStatus.APPROVED


def test_denying_a_cancellation_keeps_the_appointment(cancellation, confirmed, admin):
    services.request_deny(admin, request=cancellation, reason="Too late to cancel")
    assert _status(confirmed) == AppointmentStatus.BOOKED
    assert _status(cancellation) == RequestStatus.DENIED


def test_a_cancellation_is_not_answered_with_another_time(cancellation, admin):
    with pytest.raises(ValidationError) as refused:
        services.request_propose(
            admin, request=cancellation, start_at=at(WEDNESDAY, 14), reason="Come instead"
        )
    assert "kind" in refused.value.message_dict
    assert _status(cancellation) == RequestStatus.PENDING


# --- Answered requests -------------------------------------------------------------------------


def _approve(admin, request, patient):
    services.request_approve(admin, request=request, patient=patient)


def _deny(admin, request, patient):
    services.request_deny(admin, request=request, reason="No")


def _propose(admin, request, patient):
    services.request_propose(
        admin, request=request, start_at=at(WEDNESDAY, 15), reason="Later", patient=patient
    )


ANSWERS = {"approve": _approve, "deny": _deny, "propose": _propose}


@pytest.mark.parametrize("first", ANSWERS)
@pytest.mark.parametrize("then", ANSWERS)
def test_an_answered_request_cannot_be_answered_again(first, then, asked, admin, patient):
    ANSWERS[first](admin, asked, patient)
    status = _status(asked)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        ANSWERS[then](admin, asked, patient)
    assert "already answered" in refused.value.message_dict["status"][0]
    assert counts() == before and _status(asked) == status


# --- Withdraw ----------------------------------------------------------------------------------


def test_the_patient_withdraws_a_waiting_request_and_staff_can_no_longer_answer_it(
    reschedule, confirmed, enrolled, access, admin
):
    assert services.request_withdraw(enrolled, access=access, request=reschedule) is True
    assert _status(reschedule) == RequestStatus.WITHDRAWN
    assert services.request_withdraw(enrolled, access=access, request=reschedule) is False
    with pytest.raises(ValidationError):
        services.request_approve(admin, request=reschedule)
    confirmed.refresh_from_db()
    assert (confirmed.start_at, confirmed.status) == (at(TUESDAY, 10), AppointmentStatus.BOOKED)
    assert AuditEvent.objects.filter(action="booking.request_withdraw").count() == 1


def test_the_patient_withdraws_a_cancellation_request_and_keeps_the_appointment(
    cancellation, confirmed, enrolled, access
):
    assert services.request_withdraw(enrolled, access=access, request=cancellation) is True
    assert _status(cancellation) == RequestStatus.WITHDRAWN
    assert _status(confirmed) == AppointmentStatus.BOOKED


def test_a_proposal_waiting_for_the_patient_is_not_withdrawn_but_declined(
    reschedule, admin, enrolled, access
):
    tentative = services.request_propose(
        admin, request=reschedule, start_at=at(WEDNESDAY, 14), reason="11 is taken"
    )
    assert services.request_withdraw(enrolled, access=access, request=reschedule) is False
    assert _status(reschedule) == RequestStatus.PROPOSED
    assert _status(tentative) == AppointmentStatus.PROPOSED


def test_another_chart_cannot_withdraw_the_request(reschedule, admin, practice):
    stranger = factories.make_patient(practice)
    account = factories.enroll(admin, stranger)
    their_access = PortalAccess.objects.get(patient=stranger)
    with pytest.raises(PermissionDenied):
        services.request_withdraw(account, access=their_access, request=reschedule)
    assert _status(reschedule) == RequestStatus.PENDING


def test_a_visitor_request_has_no_chart_to_withdraw_it(asked, enrolled, access):
    with pytest.raises(PermissionDenied):
        services.request_withdraw(enrolled, access=access, request=asked)
    assert _status(asked) == RequestStatus.PENDING


def test_requests_are_only_read_within_their_practice(asked, practice, other_practice):
    assert services.selectors.request_of(practice, asked.public_id) == asked
    assert services.selectors.request_of(other_practice, asked.public_id) is None
    assert list(services.selectors.open_requests(other_practice)) == []
    assert AppointmentRequest.objects.count() == 1


@pytest.mark.parametrize("public_id", ["not-a-uuid", "", None, 12])
def test_a_malformed_request_id_is_a_miss(public_id, asked, practice):
    assert services.selectors.request_of(practice, public_id) is None
