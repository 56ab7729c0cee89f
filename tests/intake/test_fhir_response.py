"""Submitted forms as FHIR R4 QuestionnaireResponses (SPEC §10.3): every response validates with
fhir.resources, points at its Questionnaire's canonical URL and version, follows its groups,
and carries exactly the answers of the questions that show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from portico.intake import services
from portico.intake.fhir import questionnaire_of, questionnaire_response_of
from portico.intake.models import FormStatus
from tests.intake.test_fhir_questionnaire import EVERY_TYPE, items_by_link, link_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_type_form(admin, staff, practice, appointment):
    template = services.template_create(
        admin, practice=practice, name="Every type", definition=EVERY_TYPE
    )
    return services.form_send(staff, appointment=appointment, template=template)


def answers_of(chart_lists) -> dict:
    return {
        "city": "Springfield",
        "story": "Line one\nLine two",
        "smoker": "yes",
        "packs": "1.5",
        "color": "red",
        "why_blue": "hidden: red was chosen",
        "pets": ["cat", "dog"],
        "dog_name": "Rex",
        "last_visit": "2025-03-15",
        "height": "70",
        "score": "2.25",
        "allergies": {
            "none": False,
            "current": {str(chart_lists["allergy"].public_id): "yes"},
            "added": [{"name": "Peanuts", "reaction": "Swelling"}],
        },
        "medications": {
            "current": {str(chart_lists["medication"].public_id): "no"},
            "added": [{"name": "Vitamin D", "instructions": "Daily"}],
        },
        "consent": {"agreed": True, "signature": "Robin Tester"},
    }


def answer_values(items) -> dict[str, list]:
    """linkId → its answers' values (of every level)."""
    found: dict[str, list] = {}
    for item in items or []:
        for answer in item.get("answer") or []:
            ((field, value),) = answer.items()
            found.setdefault(item["linkId"], []).append((field, value))
        for key, values in answer_values(item.get("item")).items():
            found.setdefault(key, []).extend(values)
    return found


def test_a_submitted_form_with_every_answer_type_is_a_valid_matching_response(
    every_type_form, chart_lists, patient
):
    form = services.form_save(None, form=every_type_form, answers=answers_of(chart_lists))
    form = services.form_submit(None, form=form)
    data = questionnaire_response_of(form)
    QuestionnaireResponse.model_validate(data)
    questionnaire = questionnaire_of(form.version)
    assert data["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert data["status"] == "completed"
    assert data["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert data["authored"].endswith("Z")
    # Every linkId of the response is one of the Questionnaire's, in its groups.
    known = items_by_link(questionnaire["item"])
    assert set(link_ids(data["item"])) <= set(known)
    assert [g["linkId"] for g in data["item"]] == ["basics", "consent.section"]
    values = answer_values(data["item"])
    assert values["city"] == [("valueString", "Springfield")]
    assert values["story"] == [("valueString", "Line one\nLine two")]
    assert values["smoker"] == [("valueBoolean", True)]
    assert [(f, Decimal(str(v))) for f, v in values["packs"]] == [("valueDecimal", Decimal("1.5"))]
    assert values["color"] == [("valueCoding", {"code": "red", "display": "Red"})]
    assert "why_blue" not in values  # its condition does not hold: not part of the form
    assert values["pets"] == [
        ("valueCoding", {"code": "cat", "display": "Cat"}),
        ("valueCoding", {"code": "dog", "display": "Dog"}),
    ]
    assert values["dog_name"] == [("valueString", "Rex")]
    assert values["last_visit"] == [("valueDate", "2025-03-15")]
    assert values["height"] == [("valueInteger", 70)]
    assert values["score"] == [("valueDecimal", 2.25)]
    assert values["consent.agree"] == [("valueBoolean", True)]
    assert values["consent.signature"] == [("valueString", "Robin Tester")]
    assert values["consent.signed_on"] == [("valueDate", form.answers["consent"]["signed_on"])]
    assert values["allergies.name"] == [("valueString", "Penicillin"), ("valueString", "Peanuts")]
    assert values["allergies.reaction"] == [("valueString", "Swelling")]
    assert [v["code"] for _f, v in values["allergies.status"]] == ["yes", "new"]
    assert values["medications.name"] == [
        ("valueString", "Lisinopril 10 mg tablet"),
        ("valueString", "Vitamin D"),
    ]
    assert [v["code"] for _f, v in values["medications.status"]] == ["no", "new"]
    assert values["medications.instructions"] == [("valueString", "Daily")]
    entries = [i for i in items_by_link(data["item"]).values() if i["linkId"].endswith(".entry")]
    assert entries, "list entries are repeated groups"


def test_a_form_still_with_the_patient_is_in_progress(every_type_form):
    data = questionnaire_response_of(every_type_form)
    QuestionnaireResponse.model_validate(data)
    assert data["status"] == "in-progress"
    assert "item" not in data and "authored" not in data
    form = services.form_save(None, form=every_type_form, answers={"city": "Springfield"})
    data = questionnaire_response_of(form)
    assert data["status"] == "in-progress"
    assert answer_values(data["item"]) == {"city": [("valueString", "Springfield")]}


def test_a_processed_form_is_completed(every_type_form, chart_lists, staff):
    form = services.form_save(None, form=every_type_form, answers=answers_of(chart_lists))
    form = services.form_submit(None, form=form)
    form = services.form_process(staff, form=form)
    assert form.status == FormStatus.PROCESSED
    assert questionnaire_response_of(form)["status"] == "completed"


def test_a_withdrawn_form_is_stopped(every_type_form, staff):
    form = services.form_cancel(staff, form=every_type_form)
    data = questionnaire_response_of(form)
    QuestionnaireResponse.model_validate(data)
    assert data["status"] == "stopped"


def test_no_known_allergies_is_an_answer(every_type_form):
    form = services.form_save(None, form=every_type_form, answers={"allergies": {"none": True}})
    values = answer_values(questionnaire_response_of(form)["item"])
    assert values == {"allergies.none": [("valueBoolean", True)]}


def test_the_ready_new_patient_form_is_a_valid_response(form, chart_lists):
    """The conftest's form (the ready "New patient" template) filled in and submitted."""
    answers = {
        "address_line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "has_insurance": "no",
        "allergies": {"none": True},
        "medications": {"current": {str(chart_lists["medication"].public_id): "yes"}},
        "smoking": "yes_now",
        "packs_per_day": "0.5",
        "consent_to_treat": {"agreed": True, "signature": "Robin Tester"},
    }
    form = services.form_submit(None, form=services.form_save(None, form=form, answers=answers))
    data = questionnaire_response_of(form)
    QuestionnaireResponse.model_validate(data)
    values = answer_values(data["item"])
    assert values["packs_per_day"] == [("valueDecimal", 0.5)]
    assert values["smoking"] == [("valueCoding", {"code": "yes_now", "display": "Yes, now"})]
