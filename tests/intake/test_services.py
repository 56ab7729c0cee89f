"""The intake services' rules: versions, sending (by hand and with a booking), saving,
submitting, the emailed link, and accepting answers into the chart."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.charts.models import MedicationStatus
from portico.intake import definition as defs
from portico.intake import services
from portico.intake.models import FormStatus, IntakeForm
from portico.intake.review import review_items
from portico.notifications.models import OutboundEmail
from portico.portal import tokens
from portico.scheduling.models import AppointmentStatus
from portico.scheduling.services import appointment_book, appointment_cancel, appointment_confirm
from tests.factories import enroll
from tests.intake.conftest import at

pytestmark = pytest.mark.django_db

COMPLETE = {
    "address_line1": "1 Main Street",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "has_insurance": "no",
    "smoking": "never",
    "allergies": {"none": "on"},
    "medications": {"added": [{"name": "Vitamin D", "instructions": "daily"}]},
    "consent_to_treat": {"agreed": "on", "signature": "Pat Doe"},
}


def submitted(form, answers=COMPLETE):
    services.form_save(None, form=form, answers=answers)
    return services.form_submit(None, form=form)


# ---------------------------------------------------------------------------
# Versions


def test_editing_a_template_no_form_was_sent_with_changes_it_in_place(admin, new_patient_template):
    version = new_patient_template.current_version
    definition = version.definition
    definition["sections"][0]["title"] = "About you and your family"
    saved = services.template_save(admin, template=new_patient_template, definition=definition)
    assert saved.pk == version.pk and saved.number == 1
    assert new_patient_template.versions.count() == 1


def test_editing_a_template_a_form_was_sent_with_makes_a_new_version_the_form_keeps_its_own(
    admin, form, new_patient_template
):
    old = form.version
    definition = old.definition | {}
    definition = {"sections": [*old.definition["sections"][:1]]}
    services.template_save(admin, template=new_patient_template, definition=definition)
    new_patient_template.refresh_from_db()
    assert new_patient_template.current_version.number == 2
    form.refresh_from_db()
    assert form.version == old and len(defs.sections(form.definition)) == 5


def test_only_an_administrator_builds_templates(staff, practice):
    with pytest.raises(PermissionDenied):
        services.template_create(staff, practice=practice, name="Sports physical")


def test_a_bad_definition_is_refused_and_nothing_is_stored(admin, practice):
    bad = {"sections": [{"key": "s1", "title": "A", "questions": [{"key": "q", "type": "x"}]}]}
    with pytest.raises(ValidationError) as refused:
        services.template_create(admin, practice=practice, name="Broken", definition=bad)
    assert "definition" in refused.value.message_dict
    assert not practice.intake_templates.exists()


def test_two_templates_of_a_practice_cannot_share_a_name(admin, practice, new_patient_template):
    with pytest.raises(ValidationError) as refused:
        services.ready_template_install(admin, practice=practice, which="new_patient")
    assert "already has a template of that name" in str(refused.value)


# ---------------------------------------------------------------------------
# Sending


def test_a_form_sent_by_hand_emails_the_patient_a_link_of_its_own(form, patient):
    assert form.status == FormStatus.SENT and form.version.number == 1
    assert form.link_is_live
    email = OutboundEmail.objects.get(kind=services.FORM_EMAIL)
    assert email.to_address == patient.email and email.subject_id == form.public_id
    assert services.form_for_link(services.link_of(form)) == form


def test_a_patient_with_portal_access_is_sent_to_the_portal_not_a_link(
    staff, patient, appointment, new_patient_template
):
    enroll(staff, patient)
    form = services.form_send(staff, appointment=appointment, template=new_patient_template)
    assert form.link_token_hash == ""


def test_sending_again_resends_the_same_form_with_a_new_link_and_the_old_one_dies(
    staff, form, appointment, new_patient_template
):
    old_link = services.link_of(form)
    again = services.form_send(staff, appointment=appointment, template=new_patient_template)
    assert again.pk == form.pk
    with pytest.raises(services.LinkError):
        services.form_for_link(old_link)
    assert services.form_for_link(services.link_of(again)) == form
    assert OutboundEmail.objects.filter(kind=services.FORM_EMAIL).count() == 2


def test_no_form_for_an_appointment_cancelled_or_over(staff, appointment, new_patient_template):
    appointment_cancel(staff, appointment=appointment, reason="Patient called")
    with pytest.raises(ValidationError) as refused:
        services.form_send(staff, appointment=appointment, template=new_patient_template)
    assert "still to come" in str(refused.value)


def test_staff_of_another_practice_cannot_send_a_form(outsider, appointment, new_patient_template):
    with pytest.raises(PermissionDenied):
        services.form_send(outsider, appointment=appointment, template=new_patient_template)


def test_another_practices_template_is_refused(
    appointment, staff, other_practice, new_patient_template
):
    from tests.factories import make_admin

    theirs = services.ready_template_install(
        make_admin(other_practice), practice=other_practice, which="follow_up"
    )
    with pytest.raises(ValidationError):
        services.form_send(staff, appointment=appointment, template=theirs)


def test_a_booking_of_a_visit_type_with_a_form_sends_it_by_itself(
    now, admin, staff, patient, provider, hours, new_patient_visit, follow_up, new_patient_template
):
    services.visit_type_intake_set(
        admin, visit_type=new_patient_visit, template=new_patient_template
    )
    booked = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 10),
    )
    other = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(dt.date(2026, 12, 9), 14),
    )
    form = IntakeForm.objects.get(appointment=booked)
    assert form.sent_how == "booking" and form.template == new_patient_template
    assert not IntakeForm.objects.filter(appointment=other).exists()
    assert OutboundEmail.objects.filter(kind=services.FORM_EMAIL, subject_id=form.public_id)


def test_a_pending_appointment_gets_its_form_when_confirmed_and_only_once(
    now, admin, staff, patient, provider, hours, new_patient_visit, new_patient_template
):
    services.visit_type_intake_set(
        admin, visit_type=new_patient_visit, template=new_patient_template
    )
    pending = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 10),
        status=AppointmentStatus.PENDING,
    )
    assert not IntakeForm.objects.filter(appointment=pending).exists()
    appointment_confirm(staff, appointment=pending)
    appointment_confirm(staff, appointment=pending)
    assert IntakeForm.objects.filter(appointment=pending).count() == 1


def test_a_retired_template_is_no_longer_sent_with_bookings(
    now, admin, staff, patient, provider, hours, new_patient_visit, new_patient_template
):
    services.visit_type_intake_set(
        admin, visit_type=new_patient_visit, template=new_patient_template
    )
    services.template_active_set(admin, template=new_patient_template, active=False)
    booked = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 10),
    )
    assert not IntakeForm.objects.filter(appointment=booked).exists()


def test_a_template_without_questions_does_not_stop_the_booking(
    now, admin, staff, patient, provider, hours, new_patient_visit, practice
):
    empty = services.template_create(admin, practice=practice, name="Empty")
    services.visit_type_intake_set(admin, visit_type=new_patient_visit, template=empty)
    booked = appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 10),
    )
    assert booked.pk and not IntakeForm.objects.filter(appointment=booked).exists()


# ---------------------------------------------------------------------------
# Saving and submitting


def test_a_failed_save_stores_nothing(form):
    services.form_save(None, form=form, answers={"city": "Springfield"})
    with pytest.raises(defs.AnswerErrors) as refused:
        services.form_save(None, form=form, answers={"city": "Chicago", "smoking": "often"})
    assert set(refused.value.errors) == {"smoking"}
    form.refresh_from_db()
    assert form.answers == {"city": "Springfield"} and form.status == FormStatus.STARTED


def test_submit_waits_for_every_required_answer_then_locks_the_form(form):
    services.form_save(None, form=form, answers={"city": "Springfield"})
    with pytest.raises(defs.AnswerErrors) as refused:
        services.form_submit(None, form=form)
    assert "consent_to_treat" in refused.value.errors and "city" not in refused.value.errors
    form = submitted(form)
    assert form.status == FormStatus.SUBMITTED and form.link_token_hash == ""
    with pytest.raises(PermissionDenied):
        services.form_save(None, form=form, answers={"city": "Chicago"})
    with pytest.raises(PermissionDenied):
        services.form_submit(None, form=form)


def test_answers_to_questions_that_no_longer_show_are_dropped_on_submit(form):
    services.form_save(None, form=form, answers={"has_insurance": "yes", "insurer": "Acme"})
    form = submitted(form, COMPLETE | {"has_insurance": "no"})
    assert "insurer" not in form.answers


def test_the_patients_saves_and_submit_are_audited_without_answers(form):
    submitted(form)
    events = AuditEvent.objects.filter(action__startswith="intake.form_")
    assert {e.action for e in events} >= {
        "intake.form_send",
        "intake.form_save",
        "intake.form_submit",
    }
    assert all("Springfield" not in str(e.details) for e in events)


# ---------------------------------------------------------------------------
# The emailed link


def test_the_link_locks_after_five_wrong_dates_of_birth(form, patient, settings):
    link = services.link_of(form)
    for left in range(settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS - 1, 0, -1):
        with pytest.raises(ValidationError) as refused:
            services.link_verify(link, date_of_birth=dt.date(1900, 1, 1))
        assert f"Tries left: {left}." in str(refused.value)
    with pytest.raises(services.LinkError) as locked:
        services.link_verify(link, date_of_birth=dt.date(1900, 1, 1))
    assert locked.value.code == "locked"
    with pytest.raises(services.LinkError):
        services.link_verify(link, date_of_birth=patient.date_of_birth)


def test_the_link_works_with_the_date_of_birth_until_the_form_is_submitted(form, patient):
    link = services.link_of(form)
    assert services.link_verify(link, date_of_birth=patient.date_of_birth) == form
    submitted(form)
    with pytest.raises(services.LinkError) as gone:
        services.form_for_link(link)
    assert gone.value.code == "gone"


def test_a_withdrawn_forms_link_is_gone(staff, form):
    services.form_cancel(staff, form=form)
    with pytest.raises(services.LinkError):
        services.form_for_link(services.link_of(form))


def test_a_forged_link_finds_nothing(form):
    with pytest.raises(services.LinkError):
        services.form_for_link(tokens.link_token("0" * 32, salt=services.LINK_SALT))
    with pytest.raises(services.LinkError):
        services.form_for_link("")


# ---------------------------------------------------------------------------
# Into the chart


def test_each_answer_is_accepted_into_the_chart_or_declined_one_by_one(
    staff, form, patient, chart_lists
):
    medication = chart_lists["medication"]
    answers = COMPLETE | {
        "allergies": {
            "current": {str(chart_lists["allergy"].public_id): "yes"},
            "added": [{"name": "Latex", "reaction": "Rash"}],
        },
        "medications": {
            "current": {str(medication.public_id): "no"},
            "added": [{"name": "Vitamin D", "instructions": "daily"}],
        },
    }
    form = submitted(form, answers)
    items = {item.key: item for item in review_items(form)}
    assert set(items) == {
        "address_line1",
        "city",
        "state",
        "postal_code",
        "allergies:added:0",
        "medications:added:0",
        f"medications:stopped:{medication.public_id}",
    }
    services.form_review_item(staff, form=form, key="city", accept=True)
    services.form_review_item(staff, form=form, key="state", accept=False)
    services.form_review_item(
        staff,
        form=form,
        key="allergies:added:0",
        accept=True,
        values={"display": "Latex rubber", "severity": "moderate"},
    )
    services.form_review_item(
        staff, form=form, key=f"medications:stopped:{medication.public_id}", accept=True
    )
    patient.refresh_from_db()
    assert patient.city == "Springfield" and patient.state != "IL"
    latex = patient.allergies.get(display="Latex rubber")
    assert latex.reaction == "Rash" and latex.severity == "moderate"
    medication.refresh_from_db()
    assert medication.status == MedicationStatus.STOPPED and medication.stop_date
    form.refresh_from_db()
    assert form.review == {
        "city": "accepted",
        "state": "declined",
        "allergies:added:0": "accepted",
        f"medications:stopped:{medication.public_id}": "accepted",
    }
    # A decision is taken once: accepting again adds nothing.
    services.form_review_item(staff, form=form, key="allergies:added:0", accept=True)
    assert patient.allergies.filter(display="Latex rubber").count() == 1
    actions = set(AuditEvent.objects.filter(patient=patient).values_list("action", flat=True))
    assert {
        "intake.answer_accept",
        "intake.answer_decline",
        "clinical.create",
        "clinical.update",
        "chart.update",
    } <= actions


def test_a_bad_value_for_the_chart_is_refused_and_nothing_is_decided(staff, form, patient):
    form = submitted(form, COMPLETE | {"allergies": {"added": [{"name": "Latex"}]}})
    with pytest.raises(ValidationError):
        services.form_review_item(
            staff, form=form, key="allergies:added:0", accept=True, values={"severity": "awful"}
        )
    form.refresh_from_db()
    assert form.review == {} and not patient.allergies.exists()


def test_unknown_items_and_forms_not_submitted_cannot_be_reviewed(staff, form):
    with pytest.raises(ValidationError):
        services.form_review_item(staff, form=form, key="city", accept=True)
    form = submitted(form)
    with pytest.raises(ValidationError):
        services.form_review_item(staff, form=form, key="no-such-answer", accept=True)


def test_marking_processed_needs_a_submitted_form(staff, form):
    with pytest.raises(ValidationError):
        services.form_process(staff, form=form)
    form = submitted(form)
    form = services.form_process(staff, form=form)
    assert form.status == FormStatus.PROCESSED and form.processed_by == staff
    with pytest.raises(ValidationError):
        services.form_review_item(staff, form=form, key="city", accept=True)


def test_an_answer_accepted_is_dated_the_day_it_was_submitted_at_the_practice(
    staff, form, patient, practice
):
    """Submitted at 6 p.m. in New York on 7 December (already the 8th in UTC): the allergy
    is noted on the 7th, the practice's day (the chart refuses dates after today)."""
    import time_machine

    from tests.intake.conftest import NEW_YORK

    with time_machine.travel(dt.datetime(2026, 12, 7, 23, 0, tzinfo=NEW_YORK), tick=False):
        form = submitted(form, COMPLETE | {"allergies": {"added": [{"name": "Latex"}]}})
        services.form_review_item(staff, form=form, key="allergies:added:0", accept=True)
    assert patient.allergies.get(display="Latex").recorded_on == dt.date(2026, 12, 7)
