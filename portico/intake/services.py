"""Every change to intake templates and forms (SPEC §10): pages, the API and tasks call these.

Templates: administrators (settings permission) create, edit and retire them; editing a version
a form was sent with makes a new version (forms keep theirs). Forms: staff send one for an
appointment (or it goes out by itself when the visit type says so, intake.auto_send); the
patient saves answers (checked by the version's rules; a failed save changes nothing), comes
back, and submits once every required question that shows is answered; after that the form is
read-only. Staff then accept answers into the chart one by one (intake.review) and mark it
processed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.audit.services import audit_record
from portico.charts.models import Patient
from portico.intake import definition as defs
from portico.intake.models import (
    FormStatus,
    IntakeForm,
    IntakeTemplate,
    IntakeTemplateVersion,
    VisitTypeIntake,
)
from portico.notifications.services import email_enqueue
from portico.portal import tokens
from portico.portal.representation import practice_today
from portico.portal.selectors import enrolled_access
from portico.practices import permissions
from portico.practices.selectors import membership_for
from portico.scheduling.models import UPCOMING_STATUSES, Appointment, VisitType

FORM_EMAIL = "intake.form"
LINK_SALT = "portico.intake.check-in-link"
# A check-in link lives this long after the appointment's start (to finish a form late) and
# never longer than LINK_MAX_DAYS from when it was sent.
LINK_AFTER_START = dt.timedelta(days=1)
LINK_MAX_DAYS = 60

NOT_OPEN_MESSAGE = _("This form has been submitted and can no longer be changed.")
LINK_GONE_MESSAGE = _(
    "This check-in link no longer works. Please ask your practice to send the form again."
)
LINK_LOCKED_MESSAGE = _(
    "Too many wrong dates of birth were entered, so this link is locked. Please ask your "
    "practice to send the form again."
)


# ---------------------------------------------------------------------------
# Templates


def _require_settings(actor, practice) -> None:
    membership = permissions.require_member(actor, practice)
    permissions.require(permissions.can_manage_settings(membership))


def _clean_name(practice, name: str, *, exclude_pk=None) -> str:
    name = (name or "").strip()
    errors = []
    if not name:
        errors.append(gettext("Give the template a name."))
    elif len(name) > 100:
        errors.append(gettext("Use at most %(limit)s characters.") % {"limit": 100})
    elif (
        IntakeTemplate.objects.filter(practice=practice, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        errors.append(gettext("The practice already has a template of that name."))
    if errors:
        raise ValidationError({"name": errors})
    return name


def _clean_definition(definition: Any) -> dict:
    try:
        return defs.validate_definition(definition)
    except defs.DefinitionError as exc:
        raise ValidationError({"definition": exc.messages}) from exc


@transaction.atomic
def template_create(actor, *, practice, name: str, definition: Any = None) -> IntakeTemplate:
    """A new template of the practice (version 1), empty unless `definition` is given."""
    _require_settings(actor, practice)
    name = _clean_name(practice, name)
    tidy = _clean_definition(definition if definition is not None else {"sections": []})
    template = IntakeTemplate.objects.create(practice=practice, name=name)
    version = IntakeTemplateVersion.objects.create(
        template=template, number=1, name=name, definition=tidy, created_by=actor
    )
    template.current_version = version
    template.save(update_fields=["current_version", "updated_at"])
    audit_record(
        actor,
        action="intake.template_create",
        practice=practice,
        details={"template": str(template.public_id)},
    )
    return template


def version_in_use(version: IntakeTemplateVersion) -> bool:
    return version.forms.exists()


@transaction.atomic
def template_save(
    actor, *, template: IntakeTemplate, definition: Any = None, name: str | None = None
) -> IntakeTemplateVersion:
    """Change a template's questions and/or name. The current version is changed in place
    while no form has been sent with it; once one has, the change makes a new version, which
    new forms get. Returns the version now current."""
    _require_settings(actor, template.practice)
    template = IntakeTemplate.objects.select_for_update().get(pk=template.pk)
    current = template.current_version
    new_name = (
        template.name
        if name is None
        else _clean_name(template.practice, name, exclude_pk=template.pk)
    )
    if definition is not None:
        tidy = _clean_definition(definition)
    else:
        tidy = current.definition if current is not None else {"sections": []}
    if current is not None and tidy == current.definition and new_name == template.name:
        return current
    if current is not None and not version_in_use(current):
        current.definition = tidy
        current.name = new_name
        current.save(update_fields=["definition", "name"])
        version = current
    else:
        number = (current.number if current is not None else 0) + 1
        version = IntakeTemplateVersion.objects.create(
            template=template, number=number, name=new_name, definition=tidy, created_by=actor
        )
    template.name = new_name
    template.current_version = version
    template.save(update_fields=["name", "current_version", "updated_at"])
    audit_record(
        actor,
        action="intake.template_update",
        practice=template.practice,
        details={"template": str(template.public_id), "version": version.number},
    )
    return version


@transaction.atomic
def template_active_set(actor, *, template: IntakeTemplate, active: bool) -> IntakeTemplate:
    """Retire a template (no new forms, no longer sent with bookings) or bring it back. Forms
    already sent are not touched."""
    _require_settings(actor, template.practice)
    if template.is_active == bool(active):
        return template
    template.is_active = bool(active)
    template.save(update_fields=["is_active", "updated_at"])
    if not template.is_active:
        VisitTypeIntake.objects.filter(template=template).delete()
    audit_record(
        actor,
        action="intake.template_active" if active else "intake.template_retire",
        practice=template.practice,
        details={"template": str(template.public_id)},
    )
    return template


def ready_template_install(actor, *, practice, which: str) -> IntakeTemplate:
    """Add one of the templates Portico ships (intake.ready) to the practice."""
    from portico.intake.ready import READY_TEMPLATES

    if which not in READY_TEMPLATES:
        raise ValidationError({"which": [gettext("Choose one of the ready templates.")]})
    name, definition = READY_TEMPLATES[which]
    return template_create(actor, practice=practice, name=name, definition=definition)


@transaction.atomic
def visit_type_intake_set(actor, *, visit_type: VisitType, template: IntakeTemplate | None):
    """Send `template` by itself with every booking of `visit_type` (None: send nothing)."""
    _require_settings(actor, visit_type.practice)
    if template is not None and (
        template.practice_id != visit_type.practice_id or not template.is_active
    ):
        raise ValidationError({"template": [gettext("Choose a template of this practice.")]})
    rule = VisitTypeIntake.objects.filter(visit_type=visit_type).first()
    if template is None:
        if rule is None:
            return None
        rule.delete()
    elif rule is None:
        rule = VisitTypeIntake.objects.create(
            practice=visit_type.practice, visit_type=visit_type, template=template
        )
    elif rule.template_id != template.pk:
        rule.template = template
        rule.save(update_fields=["template"])
    else:
        return rule
    audit_record(
        actor,
        action="intake.visit_type_rule",
        practice=visit_type.practice,
        details={
            "visit_type": str(visit_type.public_id),
            "template": str(template.public_id) if template else None,
        },
    )
    return rule


# ---------------------------------------------------------------------------
# Sending


def _form_details(form: IntakeForm, **more) -> dict:
    return {"form": str(form.public_id), **more}


def _link_expiry(appointment: Appointment) -> dt.datetime:
    return min(
        appointment.start_at + LINK_AFTER_START,
        timezone.now() + dt.timedelta(days=LINK_MAX_DAYS),
    )


def _new_link(form: IntakeForm) -> None:
    """A fresh link for the form (the old one stops working)."""
    form.link_nonce = tokens.new_link_nonce()
    form.link_token_hash = tokens.hash_token(tokens.link_token(form.link_nonce, salt=LINK_SALT))
    form.link_expires_at = _link_expiry(form.appointment)
    form.link_failed_attempts = 0
    form.link_locked_at = None


def link_of(form: IntakeForm) -> str:
    """The check-in link's token (for the email, rendered at send time)."""
    return tokens.link_token(form.link_nonce, salt=LINK_SALT)


def _notify(form: IntakeForm) -> bool:
    """Email the patient that a form waits (nothing about their health). A patient with portal
    access is sent to the portal; one without gets the form's own link. False when the chart
    has no email address."""
    if not form.patient.email:
        return False
    email_enqueue(
        kind=FORM_EMAIL,
        subject_id=form.public_id,
        to_address=form.patient.email,
        practice=form.practice,
        patient=form.patient,
    )
    return True


def _require_sendable(appointment: Appointment, template: IntakeTemplate) -> None:
    errors: dict[str, list[str]] = {}
    if template.practice_id != appointment.practice_id or not template.is_active:
        errors["template"] = [gettext("Choose a template of this practice.")]
    elif template.current_version is None or not defs.questions(
        template.current_version.definition
    ):
        errors["template"] = [gettext("This template has no questions yet.")]
    if appointment.status not in UPCOMING_STATUSES or appointment.end_at < timezone.now():
        errors["appointment"] = [gettext("Forms can be sent only for appointments still to come.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def form_send(
    actor, *, appointment: Appointment, template: IntakeTemplate, how: str = "staff"
) -> IntakeForm:
    """Send `template` for `appointment`: the form is made with the template's current version
    and the patient emailed. Sending a template the appointment already has (not withdrawn)
    sends the same form again, with a fresh link. `how` is "staff" (by hand) or "booking"
    (intake.auto_send, whose `actor` is whoever booked or confirmed: staff, or the patient
    accepting a proposed time, so it is not asked to be a member)."""
    if how != "booking":
        permissions.require_member(actor, appointment.practice)
    elif membership_for(actor, appointment.practice) is None:
        actor = None
    # Read fresh and locked: a cancel or a second send of this appointment waits for this one.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice", "patient")
        .get(pk=appointment.pk)
    )
    _require_sendable(appointment, template)
    existing = (
        IntakeForm.objects.select_for_update()
        .filter(appointment=appointment, template=template)
        .exclude(status=FormStatus.CANCELLED)
        .first()
    )
    if existing is not None:
        return existing if how == "booking" else form_resend(actor, form=existing)
    form = IntakeForm(
        practice=appointment.practice,
        patient=appointment.patient,
        appointment=appointment,
        template=template,
        version=template.current_version,
        sent_by=actor,
        sent_how=how,
    )
    form.appointment = appointment
    if enrolled_access(appointment.patient) is None:
        _new_link(form)
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:  # sent at the same moment by another request: send that one
        return (
            IntakeForm.objects.filter(appointment=appointment, template=template)
            .exclude(status=FormStatus.CANCELLED)
            .get()
        )
    emailed = _notify(form)
    audit_record(
        actor,
        actor_label="" if actor is not None else "booking",
        action="intake.form_send",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(
            form, appointment=str(appointment.public_id), how=how, emailed=emailed
        ),
    )
    return form


def _locked(form: IntakeForm) -> IntakeForm:
    return (
        IntakeForm.objects.select_for_update(of=("self",))
        .select_related("practice", "patient", "appointment", "version", "template")
        .get(pk=form.pk)
    )


@transaction.atomic
def form_resend(actor, *, form: IntakeForm) -> IntakeForm:
    """Email the patient again (a new link replaces the old one when they have no portal
    access). Only a form still open can be resent."""
    permissions.require_member(actor, form.practice)
    form = _locked(form)
    if not form.is_open:
        raise ValidationError({"status": [gettext("Only a form still waiting can be sent again.")]})
    if enrolled_access(form.patient) is None:
        _new_link(form)
    else:
        form.link_token_hash = ""
    form.sent_at = timezone.now()
    form.sent_by = actor
    form.save()
    emailed = _notify(form)
    audit_record(
        actor,
        action="intake.form_resend",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form, emailed=emailed),
    )
    return form


@transaction.atomic
def form_cancel(actor, *, form: IntakeForm) -> IntakeForm:
    """Withdraw a form the patient has not submitted (its link stops working)."""
    permissions.require_member(actor, form.practice)
    form = _locked(form)
    if form.status == FormStatus.CANCELLED:
        return form
    if not form.is_open:
        raise ValidationError({"status": [gettext("A submitted form cannot be withdrawn.")]})
    form.status = FormStatus.CANCELLED
    form.cancelled_at = timezone.now()
    form.link_token_hash = ""
    form.save()
    audit_record(
        actor,
        action="intake.form_cancel",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form),
    )
    return form


# ---------------------------------------------------------------------------
# The patient's side (portal page or emailed link)


def current_items(patient: Patient) -> dict[str, list]:
    """The chart's current allergies and active medications the patient may confirm: only
    what the patient's record shows them (shared, not entered in error)."""
    from portico.charts.models import Allergy, Medication, MedicationStatus

    return {
        defs.QuestionType.ALLERGIES: list(
            Allergy.objects.filter(patient=patient).shared().order_by("display", "id")
        ),
        defs.QuestionType.MEDICATIONS: list(
            Medication.objects.filter(patient=patient, status=MedicationStatus.ACTIVE)
            .shared()
            .order_by("display", "id")
        ),
    }


def _current_ids(form: IntakeForm) -> dict[str, set[str]]:
    kinds = {q["type"] for q in defs.questions(form.definition)}
    if not kinds & set(defs.LIST_TYPES):
        return {}
    return {
        kind: {str(item.public_id) for item in items}
        for kind, items in current_items(form.patient).items()
    }


def _patient_actor(account, form: IntakeForm) -> dict:
    """Audit fields of the patient's side: their account, or the link."""
    if account is None:
        return {"actor_label": "check-in link"}
    return {}


def _require_open(form: IntakeForm) -> None:
    if not form.is_open:
        raise PermissionDenied(NOT_OPEN_MESSAGE)


@transaction.atomic
def form_save(account, *, form: IntakeForm, answers: dict[str, Any]) -> IntakeForm:
    """Store a page of answers (question key → value) beside the ones already saved. Every
    answer is checked by the form version's rules; if any is wrong nothing is stored and
    definition.AnswerErrors says which (the page shows them next to the questions). `account`
    is the signed-in account (patient or representative), None through the emailed link."""
    form = _locked(form)
    _require_open(form)
    cleaned = defs.clean_answers(
        form.definition,
        answers,
        signed_on=practice_today(form.practice),
        current_items=_current_ids(form),
    )
    merged = {**form.answers}
    for key, value in cleaned.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    form.answers = merged
    form.status = FormStatus.STARTED
    form.saved_at = timezone.now()
    form.save(update_fields=["answers", "status", "saved_at", "updated_at"])
    audit_record(
        account,
        action="intake.form_save",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form, questions=len(cleaned)),
        **_patient_actor(account, form),
    )
    return form


@transaction.atomic
def form_submit(account, *, form: IntakeForm) -> IntakeForm:
    """Submit the form: refused (definition.AnswerErrors naming each question) while a
    required question that shows has no answer. Answers to questions that no longer show are
    dropped. After this the form is read-only and its link dead."""
    form = _locked(form)
    _require_open(form)
    missing = defs.missing_required(form.definition, form.answers)
    if missing:
        raise defs.AnswerErrors({q["key"]: [gettext("Answer this question.")] for q in missing})
    form.answers = defs.shown_answers(form.definition, form.answers)
    form.status = FormStatus.SUBMITTED
    form.submitted_at = timezone.now()
    form.submitted_by = account
    form.link_token_hash = ""
    form.save()
    audit_record(
        account,
        action="intake.form_submit",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form),
        **_patient_actor(account, form),
    )
    return form


class LinkError(Exception):
    """A check-in link that cannot be used; `message` is for the patient."""

    def __init__(self, code: str, message):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)


def form_for_link(token: str) -> IntakeForm:
    """The open form behind a check-in link, or LinkError (gone: submitted, withdrawn,
    replaced, expired; or locked)."""
    form = (
        IntakeForm.objects.select_related("practice", "patient", "appointment", "version")
        .filter(link_token_hash=tokens.hash_token(token or ""))
        .first()
        if token
        else None
    )
    if (
        form is None
        or not form.is_open
        or form.link_expires_at is None
        or (form.link_expires_at <= timezone.now())
    ):
        raise LinkError("gone", LINK_GONE_MESSAGE)
    if form.link_locked_at is not None:
        raise LinkError("locked", LINK_LOCKED_MESSAGE)
    return form


def link_verify(token: str, *, date_of_birth: dt.date | None) -> IntakeForm:
    """Check the patient's date of birth against the link's chart. A wrong one counts towards
    the lock (PORTICO_INVITATION_MAX_CODE_ATTEMPTS, as for enrollment) and raises
    ValidationError with the tries left; attempts are judged one at a time under the form's
    row lock."""
    form = form_for_link(token)
    limit = settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS
    with transaction.atomic():
        form = _locked(form)
        if form.link_locked_at is not None:
            raise LinkError("locked", LINK_LOCKED_MESSAGE)
        if date_of_birth is not None and date_of_birth == form.patient.date_of_birth:
            audit_record(
                None,
                action="intake.link_verified",
                practice=form.practice,
                patient=form.patient,
                actor_label="check-in link",
                details=_form_details(form),
            )
            return form
        IntakeForm.objects.filter(pk=form.pk).update(
            link_failed_attempts=F("link_failed_attempts") + 1
        )
        form.refresh_from_db(fields=["link_failed_attempts"])
        locked = form.link_failed_attempts >= limit
        if locked:
            form.link_locked_at = timezone.now()
            form.save(update_fields=["link_locked_at"])
        audit_record(
            None,
            action="intake.link_locked" if locked else "intake.link_verify_failed",
            practice=form.practice,
            patient=form.patient,
            actor_label="check-in link",
            details=_form_details(form, attempt=form.link_failed_attempts),
        )
    if locked:
        raise LinkError("locked", LINK_LOCKED_MESSAGE)
    left = limit - form.link_failed_attempts
    raise ValidationError(
        {
            "date_of_birth": [
                gettext("That date of birth does not match our records. Tries left: %(left)s.")
                % {"left": left}
            ]
        }
    )


# ---------------------------------------------------------------------------
# Staff: processing a submitted form


def _require_chart_worker(actor, practice) -> None:
    membership = permissions.require_member(actor, practice)
    permissions.require(permissions.can_work_in_charts(membership))


@transaction.atomic
def form_review_item(
    actor, *, form: IntakeForm, key: str, accept: bool, values: dict | None = None
) -> IntakeForm:
    """Accept one answer into the chart (demographics field, new allergy or medication, a
    medication the patient stopped) or decline it; `values` lets staff adjust what goes in (a
    code found with the code search, a corrected name). The chart changes through the charts
    services (audited there); the decision is recorded on the form and audited too. A decision
    already taken is not taken again."""
    from portico.intake import review

    _require_chart_worker(actor, form.practice)
    form = _locked(form)
    if form.status != FormStatus.SUBMITTED:
        raise ValidationError(
            {
                "status": [
                    gettext("Only a submitted form that is not yet processed can be reviewed.")
                ]
            }
        )
    items = {item.key: item for item in review.review_items(form)}
    item = items.get(key)
    if item is None:
        raise ValidationError({"key": [gettext("This answer cannot go into the chart.")]})
    if item.decision:
        return form
    if accept:
        review.apply(actor, form=form, item=item, values=values or {})
    form.review = {**form.review, key: "accepted" if accept else "declined"}
    form.save(update_fields=["review", "updated_at"])
    audit_record(
        actor,
        action="intake.answer_accept" if accept else "intake.answer_decline",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form, item=key, kind=item.kind),
    )
    return form


@transaction.atomic
def form_process(actor, *, form: IntakeForm) -> IntakeForm:
    """Mark a submitted form processed (answers not yet decided stay out of the chart)."""
    _require_chart_worker(actor, form.practice)
    form = _locked(form)
    if form.status == FormStatus.PROCESSED:
        return form
    if form.status != FormStatus.SUBMITTED:
        raise ValidationError(
            {"status": [gettext("Only a submitted form can be marked processed.")]}
        )
    form.status = FormStatus.PROCESSED
    form.processed_at = timezone.now()
    form.processed_by = actor
    form.save(update_fields=["status", "processed_at", "processed_by", "updated_at"])
    audit_record(
        actor,
        action="intake.form_process",
        practice=form.practice,
        patient=form.patient,
        details=_form_details(form),
    )
    return form
