"""Which answers of a submitted form can go into the chart, and how (SPEC §10.3).

Each is a ReviewItem with a stable key (recorded in `IntakeForm.review` with staff's decision):

- `<question>`: a demographic answer (its question's `chart_field`) that differs from the chart;
- `<question>:added:<n>`: an allergy or medication the patient added;
- `<question>:stopped:<item public id>`: a medication on the chart the patient no longer takes;
- `<question>:not_current:<item public id>`: an allergy on the chart the patient says is wrong
  (accepting it records that staff saw it; allergies are corrected in the chart itself).

`intake.services.form_review_item` records the decision and calls `apply` for an accepted one;
the chart changes through the charts services, which audit them.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from portico.charts import services as charts
from portico.charts.models import Allergy, Medication, MedicationStatus
from portico.intake import definition as defs
from portico.intake.models import IntakeForm

DEMOGRAPHIC = "demographic"
NEW_ALLERGY = "new_allergy"
NEW_MEDICATION = "new_medication"
STOPPED_MEDICATION = "stopped_medication"
WRONG_ALLERGY = "wrong_allergy"


@dataclass
class ReviewItem:
    key: str
    kind: str
    question: dict
    label: str  # what staff read: the field, or the allergy / medication
    value: Any  # the patient's answer: a text, or the added entry
    chart_value: str = ""  # what the chart says now (demographics)
    item: Any = None  # the chart's Allergy or Medication, for stopped / wrong ones
    decision: str = ""  # "accepted" / "declined" / ""
    extra: dict = field(default_factory=dict)


def _referenced_items(form: IntakeForm) -> dict[str, Any]:
    """The chart's allergies and medications the answers name, by public id (whatever their
    state now: a medication stopped from this form still shows as such)."""
    ids: dict[str, set[str]] = {
        defs.QuestionType.ALLERGIES: set(),
        defs.QuestionType.MEDICATIONS: set(),
    }
    for question in defs.questions(form.definition):
        answer = form.answers.get(question["key"])
        if question["type"] in defs.LIST_TYPES and isinstance(answer, dict):
            ids[question["type"]].update(answer.get("current") or {})
    found: dict[str, Any] = {}
    for kind, model in (
        (defs.QuestionType.ALLERGIES, Allergy),
        (defs.QuestionType.MEDICATIONS, Medication),
    ):
        if ids[kind]:
            for item in model.objects.filter(patient=form.patient, public_id__in=ids[kind]):
                found[str(item.public_id)] = item
    return found


def review_items(form: IntakeForm) -> list[ReviewItem]:
    """The answers of `form` staff may accept into the chart, in the form's order."""
    items: list[ReviewItem] = []
    patient = form.patient
    answers = form.answers
    by_id = _referenced_items(form)
    for question in defs.questions(form.definition):
        key, answer = question["key"], answers.get(question["key"])
        if answer in (None, "", []):
            continue
        chart_field = question.get("chart_field")
        if chart_field:
            current = str(getattr(patient, chart_field) or "")
            if str(answer).strip() != current:
                items.append(
                    ReviewItem(
                        key,
                        DEMOGRAPHIC,
                        question,
                        str(defs.CHART_FIELDS[chart_field][0]),
                        answer,
                        chart_value=current,
                        extra={"field": chart_field},
                    )
                )
        elif question["type"] in defs.LIST_TYPES:
            allergies = question["type"] == defs.QuestionType.ALLERGIES
            for n, entry in enumerate(answer.get("added") or []):
                items.append(
                    ReviewItem(
                        f"{key}:added:{n}",
                        NEW_ALLERGY if allergies else NEW_MEDICATION,
                        question,
                        entry["name"],
                        entry,
                    )
                )
            for item_id, still in (answer.get("current") or {}).items():
                chart_item = by_id.get(item_id)
                if still != "no" or chart_item is None:
                    continue
                items.append(
                    ReviewItem(
                        f"{key}:{'not_current' if allergies else 'stopped'}:{item_id}",
                        WRONG_ALLERGY if allergies else STOPPED_MEDICATION,
                        question,
                        chart_item.display,
                        "no",
                        item=chart_item,
                    )
                )
    for item in items:
        item.decision = form.review.get(item.key, "")
    return items


def _text(values: dict, name: str, default: str) -> str:
    value = values.get(name)
    return default if value is None else str(value).strip()


def apply(actor, *, form: IntakeForm, item: ReviewItem, values: dict) -> None:
    """Put one accepted answer into the chart. `values` may carry `display` (the name as
    staff correct it), `code` (an RxNorm code from the code search) and, for an allergy,
    `reaction` and `severity`; for a medication, `instructions`."""
    patient = form.patient
    # The day the patient submitted, at the practice (a form sent in the evening in Chicago is
    # already the next day in UTC, which the chart would refuse as a date in the future).
    on = (
        form.submitted_at.astimezone(zoneinfo.ZoneInfo(form.practice.time_zone)).date()
        if form.submitted_at
        else None
    )
    if item.kind == DEMOGRAPHIC:
        charts.patient_update(actor, patient=patient, **{item.extra["field"]: item.value})
    elif item.kind in (NEW_ALLERGY, NEW_MEDICATION):
        model = Allergy if item.kind == NEW_ALLERGY else Medication
        detail = "reaction" if model is Allergy else "instructions"
        chart_values: dict[str, Any] = {
            "display": _text(values, "display", item.value["name"]),
            detail: _text(values, detail, item.value.get(detail, "")),
            "recorded_on": on,
        }
        code = _text(values, "code", "")
        if code:
            chart_values.update(code=code, code_system=model.CODE_SYSTEM)
        if model is Allergy and values.get("severity"):
            chart_values["severity"] = values["severity"]
        charts.item_create(actor, patient=patient, model=model, **chart_values)
    elif item.kind == STOPPED_MEDICATION:
        if item.item.status != MedicationStatus.STOPPED:
            charts.item_update(actor, item=item.item, status=MedicationStatus.STOPPED, stop_date=on)
    elif item.kind == WRONG_ALLERGY:
        pass  # seen by staff; the allergy itself is corrected in the chart
    else:  # pragma: no cover
        raise ValidationError(gettext("This answer cannot go into the chart."))
