"""Intake through the API (SPEC §10, §11.2): templates as FHIR Questionnaires (read, import),
the day's forms, a form and its QuestionnaireResponse, sending a template for an appointment.
The token's practice only (another practice's ids: 404), importing for administrators only,
every read of a form audited on the chart, bad input a 4xx JSON error that stores nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from portico.audit.models import AuditEvent
from portico.intake import services
from portico.intake.fhir import questionnaire_of
from portico.intake.models import FormStatus, IntakeForm, IntakeTemplate, IntakeTemplateVersion
from portico.notifications.models import OutboundEmail
from portico.scheduling.services import appointment_book
from tests import factories
from tests.api.conftest import ApiClient, assert_error_body, registered_operations, token_key
from tests.intake import conftest as intake_fixtures
from tests.intake.test_fhir_questionnaire import PHQ2
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db

now = intake_fixtures.now
hours = intake_fixtures.hours
new_patient_visit = intake_fixtures.new_patient_visit
appointment = intake_fixtures.appointment
new_patient_template = intake_fixtures.new_patient_template
follow_up_template = intake_fixtures.follow_up_template
chart_lists = intake_fixtures.chart_lists
form = intake_fixtures.form

WEDNESDAY = dt.date(2026, 12, 9)
INTAKE_OPERATIONS = [op for op in registered_operations() if op[1].startswith("/intake")]


@pytest.fixture
def staff_api(api_as, staff, practice):
    return api_as(staff, practice)


def intake_state() -> tuple:
    return (
        sorted(IntakeTemplate.objects.values_list("public_id", "name", "is_active")),
        IntakeTemplateVersion.objects.count(),
        sorted(IntakeForm.objects.values_list("public_id", "status", "sent_at")),
        AuditEvent.objects.count(),
        OutboundEmail.objects.count(),
    )


def reads(action: str, patient=None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(action=action)
    if patient is not None:
        events = events.filter(patient=patient)
    return list(events.order_by("id"))


def test_the_intake_operations_are_registered():
    assert INTAKE_OPERATIONS == [
        ("get", "/intake/forms"),
        ("get", "/intake/forms/{form_id}"),
        ("get", "/intake/forms/{form_id}/response"),
        ("get", "/intake/templates"),
        ("get", "/intake/templates/{template_id}"),
        ("post", "/intake/appointments/{appointment_id}/forms"),
        ("post", "/intake/templates"),
    ]


# --- Templates -----------------------------------------------------------------------------


def test_templates_are_listed_with_their_current_version(
    staff_api, new_patient_template, follow_up_template
):
    response = staff_api.get("/intake/templates")
    assert response.status_code == 200
    body = response.json()
    assert [t["name"] for t in body] == ["Follow-up visit", "New patient"]
    assert body[1]["id"] == str(new_patient_template.public_id)
    assert body[1]["version"] == 1 and body[1]["is_active"] is True
    assert body[1]["questions"] > 20


def test_a_template_reads_as_a_valid_questionnaire(staff_api, new_patient_template):
    response = staff_api.get(f"/intake/templates/{new_patient_template.public_id}")
    assert response.status_code == 200
    body = response.json()
    Questionnaire.model_validate(body)
    assert body == questionnaire_of(new_patient_template.current_version)


def test_an_earlier_version_reads_as_the_questionnaire_its_forms_name(
    admin, staff_api, form, new_patient_template
):
    """A form keeps the version it was sent with; its response names url|version, and that
    version stays readable after the template changed."""
    definition = new_patient_template.current_version.definition
    changed = {"sections": definition["sections"][:1]}
    services.template_save(admin, template=new_patient_template, definition=changed)
    path = f"/intake/templates/{new_patient_template.public_id}"
    current = staff_api.get(path).json()
    assert current["version"] == "2"
    response = staff_api.get(f"/intake/forms/{form.public_id}/response").json()
    url, number = response["questionnaire"].split("|")
    assert url == current["url"] and number == "1"
    first = staff_api.get(path, {"version": number}).json()
    Questionnaire.model_validate(first)
    assert first["version"] == "1" and first["id"] == str(form.version.public_id)
    assert len(first["item"]) == len(definition["sections"])
    assert_error_body(staff_api.get(path, {"version": 9}), 404)
    assert_error_body(staff_api.get(path, {"version": 0}), 422)


def test_importing_a_questionnaire_creates_a_template(admin_api, practice):
    response = admin_api.post("/intake/templates", PHQ2)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "PHQ-2 depression screening"
    assert body["version"] == 1 and body["questions"] == 9
    template = IntakeTemplate.objects.get(public_id=body["id"])
    assert template.practice == practice
    assert AuditEvent.objects.filter(action="intake.template_create").count() == 1


def test_an_exported_template_imports_back_the_same_under_another_name(
    admin_api, new_patient_template
):
    exported = admin_api.get(f"/intake/templates/{new_patient_template.public_id}").json()
    response = admin_api.client.post(
        "/api/v1/intake/templates?name=Copy+of+new+patient",
        exported,
        content_type="application/json",
        HTTP_AUTHORIZATION=admin_api.authorization,
    )
    assert response.status_code == 201, response.content
    copy = IntakeTemplate.objects.get(public_id=response.json()["id"])
    assert copy.name == "Copy of new patient"
    assert copy.current_version.definition == new_patient_template.current_version.definition


@pytest.mark.parametrize(
    "raw, status, field, message",
    [
        ("{not json", 400, "body", "not valid JSON"),
        ("[1, 2]", 422, None, "a JSON object"),
        ('{"resourceType": "Patient"}', 422, "questionnaire", "not a FHIR Questionnaire"),
        (
            '{"resourceType": "Questionnaire", "status": "active", "item": 5}',
            422,
            "questionnaire",
            "not a valid FHIR R4 Questionnaire",
        ),
        (
            '{"resourceType": "Questionnaire", "status": "active", "item": [{"linkId": "a", '
            '"type": "attachment", "text": "Photo"}]}',
            422,
            "questionnaire",
            'type "attachment" cannot be imported',
        ),
    ],
)
def test_a_bad_import_is_a_clear_error_and_stores_nothing(admin_api, raw, status, field, message):
    before = intake_state()
    body = assert_error_body(admin_api.post("/intake/templates", raw=raw), status)
    messages = (
        [m for ms in body["errors"].values() for m in ms]
        if field is None
        else body["errors"][field]
    )
    assert any(message in m for m in messages), body
    assert intake_state() == before


def test_an_import_under_a_name_already_used_is_422(admin_api, new_patient_template):
    exported = questionnaire_of(new_patient_template.current_version)
    before = intake_state()
    body = assert_error_body(admin_api.post("/intake/templates", exported), 422)
    assert "name" in body["errors"]
    assert intake_state() == before


def test_only_administrators_may_import_even_a_bad_body(staff_api):
    before = intake_state()
    assert_error_body(staff_api.post("/intake/templates", PHQ2), 403)
    assert_error_body(staff_api.post("/intake/templates", raw="[1]"), 403)
    assert intake_state() == before


# --- Forms ---------------------------------------------------------------------------------


def test_the_days_forms_are_listed_and_the_charts_shown_audited(
    staff_api, staff, form, patient, appointment, follow_up_template
):
    response = staff_api.get("/intake/forms", {"date": WEDNESDAY.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2026-12-09"
    (item,) = body["items"]
    assert item["id"] == str(form.public_id)
    assert item["patient"] == {"id": str(patient.public_id), "name": patient.full_name}
    assert item["appointment"]["id"] == str(appointment.public_id)
    assert item["template"] == {
        "id": str(form.template.public_id),
        "name": "New patient",
        "version": 1,
    }
    assert item["status"] == "sent"
    (event,) = reads("chart.list")
    assert event.actor == staff
    assert event.details["charts"] == [str(patient.public_id)]
    # Another day has none of them.
    other = staff_api.get("/intake/forms", {"date": "2026-12-10"}).json()
    assert other["items"] == []


def test_the_days_forms_take_the_same_number_of_queries_whatever_their_number(
    staff_api, staff, practice, provider, hours, new_patient_visit, new_patient_template
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def booked(hour):
        chart = factories.make_patient(practice)
        visit = appointment_book(
            staff,
            patient=chart,
            provider=provider,
            appointment_type=new_patient_visit,
            start_at=at(WEDNESDAY, hour),
        )
        services.form_send(staff, appointment=visit, template=new_patient_template)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_api.get("/intake/forms", {"date": "2026-12-09"}).status_code == 200
        return len(queries)

    booked(9)
    count()  # the token's first use is recorded once
    one = count()
    for hour in (10, 11, 13, 14):
        booked(hour)
    assert count() == one


def test_a_form_reads_with_its_summary_and_the_read_is_audited(staff_api, staff, form, patient):
    response = staff_api.get(f"/intake/forms/{form.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "sent" and body["status_label"] == "Waiting for the patient"
    assert body["sent_how"] == "staff"
    assert body["submitted_at"] is None
    (event,) = reads("chart.view", patient)
    assert event.actor == staff and event.details["page"] == "api intake form"


def test_a_submitted_forms_answers_read_as_a_valid_response_and_are_audited(
    staff_api, form, patient, chart_lists
):
    answers = {
        "address_line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "has_insurance": "no",
        "allergies": {"none": True},
        "medications": {"current": {str(chart_lists["medication"].public_id): "yes"}},
        "smoking": "never",
        "consent_to_treat": {"agreed": True, "signature": "Robin Tester"},
    }
    services.form_submit(None, form=services.form_save(None, form=form, answers=answers))
    response = staff_api.get(f"/intake/forms/{form.public_id}/response")
    assert response.status_code == 200
    body = response.json()
    QuestionnaireResponse.model_validate(body)
    assert body["status"] == "completed"
    assert body["subject"] == {"reference": f"Patient/{patient.public_id}"}
    (event,) = reads("chart.view", patient)
    assert event.details["page"] == "api intake answers"


def test_sending_a_template_for_an_appointment(staff_api, appointment, follow_up_template, patient):
    path = f"/intake/appointments/{appointment.public_id}/forms"
    response = staff_api.post(path, {"template_id": str(follow_up_template.public_id)})
    assert response.status_code == 201, response.content
    body = response.json()
    sent = IntakeForm.objects.get(public_id=body["id"])
    assert sent.appointment == appointment and sent.template == follow_up_template
    assert sent.status == FormStatus.SENT
    assert body["template"]["name"] == "Follow-up visit"
    assert AuditEvent.objects.filter(action="intake.form_send", patient=patient).count() == 1
    assert OutboundEmail.objects.count() >= 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "template_id"),
        ({"template_id": "not-a-uuid"}, "template_id"),
        ({"template_id": str(uuid.uuid4())}, "template_id"),
        ({"template_id": None}, "template_id"),
    ],
)
def test_sending_with_a_bad_template_is_422_and_sends_nothing(staff_api, appointment, body, field):
    before = intake_state()
    path = f"/intake/appointments/{appointment.public_id}/forms"
    response = assert_error_body(staff_api.post(path, body), 422)
    assert field in response["errors"]
    assert intake_state() == before


def test_sending_a_retired_template_is_422(admin, staff_api, appointment, follow_up_template):
    services.template_active_set(admin, template=follow_up_template, active=False)
    before = intake_state()
    path = f"/intake/appointments/{appointment.public_id}/forms"
    response = staff_api.post(path, {"template_id": str(follow_up_template.public_id)})
    assert "template_id" in assert_error_body(response, 422)["errors"]
    assert intake_state() == before


# --- Tenancy and auth -----------------------------------------------------------------------


@pytest.fixture
def others(other_practice, now):
    """Another practice's template, appointment and form."""
    admin = factories.make_admin(other_practice)
    template = services.ready_template_install(admin, practice=other_practice, which="follow_up")
    from portico.practices.models import Role
    from portico.scheduling.services import visit_type_save, working_hours_set
    from tests.scheduling.conftest import weekdays

    provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    working_hours_set(
        admin, practice=other_practice, provider=provider, stretches=weekdays(((9, 0), (17, 0)))
    )
    visit = visit_type_save(admin, practice=other_practice, name="Visit", duration_minutes=30)
    booked = appointment_book(
        admin,
        patient=factories.make_patient(other_practice),
        provider=provider,
        appointment_type=visit,
        start_at=at(WEDNESDAY, 10),
    )
    sent = services.form_send(admin, appointment=booked, template=template)
    return {"template": template, "appointment": booked, "form": sent}


def test_another_practices_ids_are_404_and_nothing_changes(admin_api, others, follow_up_template):
    before = intake_state()
    for path in (
        f"/intake/templates/{others['template'].public_id}",
        f"/intake/forms/{others['form'].public_id}",
        f"/intake/forms/{others['form'].public_id}/response",
        f"/intake/forms/{uuid.uuid4()}",
    ):
        assert_error_body(admin_api.get(path), 404)
    path = f"/intake/appointments/{others['appointment'].public_id}/forms"
    assert_error_body(admin_api.post(path, {"template_id": str(follow_up_template.public_id)}), 404)
    # Another practice's template named in the body is a 422 on the field.
    path = f"/intake/appointments/{uuid.uuid4()}/forms"
    assert_error_body(admin_api.post(path, {"template_id": str(others["template"].public_id)}), 404)
    assert intake_state() == before
    listed = [t["id"] for t in admin_api.get("/intake/templates").json()]
    assert str(others["template"].public_id) not in listed
    assert admin_api.get("/intake/forms", {"date": "2026-12-09"}).json()["items"] == []


def test_another_practices_template_in_the_body_is_422(staff_api, appointment, others):
    path = f"/intake/appointments/{appointment.public_id}/forms"
    response = staff_api.post(path, {"template_id": str(others["template"].public_id)})
    assert "template_id" in assert_error_body(response, 422)["errors"]


@pytest.mark.parametrize("method, path", INTAKE_OPERATIONS)
def test_every_intake_operation_needs_a_token(client, method, path):
    anonymous = ApiClient(client, None, authorization="")
    concrete = path.replace("{form_id}", str(uuid.uuid4()))
    concrete = concrete.replace("{template_id}", str(uuid.uuid4()))
    concrete = concrete.replace("{appointment_id}", str(uuid.uuid4()))
    assert_error_body(anonymous.call(method, concrete), 401)


def test_a_token_of_another_practice_sees_none_of_these(client, outsider, other_practice, form):
    api = ApiClient(client, token_key(outsider, other_practice))
    assert_error_body(api.get(f"/intake/forms/{form.public_id}"), 404)
    assert_error_body(api.get(f"/intake/templates/{form.template.public_id}"), 404)


def test_bad_query_values_are_422(staff_api):
    assert (
        "date"
        in assert_error_body(staff_api.get("/intake/forms", {"date": "12/09/2026"}), 422)["errors"]
    )
    response = staff_api.get("/intake/forms", {"provider": str(uuid.uuid4())})
    assert "provider" in assert_error_body(response, 422)["errors"]


def test_openapi_describes_every_intake_operation(client):
    schema = client.get("/api/v1/openapi.json").json()
    for method, path in INTAKE_OPERATIONS:
        operation = schema["paths"]["/api/v1" + path][method]
        assert operation["tags"] == ["intake"]
        assert operation["summary"]
        for status in ("401", "422"):
            assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
