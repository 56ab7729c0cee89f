"""The rules for values of clinical-list items, shared by the services, forms and the API.

`clean_item_values` turns what a person typed (or an API sent) into stored values or raises a
ValidationError naming each field at fault; nothing is stored by it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.charts import codes
from portico.charts.models import (
    VITAL_DEFINITIONS,
    AbnormalFlag,
    Allergy,
    Assessment,
    CarePlan,
    ClinicalItem,
    CodedItem,
    CodeSystem,
    Immunization,
    LabResult,
    Medication,
    Problem,
    ProblemStatus,
    Procedure,
    Vital,
)
from portico.charts.validation import has_control_characters

# What a person may set on each kind (besides the encounter it belongs to).
EDITABLE: dict[type[ClinicalItem], tuple[str, ...]] = {
    Problem: ("code", "display", "recorded_on", "status", "resolved_on"),
    Medication: ("code", "display", "instructions", "recorded_on", "stop_date", "status"),
    Allergy: ("code_system", "code", "display", "reaction", "severity", "recorded_on"),
    Immunization: ("code", "display", "recorded_on", "lot_number"),
    Procedure: ("code_system", "code", "display", "recorded_on"),
    CarePlan: ("title", "text", "recorded_on", "end_date"),
    Vital: ("kind", "value", "recorded_on"),
    LabResult: (
        "code",
        "display",
        "value",
        "unit",
        "reference_low",
        "reference_high",
        "reference_text",
        "flag",
        "recorded_on",
    ),
    Assessment: ("kind", "code_system", "code", "display", "result", "recorded_on"),
}
SHARED = "shared_with_patient"

CODE_PATTERNS = {
    CodeSystem.ICD10CM: (re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"), "E11.9"),
    CodeSystem.RXNORM: (re.compile(r"^[0-9]{1,10}$"), "29046"),
    CodeSystem.CVX: (re.compile(r"^[0-9]{1,3}$"), "140"),
    CodeSystem.LOINC: (re.compile(r"^[0-9]{1,7}-[0-9]$"), "4548-4"),
    CodeSystem.SNOMED: (re.compile(r"^[0-9]{6,18}$"), "38341003"),
    CodeSystem.CPT: (re.compile(r"^[0-9]{4}[0-9A-Z]$"), "99213"),
    CodeSystem.HCPCS: (re.compile(r"^[A-Z][0-9]{4}$"), "G0438"),
}
EARLIEST = dt.date(1900, 1, 1)
# Dates that close something (stop, end) may lie ahead, but not beyond reason.
FUTURE_YEARS = 10
# Dates that may lie ahead: a medication's planned stop, a care plan's start and end.
MAY_BE_FUTURE = {"stop_date", "end_date"}
CONTROL_MESSAGE = _("Remove control characters (such as NUL) from this value.")
REQUIRED = _("This field is required.")


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _clean_text(field, value, errors: dict):
    if value is None:
        value = ""
    if not isinstance(value, str):
        _add(errors, field.name, gettext("Enter text."))
        return None
    value = value.strip()
    if has_control_characters(value):
        _add(errors, field.name, CONTROL_MESSAGE)
    elif field.max_length and len(value) > field.max_length:
        _add(
            errors,
            field.name,
            gettext("Use at most %(count)s characters.") % {"count": field.max_length},
        )
    elif field.choices and value and value not in {c[0] for c in field.choices}:
        _add(errors, field.name, gettext("Choose one of the listed values."))
    return value


def _clean_date(field, value, errors: dict, *, model):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            _add(errors, field.name, gettext("Enter a valid date."))
            return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        _add(errors, field.name, gettext("Enter a valid date."))
        return None
    today = timezone.localdate()
    future = field.name in MAY_BE_FUTURE or (model is CarePlan and field.name == "recorded_on")
    latest = today.replace(year=today.year + FUTURE_YEARS) if future else today
    if value < EARLIEST or value > latest:
        _add(
            errors,
            field.name,
            gettext("Enter a date between 1900 and %(latest)s.") % {"latest": f"{latest:%m/%d/%Y}"}
            if future
            else gettext("Enter a date between 1900 and today."),
        )
        return None
    return value


def parse_decimal(value) -> Decimal | None:
    """A finite number from text or a number, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _clean_decimal(field, value, errors: dict):
    if value in (None, ""):
        return None
    number = parse_decimal(value)
    if number is None:
        _add(errors, field.name, gettext("Enter a number."))
        return None
    whole_digits = field.max_digits - field.decimal_places
    if abs(number) >= Decimal(10) ** whole_digits:
        _add(errors, field.name, gettext("Enter a smaller number."))
        return None
    return number.quantize(Decimal(1).scaleb(-field.decimal_places))


def _clean_fields(model, values: dict, errors: dict) -> dict:
    cleaned = {}
    for name in EDITABLE[model]:
        if name not in values:
            continue
        field = model._meta.get_field(name)
        value = values[name]
        if isinstance(field, models.DateField):
            cleaned[name] = _clean_date(field, value, errors, model=model)
        elif isinstance(field, models.DecimalField):
            cleaned[name] = _clean_decimal(field, value, errors)
        else:
            cleaned[name] = _clean_text(field, value, errors)
    if SHARED in values:
        if not isinstance(values[SHARED], bool):
            _add(errors, SHARED, gettext("Choose yes or no."))
        cleaned[SHARED] = values[SHARED]
    return cleaned


def _required(model, merged: dict, errors: dict) -> None:
    for name in EDITABLE[model]:
        field = model._meta.get_field(name)
        if name in errors or field.blank or field.null or name == "flag":
            continue  # an empty lab flag is worked out from the value and the range
        if field.has_default() and name not in merged:
            continue
        if merged.get(name) in (None, ""):
            if name == "display" and merged.get("code"):
                continue  # filled from the code list, or reported below
            _add(errors, name, REQUIRED)


def _check_code(model, merged: dict, cleaned: dict, errors: dict) -> None:
    code = (merged.get("code") or "").upper()
    system = merged.get("code_system") or ""
    if "code" in cleaned:
        cleaned["code"] = code
    if not code or "code_system" in errors:
        if "code" in cleaned and "code_system" not in EDITABLE[model]:
            cleaned["code_system"] = ""
        return
    if not system:
        system = model.CODE_SYSTEM
    if "code_system" in EDITABLE[model] or "code" in cleaned:
        cleaned["code_system"] = system
    pattern, example = CODE_PATTERNS[system]
    if "code" not in errors and not pattern.match(code):
        label = CodeSystem(system).label
        _add(
            errors,
            "code",
            gettext("Enter a %(system)s code such as %(example)s, or leave it empty.")
            % {"system": label, "example": example},
        )
        return
    if not merged.get("display") and "display" not in errors:
        listed = codes.code_lookup(system, code)
        if listed is None:
            _add(errors, "display", gettext("Describe it: this code is not in the list."))
        else:
            cleaned["display"] = listed.display


def _check_order(merged: dict, errors: dict, start: str, end: str, message: str) -> None:
    if start in errors or end in errors:
        return
    if merged.get(start) and merged.get(end) and merged[end] < merged[start]:
        _add(errors, end, message)


def _check_vital(merged: dict, cleaned: dict, errors: dict) -> None:
    kind = merged.get("kind")
    if not kind or "kind" in errors:
        return
    code, unit, unit_label, (low, high) = VITAL_DEFINITIONS[kind]
    cleaned["code"], cleaned["unit"] = code, unit
    value = merged.get("value")
    if value is not None and "value" not in errors and not (low <= value <= high):
        _add(
            errors,
            "value",
            gettext("Enter a value between %(low)s and %(high)s %(unit)s.")
            % {"low": low, "high": high, "unit": unit_label},
        )


def lab_flag(value_number, low, high) -> str:
    """The flag a numeric result earns against its reference range (N when it cannot tell)."""
    if value_number is None:
        return AbnormalFlag.NORMAL
    if low is not None and value_number < low:
        return AbnormalFlag.LOW
    if high is not None and value_number > high:
        return AbnormalFlag.HIGH
    return AbnormalFlag.NORMAL


def _check_lab(merged: dict, cleaned: dict, errors: dict) -> None:
    _check_order(
        merged,
        errors,
        "reference_low",
        "reference_high",
        gettext("The upper limit must not be below the lower one."),
    )
    if "value" in cleaned:
        cleaned["value_number"] = parse_decimal(merged.get("value") or "")
        if cleaned["value_number"] is not None and abs(cleaned["value_number"]) >= 10**8:
            cleaned["value_number"] = None
    if "flag" in cleaned and not cleaned["flag"]:
        # Left empty: work it out from the value and the range.
        number = cleaned.get("value_number", merged.get("value_number"))
        cleaned["flag"] = lab_flag(
            number, merged.get("reference_low"), merged.get("reference_high")
        )


def clean_item_values(model, values: dict, *, item: ClinicalItem | None = None) -> dict:
    """Check and normalise the values for a new item (item=None) or a change to `item`.

    Returns only the values to store; raises ValidationError({field: [messages]}).
    Unknown keys are ignored; on create every required field must be present.
    """
    errors: dict[str, list[str]] = {}
    cleaned = _clean_fields(model, values, errors)
    merged = {}
    if item is not None:
        merged = {name: getattr(item, name) for name in EDITABLE[model]}
        if issubclass(model, LabResult):
            merged["value_number"] = item.value_number
    merged.update(cleaned)
    _required(model, merged, errors)
    if issubclass(model, CodedItem):
        _check_code(model, merged, cleaned, errors)
    if model is Problem:
        _check_order(
            merged, errors, "recorded_on", "resolved_on", gettext("Resolved before onset?")
        )
        if merged.get("resolved_on") and merged.get("status") == ProblemStatus.ACTIVE:
            _add(errors, "status", gettext("A problem with a resolved date is resolved."))
    elif model is Medication:
        _check_order(
            merged, errors, "recorded_on", "stop_date", gettext("Stopped before it started?")
        )
    elif model is CarePlan:
        _check_order(
            merged, errors, "recorded_on", "end_date", gettext("It ends before it starts?")
        )
    elif model is Vital:
        _check_vital(merged, cleaned, errors)
    elif model is LabResult:
        if item is None and not cleaned.get("flag"):
            cleaned["flag"] = ""  # not given: worked out from the value and the range
        _check_lab(merged, cleaned, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned
