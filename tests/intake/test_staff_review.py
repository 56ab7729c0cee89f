"""A submitted form beside the chart (SPEC §10.3): staff read every answer that showed, accept
answers into the chart one by one (demographics, new allergies and medications with a code,
medications stopped) or decline them, every change audited, then mark the form processed; a
printable view. Bad input shows a message and changes nothing; another practice's form is a
404, someone who is not staff gets a 403."""

import datetime as dt

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.charts.models import MedicationStatus
from portico.intake import services
from portico.intake.models import FormStatus
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


def answers(chart_lists) -> dict:
    allergy = str(chart_lists["allergy"].public_id)
    medication = str(chart_lists["medication"].public_id)
    return {
        "preferred_name": "Robbie",
        "email": "not an email",
        "address_line1": "12 Elm Street",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "has_insurance": "no",
        "allergies": {
            "current": {allergy: "no"},
            "added": [{"name": "Peanuts", "reaction": "Swelling"}],
        },
        "medications": {
            "current": {medication: "no"},
            "added": [{"name": "Metformin 500 mg", "instructions": "Twice a day"}],
        },
        "conditions": ["asthma", "diabetes"],
        "smoking": "never",
        "weight": "150.5",
        "consent_to_treat": {"agreed": True, "signature": "Robin Tester"},
    }


@pytest.fixture
def submitted(form, chart_lists):
    """The new-patient form filled in and submitted through the emailed link."""
    services.form_save(None, form=form, answers=answers(chart_lists))
    return services.form_submit(None, form=form)


def page_of(client, form) -> str:
    response = client.get(reverse("intake:form", args=[form.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def decide(client, form, key, decision="accept", **values):
    return client.post(
        reverse("intake:review_item", args=[form.public_id]),
        {"key": key, "decision": decision, **values},
    )


def test_the_form_shows_every_answer_that_showed_beside_the_chart(
    client, staff, patient, submitted
):
    sign_in(client, staff)
    page = page_of(client, submitted)
    # Answers, by section; questions whose condition did not hold are left out.
    assert "Do you have health insurance?" in page
    assert "Insurance company" not in page and "How many packs a day?" not in page
    assert "Asthma, Diabetes" in page and "150.5 lb" in page and "Never" in page
    assert "Robin Tester" in page and "12/07/2026" in page  # signature and date signed
    assert "Peanuts — Swelling" in page and "no longer takes it" in page
    # The chart as it is now.
    assert "The chart now" in page and "Penicillin" in page and "Lisinopril 10 mg tablet" in page
    # What can go into the chart.
    assert "Mark stopped in the chart" in page and "Seen" in page and "Mark processed" in page
    assert 'data-code-search="/ehr/codes/rxnorm/"' in page and 'list="rxnorm-codes"' in page
    event = AuditEvent.objects.filter(action="chart.view", patient=patient).latest("id")
    assert event.actor_id == staff.pk
    assert event.details == {"page": "intake form", "form": str(submitted.public_id)}


def test_accepting_a_demographic_updates_the_chart(client, staff, patient, submitted):
    sign_in(client, staff)
    page = page_of(client, submitted)
    assert "Robbie" in page
    response = decide(client, submitted, "preferred_name")
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.preferred_name == "Robbie"
    assert AuditEvent.objects.filter(action="chart.update", patient=patient).exists()
    accepted = AuditEvent.objects.get(action="intake.answer_accept", patient=patient)
    assert accepted.details["item"] == "preferred_name"
    page = page_of(client, submitted)
    assert "Accepted" in page


def test_accepting_a_new_allergy_with_its_code_adds_it_to_the_chart(
    client, staff, patient, submitted
):
    sign_in(client, staff)
    response = decide(
        client,
        submitted,
        "allergies:added:0",
        display="Peanut",
        code="",
        reaction="Swelling of the lips",
        severity="severe",
    )
    assert response.status_code == 302
    allergy = patient.allergies.get(display="Peanut")
    assert allergy.reaction == "Swelling of the lips" and allergy.severity == "severe"
    assert allergy.recorded_on == dt.date(2026, 12, 7)
    assert AuditEvent.objects.filter(action="clinical.create", patient=patient).count() == 3


def test_accepting_a_new_medication_takes_the_code_from_the_code_search(
    client, staff, patient, submitted
):
    sign_in(client, staff)
    response = decide(
        client, submitted, "medications:added:0", display="Metformin 500 mg", code="6809"
    )
    assert response.status_code == 302
    medication = patient.medications.get(display="Metformin 500 mg")
    assert medication.code == "6809" and medication.code_system == "rxnorm"
    assert medication.instructions == "Twice a day"
    assert AuditEvent.objects.filter(action="intake.answer_accept", patient=patient).count() == 1


def test_a_medication_the_patient_stopped_is_marked_stopped(
    client, staff, patient, submitted, chart_lists
):
    medication = chart_lists["medication"]
    sign_in(client, staff)
    response = decide(client, submitted, f"medications:stopped:{medication.public_id}")
    assert response.status_code == 302
    medication.refresh_from_db()
    assert medication.status == MedicationStatus.STOPPED
    assert medication.stop_date == dt.date(2026, 12, 7)
    assert AuditEvent.objects.filter(action="clinical.update", patient=patient).exists()


def test_an_allergy_the_patient_says_is_wrong_is_only_seen(
    client, staff, patient, submitted, chart_lists
):
    allergy = chart_lists["allergy"]
    sign_in(client, staff)
    response = decide(client, submitted, f"allergies:not_current:{allergy.public_id}")
    assert response.status_code == 302
    assert patient.allergies.filter(pk=allergy.pk).exists()  # corrected in the chart itself
    assert AuditEvent.objects.filter(action="intake.answer_accept", patient=patient).exists()


def test_declining_changes_nothing_in_the_chart(client, staff, patient, submitted):
    sign_in(client, staff)
    before = patient.allergies.count()
    response = decide(client, submitted, "allergies:added:0", decision="decline")
    assert response.status_code == 302
    assert patient.allergies.count() == before
    submitted.refresh_from_db()
    assert submitted.review == {"allergies:added:0": "declined"}
    assert AuditEvent.objects.filter(action="intake.answer_decline", patient=patient).exists()
    assert not AuditEvent.objects.filter(action="intake.answer_accept").exists()
    assert "Declined" in page_of(client, submitted)


def test_a_decision_is_not_taken_twice(client, staff, patient, submitted):
    sign_in(client, staff)
    decide(client, submitted, "allergies:added:0")
    decide(client, submitted, "allergies:added:0")
    decide(client, submitted, "allergies:added:0", decision="decline")
    assert patient.allergies.filter(display="Peanuts").count() == 1
    submitted.refresh_from_db()
    assert submitted.review == {"allergies:added:0": "accepted"}
    assert AuditEvent.objects.filter(action="intake.answer_accept").count() == 1
    # A decision taken shows without buttons.
    page = page_of(client, submitted)
    item = page.split('id="review-allergies-added-0"', 1)[1].split("</li>", 1)[0]
    assert "Accepted" in item and "<button" not in item


def test_staff_mark_the_form_processed(client, staff, patient, submitted):
    sign_in(client, staff)
    response = client.post(reverse("intake:process", args=[submitted.public_id]), follow=True)
    page = response.content.decode()
    assert "The form is marked processed." in page
    submitted.refresh_from_db()
    assert submitted.status == FormStatus.PROCESSED and submitted.processed_by == staff
    assert AuditEvent.objects.filter(action="intake.form_process", patient=patient).exists()
    # Processed: no more decisions.
    assert "Mark processed" not in page and "Mark stopped in the chart" not in page
    response = decide(client, submitted, "allergies:added:0")
    assert response.status_code == 400
    assert "Only a submitted form that is not yet processed can be reviewed." in (
        response.content.decode()
    )
    assert not patient.allergies.filter(display="Peanuts").exists()


def test_an_unknown_answer_key_shows_a_message_and_changes_nothing(
    client, staff, patient, submitted
):
    sign_in(client, staff)
    response = decide(client, submitted, "not_a_question")
    assert response.status_code == 400
    assert "This answer cannot go into the chart." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.review == {}


def test_a_bad_code_shows_a_message_beside_the_answer_and_changes_nothing(
    client, staff, patient, submitted
):
    sign_in(client, staff)
    before = patient.allergies.count()
    response = decide(client, submitted, "allergies:added:0", display="Peanut", code="abc!")
    page = response.content.decode()
    assert response.status_code == 400
    item = page.split('id="review-allergies-added-0"', 1)[1].split("</li>", 1)[0]
    assert "Enter a RxNorm code such as" in item
    assert 'value="abc!"' in item and 'value="Peanut"' in item  # what staff typed is kept
    assert patient.allergies.count() == before
    submitted.refresh_from_db()
    assert submitted.review == {}
    assert not AuditEvent.objects.filter(action="intake.answer_accept").exists()


def test_a_bad_demographic_value_shows_a_message_and_changes_nothing(
    client, staff, patient, submitted
):
    email = patient.email
    sign_in(client, staff)
    response = decide(client, submitted, "email")
    assert response.status_code == 400
    item = response.content.decode().split('id="review-email"', 1)[1].split("</li>", 1)[0]
    assert 'role="alert"' in item and "email address" in item
    patient.refresh_from_db()
    assert patient.email == email
    submitted.refresh_from_db()
    assert submitted.review == {}


def test_a_bad_decision_shows_a_message(client, staff, submitted):
    sign_in(client, staff)
    response = decide(client, submitted, "preferred_name", decision="maybe")
    assert response.status_code == 400
    assert "Choose Accept or Decline." in response.content.decode()


def test_a_form_still_open_shows_its_answers_so_far_read_only(client, staff, form, chart_lists):
    services.form_save(None, form=form, answers={"city": "Springfield"})
    sign_in(client, staff)
    page = page_of(client, form)
    assert "Waiting for the patient" in page and "Springfield" in page
    assert "Mark processed" not in page and "Accept" not in page
    assert "Resend" in page and "Withdraw" in page


def test_a_withdrawn_form_says_so(client, staff, form):
    services.form_cancel(staff, form=form)
    sign_in(client, staff)
    assert "This form was withdrawn" in page_of(client, form)


def test_the_printable_view_shows_the_signature_and_the_patient(client, staff, patient, submitted):
    sign_in(client, staff)
    response = client.get(reverse("intake:form_print", args=[submitted.public_id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Robin Tester" in page and "Consent to treatment" in page
    assert patient.full_name in page and "04/21/1980" in page
    assert "Wednesday, December 9, 2026, 10:00 AM" in page
    assert "intake-staff.css" in page
    event = AuditEvent.objects.filter(action="chart.view", patient=patient).latest("id")
    assert event.details["page"] == "intake form, printable"


@pytest.mark.parametrize("name", ["intake:form", "intake:form_print"])
def test_another_practices_form_is_not_found(client, outsider, submitted, name):
    sign_in(client, outsider)
    assert client.get(reverse(name, args=[submitted.public_id])).status_code == 404


@pytest.mark.parametrize("name", ["intake:review_item", "intake:process"])
def test_another_practice_cannot_act_on_the_form(client, outsider, patient, submitted, name):
    sign_in(client, outsider)
    response = client.post(
        reverse(name, args=[submitted.public_id]),
        {"key": "preferred_name", "decision": "accept"},
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.preferred_name == ""
    submitted.refresh_from_db()
    assert submitted.status == FormStatus.SUBMITTED


@pytest.mark.parametrize(
    "name", ["intake:form", "intake:form_print", "intake:review_item", "intake:process"]
)
def test_form_pages_are_for_members_only(client, submitted, name):
    sign_in(client, factories.make_user())
    method = client.get if name in ("intake:form", "intake:form_print") else client.post
    assert method(reverse(name, args=[submitted.public_id])).status_code == 403


@pytest.mark.parametrize("name", ["intake:review_item", "intake:process"])
def test_review_actions_refuse_a_get(client, staff, submitted, name):
    sign_in(client, staff)
    assert client.get(reverse(name, args=[submitted.public_id])).status_code == 405


@pytest.mark.parametrize(
    "values",
    [{"severity": "catastrophic"}, {"display": ""}, {"display": "x" * 300}, {"code": "12" * 20}],
)
def test_bad_values_for_a_new_allergy_show_a_message_and_change_nothing(
    client, staff, patient, submitted, values
):
    sign_in(client, staff)
    before = patient.allergies.count()
    response = decide(client, submitted, "allergies:added:0", **values)
    assert response.status_code == 400
    item = response.content.decode().split('id="review-allergies-added-0"', 1)[1]
    assert 'role="alert"' in item.split("</li>", 1)[0]
    assert patient.allergies.count() == before
    submitted.refresh_from_db()
    assert submitted.review == {}
