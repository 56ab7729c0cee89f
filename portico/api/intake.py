"""Patient intake through the API (SPEC §10, §11.2): templates as FHIR R4 Questionnaires (read
and import), the day's forms, a form and its answers as a FHIR QuestionnaireResponse, and sending
a template for an appointment. The same services and selectors as the intake pages.

Ids are public ids looked up in the token's practice: a miss, or another practice's id, is a
404 (in the path) or a 422 naming the field (in a body). Reading forms is reading charts: every
read is audited as the chart pages' are. Importing a template needs the settings permission
(administrators), as on EHR Settings > Intake.
"""

from __future__ import annotations

import datetime as dt
import json
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from portico.api.scheduling import PersonOut, ScheduleDate, _appointment, _chosen_provider
from portico.api.schemas import ErrorOut, InputSchema
from portico.charts import services as chart_services
from portico.intake import definition as defs
from portico.intake import fhir, selectors, services
from portico.intake.models import FormStatus, IntakeForm, IntakeTemplate
from portico.portal.representation import practice_today
from portico.practices import permissions

router = Router(tags=["intake"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class FhirResource(Schema):
    """A FHIR R4 resource as JSON (its other elements as FHIR defines them)."""

    resourceType: str = Field(description='"Questionnaire", "QuestionnaireResponse".')

    model_config = ConfigDict(extra="allow")


class QuestionnaireIn(Schema):
    """A FHIR R4 Questionnaire as JSON: checked by the import itself (clear messages naming the
    item), so any JSON object is taken here."""

    model_config = ConfigDict(extra="allow")


# --- Shapes --------------------------------------------------------------------------------


class TemplateOut(Schema):
    id: UUID
    name: str
    version: int | None = Field(description="The version new forms get.")
    questions: int = Field(description="How many questions the current version has.")
    is_active: bool = Field(description="false: retired, no new forms.")
    updated_at: dt.datetime = Field(description="UTC.")

    @staticmethod
    def resolve_id(template: IntakeTemplate) -> UUID:
        return template.public_id

    @staticmethod
    def resolve_version(template: IntakeTemplate) -> int | None:
        current = template.current_version
        return current.number if current is not None else None

    @staticmethod
    def resolve_questions(template: IntakeTemplate) -> int:
        current = template.current_version
        return len(defs.questions(current.definition)) if current is not None else 0


class FormTemplateOut(Schema):
    id: UUID
    name: str = Field(description="The template's name when this version was made.")
    version: int


class FormAppointmentOut(Schema):
    id: UUID
    start_at: dt.datetime = Field(description="UTC.")
    provider: PersonOut | None


class FormOut(Schema):
    id: UUID
    status: FormStatus
    status_label: str
    patient: PersonOut
    appointment: FormAppointmentOut
    template: FormTemplateOut
    sent_how: str = Field(description='"booking" (sent by itself) or "staff" (by hand).')
    sent_at: dt.datetime = Field(description="UTC.")
    saved_at: dt.datetime | None
    submitted_at: dt.datetime | None
    processed_at: dt.datetime | None

    @staticmethod
    def resolve_id(form: IntakeForm) -> UUID:
        return form.public_id

    @staticmethod
    def resolve_status_label(form: IntakeForm) -> str:
        return str(form.get_status_display())

    @staticmethod
    def resolve_patient(form: IntakeForm) -> dict:
        return {"id": form.patient.public_id, "name": form.patient.full_name}

    @staticmethod
    def resolve_appointment(form: IntakeForm) -> dict:
        appointment = form.appointment
        provider = appointment.provider
        return {
            "id": appointment.public_id,
            "start_at": appointment.start_at,
            "provider": {"id": provider.public_id, "name": provider.display_name}
            if provider is not None
            else None,
        }

    @staticmethod
    def resolve_template(form: IntakeForm) -> dict:
        return {
            "id": form.template.public_id,
            "name": form.version.name,
            "version": form.version.number,
        }


class FormDayOut(Schema):
    date: dt.date
    items: list[FormOut]


class FormDayQuery(InputSchema):
    date: ScheduleDate | None = Field(
        None, description="A day of the practice's time zone, YYYY-MM-DD (default: today)."
    )
    provider: UUID | None = Field(None, description="A provider of the practice.")


class VersionQuery(InputSchema):
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="A version number (default: the current one)."
    )


class ImportQuery(InputSchema):
    name: str | None = Field(
        None,
        max_length=100,
        description="The new template's name (default: the Questionnaire's title).",
    )


class SendIn(InputSchema):
    template_id: UUID = Field(..., description="An active template of the practice.")


# --- Helpers -------------------------------------------------------------------------------


def _template(request, template_id: UUID) -> IntakeTemplate:
    template = selectors.template_of(request.practice, template_id)
    if template is None or template.current_version is None:
        raise Http404
    return template


def _fhir_json(data: dict) -> JsonResponse:
    """A FHIR resource, as built (the response schema only documents it)."""
    return JsonResponse(data)


def _form(request, form_id: UUID) -> IntakeForm:
    form = selectors.form_at(request.practice, form_id)
    if form is None:
        raise Http404
    return form


# --- Templates -----------------------------------------------------------------------------


@router.get("/templates", response={200: list[TemplateOut], **ERRORS})
def list_intake_templates(request):
    """The practice's intake templates (retired ones too), by name."""
    return list(selectors.templates_of(request.practice))


@router.get(
    "/templates/{template_id}",
    response={200: FhirResource, **ERRORS},
)
def get_intake_template(request, template_id: UUID, query: Query[VersionQuery]):
    """The template's current version (or, with `version`, that one: the version a form's
    QuestionnaireResponse names) as a FHIR R4 Questionnaire: its url names the template, its
    version the version number, Portico's question types are in extensions."""
    template = _template(request, template_id)
    version = template.current_version
    if query.version is not None and query.version != version.number:
        version = template.versions.filter(number=query.version).first()
        if version is None:
            raise Http404
        version.template = template
    return _fhir_json(fhir.questionnaire_of(version))


@router.post(
    "/templates",
    response={201: TemplateOut, **ERRORS},
)
def import_intake_template(request, query: Query[ImportQuery], payload: QuestionnaireIn):
    """Create a template from a FHIR R4 Questionnaire (administrators). Groups become sections;
    string, text, boolean, choice, date, integer and decimal items become questions; one "="
    condition on an earlier yes/no or choice question is kept. Anything else is a 422 naming
    the item, and nothing is stored."""
    permissions.require(
        permissions.can_manage_settings(request.membership),
        "Only administrators can change EHR Settings.",
    )
    # The body as sent (ninja has checked that it is a JSON object): every element of the
    # Questionnaire, which the import checks itself.
    resource = json.loads(request.body)
    template = fhir.template_from_questionnaire(
        request.user, practice=request.practice, resource=resource, name=query.name
    )
    return Status(201, selectors.template_of(request.practice, template.public_id))


# --- Forms ---------------------------------------------------------------------------------


@router.get("/forms", response={200: FormDayOut, **ERRORS})
def list_intake_forms(request, filters: Query[FormDayQuery]):
    """The forms sent for a day's appointments (withdrawn ones aside), in appointment order;
    optionally one provider's. Patients' names are health information: the charts shown are
    audited as the intake list page is."""
    day = filters.date or practice_today(request.practice)
    provider = _chosen_provider(request, filters.provider, "provider")
    rows = selectors.intake_day(request.practice, day, provider=provider)
    forms = []
    for row in rows:
        for form in row.forms:
            # intake_day fetched the appointment, its patient and provider, and the template.
            form.appointment = row.appointment
            form.patient = row.appointment.patient
            forms.append(form)
    _versions(forms)
    charts = list({form.patient_id: form.patient for form in forms}.values())
    chart_services.charts_listed(
        request.user, practice=request.practice, charts=charts, what=f"api intake forms {day}"
    )
    return {"date": day, "items": forms}


def _versions(forms: list[IntakeForm]) -> None:
    """The forms' versions in one query."""
    from portico.intake.models import IntakeTemplateVersion

    ids = {form.version_id for form in forms}
    versions = {
        v.pk: v for v in IntakeTemplateVersion.objects.filter(pk__in=ids).defer("definition")
    }
    for form in forms:
        form.version = versions[form.version_id]


@router.get("/forms/{form_id}", response={200: FormOut, **ERRORS})
def get_intake_form(request, form_id: UUID):
    """One form: whose, for which appointment, of which template version, where it stands.
    Every read is audited on the chart."""
    form = _form(request, form_id)
    chart_services.chart_viewed(request.user, patient=form.patient, what="api intake form")
    return form


@router.get(
    "/forms/{form_id}/response",
    response={200: FhirResource, **ERRORS},
)
def get_intake_form_response(request, form_id: UUID):
    """The form's answers as a FHIR R4 QuestionnaireResponse: in-progress while the patient
    fills it in, completed once submitted, stopped when withdrawn; only the answers of the
    questions that show. Every read is audited on the chart."""
    form = _form(request, form_id)
    chart_services.chart_viewed(request.user, patient=form.patient, what="api intake answers")
    return _fhir_json(fhir.questionnaire_response_of(form))


@router.post("/appointments/{appointment_id}/forms", response={201: FormOut, **ERRORS})
def send_intake_form(request, appointment_id: UUID, payload: SendIn):
    """Send a template for an upcoming appointment: the patient is emailed (no health
    information in it). Sending a template the appointment already has sends that form again,
    with a fresh link."""
    appointment = _appointment(request, appointment_id)
    template = selectors.template_of(request.practice, payload.template_id)
    if template is None:
        raise ValidationError({"template_id": ["Choose a template of this practice."]})
    try:
        form = services.form_send(request.user, appointment=appointment, template=template)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "template" in exc.error_dict:
            exc.error_dict["template_id"] = exc.error_dict.pop("template")
        raise
    return Status(201, _form(request, form.public_id))
