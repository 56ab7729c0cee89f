"""The practice staff's side of intake (SPEC §10.2–10.3): the Intake list of a day, sending a
form by hand (from the list, the appointment and the chart), resending and withdrawing it, a
submitted form beside the chart with its answers to accept into the chart one by one, mark
processed, and a printable view.

Every page is for members of the practice; a form, appointment or chart of another practice is
a 404. Every page that shows a chart's form is an audited chart read ("chart.view", which the
patient's access log lists); the list of a day is an audited list read ("chart.list").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.audit.services import audit_read
from portico.charts import selectors as chart_selectors
from portico.charts.models import Allergy, AllergySeverity, Medication, MedicationStatus
from portico.core.forms import apply_service_errors
from portico.intake import definition as defs
from portico.intake import review, selectors, services
from portico.intake.models import FormStatus, IntakeForm
from portico.intake.staff_forms import ChartSendForm
from portico.practices.decorators import staff_required
from portico.scheduling import page_input
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.models import UPCOMING_STATUSES
from portico.scheduling.services import zone_of

BUCKET_LABELS = {
    selectors.BUCKET_TO_SEND: _("To send"),
    selectors.BUCKET_WAITING: _("Waiting"),
    selectors.BUCKET_SUBMITTED: _("Submitted"),
    selectors.BUCKET_PROCESSED: _("Processed"),
}
REVIEW_VALUES = ("display", "code", "reaction", "severity", "instructions")


# ---------------------------------------------------------------------------
# Small helpers


def _form_or_404(request, form_id) -> IntakeForm:
    form = selectors.form_at(request.practice, form_id)
    if form is None:
        raise Http404("No such form.")
    return form


def _back(request, default: str):
    """Back to the page the action came from (`next`, a local URL only), else `default`."""
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(target)
    return redirect(default)


def _error_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def can_send_for(appointment) -> bool:
    """Whether a form may still be sent for the appointment (services.form_send decides; this
    only chooses whether the page offers the button)."""
    return appointment.status in UPCOMING_STATUSES and appointment.end_at > timezone.now()


def _read(request, form: IntakeForm, page: str) -> None:
    audit_read(
        request.user,
        action="chart.view",
        patient=form.patient,
        details={"page": page, "form": str(form.public_id)},
    )


# ---------------------------------------------------------------------------
# The Intake list of a day


@staff_required
def intake_list(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    practice = request.practice
    today = page_input.today(practice)
    problems: list[str] = []
    raw_date = request.GET.get("date", "").strip()
    day = page_input.parse_date(raw_date) if raw_date else today
    if day is None:
        problems.append(gettext("Enter a date such as 2026-12-09. Showing today instead."))
        day = today
    providers = list(scheduling_selectors.providers(practice))
    raw_provider = request.GET.get("provider", "").strip()
    provider = page_input.chosen_provider(providers, raw_provider) if raw_provider else None
    if raw_provider and provider is None:
        problems.append(gettext("Choose one of the practice's providers. Showing all providers."))
    bucket = request.GET.get("bucket", "")
    if bucket not in selectors.BUCKETS:
        bucket = ""
    rows = selectors.intake_day(practice, day, provider=provider)
    counts = {b: 0 for b in selectors.BUCKETS}
    for row in rows:
        counts[row.bucket] += 1
    templates = list(selectors.templates_of(practice, active_only=True))
    rules = selectors.visit_type_rules(practice)
    groups = []
    for b in selectors.BUCKETS:
        if bucket and b != bucket:
            continue
        group_rows = []
        for row in rows:
            if row.bucket != b:
                continue
            appointment = row.appointment
            rule = rules.get(appointment.appointment_type_id)
            group_rows.append(
                {
                    "appointment": appointment,
                    "forms": row.forms,
                    "can_send": can_send_for(appointment),
                    "default_template": rule.template.public_id
                    if rule is not None and rule.template.is_active
                    else None,
                }
            )
        groups.append({"key": b, "label": BUCKET_LABELS[b], "count": counts[b], "rows": group_rows})
    shown = [r["appointment"].patient for g in groups for r in g["rows"]]
    audit_read(
        request.user,
        action="chart.list",
        practice=practice,
        details={
            "page": "intake list",
            "date": day.isoformat(),
            "provider": str(provider.public_id) if provider is not None else "",
            "bucket": bucket,
            "charts": [str(p.public_id) for p in shown],
        },
    )
    return render(
        request,
        "intake/staff/list.html",
        {
            "practice": practice,
            "day": day,
            "is_today": day == today,
            "previous_day": (day - dt.timedelta(days=1)).isoformat(),
            "next_day": (day + dt.timedelta(days=1)).isoformat(),
            "providers": providers,
            "provider": provider,
            "bucket": bucket,
            "bucket_tabs": [
                {"key": b, "label": BUCKET_LABELS[b], "count": counts[b]} for b in selectors.BUCKETS
            ],
            "total": len(rows),
            "groups": groups,
            "templates": templates,
            "problems": problems,
            "intake_section": True,
        },
    )


# ---------------------------------------------------------------------------
# Sending, resending, withdrawing


@staff_required
def send(request, appointment_id):
    """Send a form for an appointment (from the list or the appointment page). Sending a form
    the appointment already has sends it again."""
    appointment = scheduling_selectors.appointment_of(request.practice, appointment_id)
    if appointment is None:
        raise Http404("No such appointment.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    default = reverse("scheduling:appointment", args=[appointment.public_id])
    template = selectors.template_of(request.practice, request.POST.get("template", ""))
    if template is None or not template.is_active:
        messages.error(request, gettext("Choose one of the practice's forms to send."))
        return _back(request, default)
    already = selectors.live_form(appointment, template) is not None
    try:
        form = services.form_send(request.user, appointment=appointment, template=template)
    except ValidationError as exc:
        _error_messages(request, exc)
        return _back(request, default)
    _sent_message(request, form, again=already)
    return _back(request, default)


def _sent_message(request, form: IntakeForm, *, again: bool) -> None:
    name = form.version.name
    if not form.patient.email:
        messages.warning(
            request,
            gettext(
                "%(form)s is ready, but the chart has no email address: the patient was not "
                "emailed. Add an email address and send it again."
            )
            % {"form": name},
        )
    elif again:
        messages.success(request, gettext("%(form)s was sent again.") % {"form": name})
    else:
        messages.success(request, gettext("%(form)s was sent.") % {"form": name})


@staff_required
def resend(request, form_id):
    form = _form_or_404(request, form_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        form = services.form_resend(request.user, form=form)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        _sent_message(request, form, again=True)
    return _back(request, reverse("intake:form", args=[form.public_id]))


@staff_required
def withdraw(request, form_id):
    form = _form_or_404(request, form_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.form_cancel(request.user, form=form)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request,
            gettext("%(form)s was withdrawn: its link no longer works.")
            % {"form": form.version.name},
        )
    return _back(request, reverse("intake:form", args=[form.public_id]))


@staff_required
def chart_forms(request, patient_id):
    """A chart's Intake tab: every form of the chart, and "Send a form" for one of its upcoming
    appointments."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    practice = request.practice
    zone = zone_of(practice)
    appointments = list(selectors.sendable_appointments(patient))
    templates = list(selectors.templates_of(practice, active_only=True))
    send_form = ChartSendForm(
        request.POST if request.method == "POST" else None,
        appointments=appointments,
        templates=templates,
        zone=zone,
    )
    status = 200
    if request.method == "POST":
        if send_form.is_valid():
            appointment, template = send_form.chosen()
            already = selectors.live_form(appointment, template) is not None
            try:
                form = services.form_send(request.user, appointment=appointment, template=template)
            except ValidationError as exc:
                apply_service_errors(send_form, exc)
            else:
                _sent_message(request, form, again=already)
                return redirect("intake:chart_forms", patient_id=patient.public_id)
        status = 400
    forms = list(selectors.forms_of_chart(patient))
    audit_read(
        request.user,
        action="chart.view",
        patient=patient,
        details={"page": "intake forms"},
    )
    return render(
        request,
        "intake/staff/chart_forms.html",
        {
            "patient": patient,
            "practice": practice,
            "forms": forms,
            "send_form": send_form,
            "appointments": appointments,
            "templates": templates,
        },
        status=status,
    )


# ---------------------------------------------------------------------------
# A form beside the chart


@dataclass
class ShownQuestion:
    """One question of the form as staff read it."""

    question: dict
    answered: bool
    text: str = ""  # the answer in words (text, choice labels, number and unit, date)
    consent: dict | None = None  # agreed, signature, signed_on (a date)
    listed: list = field(default_factory=list)  # (chart entry, "yes"/"no") the patient confirmed
    added: list = field(default_factory=list)  # entries the patient added
    none: bool = False  # "I have no allergies"

    @property
    def type(self) -> str:
        return self.question["type"]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _shown_question(question: dict, answer: Any, items: dict[str, Any]) -> ShownQuestion:
    kind = question["type"]
    shown = ShownQuestion(question, answered=defs.is_answered(question, answer))
    if not shown.answered and kind not in defs.LIST_TYPES:
        return shown
    labels = {c["value"]: c["label"] for c in question.get("choices") or []}
    if kind == defs.QuestionType.YES_NO:
        shown.text = gettext("Yes") if answer == "yes" else gettext("No")
    elif kind == defs.QuestionType.SINGLE_CHOICE:
        shown.text = labels.get(answer, str(answer))
    elif kind == defs.QuestionType.MULTIPLE_CHOICE:
        shown.text = ", ".join(labels.get(v, str(v)) for v in answer)
    elif kind == defs.QuestionType.NUMBER:
        unit = question.get("unit") or ""
        shown.text = f"{answer} {unit}".strip()
    elif kind == defs.QuestionType.DATE:
        day = _date(answer)
        shown.text = day.strftime("%m/%d/%Y") if day else str(answer)
    elif kind == defs.QuestionType.CONSENT:
        shown.consent = {
            "agreed": bool(answer.get("agreed")),
            "signature": answer.get("signature", ""),
            "signed_on": _date(answer.get("signed_on", "")),
        }
    elif kind in defs.LIST_TYPES:
        answer = answer if isinstance(answer, dict) else {}
        shown.listed = [
            (items[item_id], still)
            for item_id, still in (answer.get("current") or {}).items()
            if item_id in items
        ]
        shown.added = list(answer.get("added") or [])
        shown.none = bool(answer.get("none"))
        shown.answered = bool(shown.listed or shown.added or shown.none)
    else:
        shown.text = str(answer)
    return shown


def answers_by_section(form: IntakeForm, items: dict[str, Any]) -> list[dict]:
    """The form's sections, each with the questions that show under the answers (a question
    whose condition does not hold is left out), answered or not."""
    answers = form.answers
    found = []
    for section in defs.sections(form.definition):
        questions = [
            _shown_question(q, answers.get(q["key"]), items)
            for q in section.get("questions") or []
            if defs.is_shown(q, answers)
        ]
        if questions:
            found.append({"section": section, "questions": questions})
    return found


def _chart_items(patient) -> tuple[list, list, dict[str, Any]]:
    """The chart's allergies, its active medications, and every allergy and medication by
    public id (what the answers name)."""
    allergies = list(Allergy.objects.filter(patient=patient).order_by("display", "id"))
    medications = list(Medication.objects.filter(patient=patient).order_by("display", "id"))
    by_id = {str(i.public_id): i for i in (*allergies, *medications)}
    active = [m for m in medications if m.status == MedicationStatus.ACTIVE]
    return allergies, active, by_id


def _render_form_page(
    request,
    form: IntakeForm,
    *,
    errors: dict[str, dict[str, list[str]]] | None = None,
    posted: dict[str, dict[str, str]] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
):
    patient = form.patient
    allergies, medications, by_id = _chart_items(patient)
    reviewable = form.status in (FormStatus.SUBMITTED, FormStatus.PROCESSED)
    items = review.review_items(form) if reviewable else []
    errors = errors or {}
    posted = posted or {}
    for item in items:
        item.errors = errors.get(item.key, {})
        item.anchor = _anchor(item.key)
        item.initial = _initial_values(item, posted.get(item.key, {}))
    undecided = sum(1 for item in items if not item.decision)
    _read(request, form, "intake form")
    return render(
        request,
        "intake/staff/form.html",
        {
            "form": form,
            "patient": patient,
            "appointment": form.appointment,
            "practice": request.practice,
            "sections": answers_by_section(form, by_id),
            "allergies": allergies,
            "medications": medications,
            "items": items,
            "undecided": undecided,
            "reviewing": form.status == FormStatus.SUBMITTED,
            "severities": AllergySeverity.choices,
            "rxnorm_search": reverse("charts:code_search", args=["rxnorm"]),
            "code_options": _rxnorm_options() if form.status == FormStatus.SUBMITTED else (),
            "problems": problems or [],
            "demographics": _demographics(patient),
            "intake_section": True,
        },
        status=status,
    )


def _initial_values(item, posted: dict[str, str]) -> dict[str, str]:
    """What a new allergy's or medication's fields show: what staff sent (after a refusal),
    else the patient's words."""
    value = item.value if isinstance(item.value, dict) else {}
    initial = {
        "display": value.get("name", ""),
        "code": "",
        "reaction": value.get("reaction", ""),
        "instructions": value.get("instructions", ""),
        "severity": AllergySeverity.UNKNOWN,
    }
    initial.update({k: v for k, v in posted.items() if k in initial})
    return initial


def _rxnorm_options():
    from portico.charts.codes import code_list
    from portico.charts.models import CodeSystem

    return code_list(CodeSystem.RXNORM)


def _demographics(patient) -> list[tuple[Any, str]]:
    return [
        (label, str(getattr(patient, name) or ""))
        for name, (label, _types) in defs.CHART_FIELDS.items()
    ]


@staff_required
def form_page(request, form_id):
    form = _form_or_404(request, form_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _render_form_page(request, form)


@staff_required
def review_item(request, form_id):
    """Accept one answer into the chart (with what staff adjusted: name, code, reaction and
    severity, instructions) or decline it. A refusal re-shows the page with the message next
    to the answer; nothing changes."""
    form = _form_or_404(request, form_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    key = request.POST.get("key", "")
    decision = request.POST.get("decision", "")
    values = {name: request.POST[name] for name in REVIEW_VALUES if name in request.POST}
    if decision not in ("accept", "decline"):
        return _render_form_page(
            request, form, problems=[gettext("Choose Accept or Decline.")], status=400
        )
    try:
        services.form_review_item(
            request.user, form=form, key=key, accept=decision == "accept", values=values
        )
    except ValidationError as exc:
        form.refresh_from_db()
        found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        about_form = {"status", "key"} & found.keys()
        known = {item.key for item in review.review_items(form)} if key else set()
        if key in known and not about_form:
            return _render_form_page(
                request, form, errors={key: found}, posted={key: values}, status=400
            )
        problems = [m for msgs in found.values() for m in msgs]
        return _render_form_page(request, form, problems=problems, status=400)
    messages.success(
        request,
        gettext("Accepted into the chart.") if decision == "accept" else gettext("Declined."),
    )
    return redirect(reverse("intake:form", args=[form.public_id]) + f"#review-{_anchor(key)}")


def _anchor(key: str) -> str:
    return key.replace(":", "-")


@staff_required
def process(request, form_id):
    form = _form_or_404(request, form_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.form_process(request.user, form=form)
    except ValidationError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, gettext("The form is marked processed."))
    return redirect("intake:form", form_id=form.public_id)


@staff_required
def form_print(request, form_id):
    form = _form_or_404(request, form_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    _allergies, _medications, by_id = _chart_items(form.patient)
    _read(request, form, "intake form, printable")
    return render(
        request,
        "intake/staff/print.html",
        {
            "form": form,
            "patient": form.patient,
            "appointment": form.appointment,
            "practice": request.practice,
            "sections": answers_by_section(form, by_id),
            "printed_at": timezone.now(),
        },
    )
