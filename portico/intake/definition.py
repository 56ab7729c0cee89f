"""An intake template's definition and the rules its answers follow (SPEC §10.1).

A definition is plain data (JSON in `IntakeTemplateVersion.definition`), so a version is an
immutable snapshot that forms keep whatever happens to the template later:

    {"sections": [{"key": "s1", "title": "...", "description": "...",
                   "questions": [{"key": "q1", "type": "short_text", "text": "...", ...}]}]}

Every question has `key` (unique in the definition, kept across versions: answers, conditions
and FHIR linkIds use it), `type` (QuestionType), `text`, optional `help`, `required` (bool),
and by type:

- single_choice / multiple_choice: `choices`, a list of {"value", "label"};
- number: `unit` (text), `min` and `max` (optional numbers), `decimals` (0..4, default 0);
- consent: `consent_text` (what the patient agrees to; they type their name as a signature and
  the date of signing is recorded);
- short_text, date: `chart_field` (optional): the chart's demographic field the answer may be
  accepted into (CHART_FIELDS);
- allergies / medications: the patient's current list to confirm or change, and new entries.

`show_if` = {"question": key, "equals": value} shows a question only when an earlier question
(yes/no, single or multiple choice, itself unconditional: one level) has that answer ("yes" or
"no" for yes/no, a choice's value otherwise; for multiple choice, when that value is ticked).

Answers (`IntakeForm.answers`, keyed by question key) are stored as:
short_text/long_text/single_choice/date/number: a string ("72.5", "2026-12-01"); yes_no: "yes" or
"no"; multiple_choice: a list of values; consent: {"agreed": true, "signature": "...",
"signed_on": "YYYY-MM-DD"}; allergies: {"none": bool, "current": {item public id: "yes"|"no"},
"added": [{"name", "reaction"}]}; medications: {"current": {id: "yes"|"no"}, "added":
[{"name", "instructions"}]}.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.charts.validation import has_control_characters


class QuestionType(models.TextChoices):
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    YES_NO = "yes_no", _("Yes or no")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    DATE = "date", _("Date")
    NUMBER = "number", _("Number")
    CONSENT = "consent", _("Consent with signature")
    ALLERGIES = "allergies", _("Allergies (the patient's list)")
    MEDICATIONS = "medications", _("Medications (the patient's list)")


CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
# Types whose answer a later question's condition may test.
CONDITION_TYPES = (QuestionType.YES_NO, *CHOICE_TYPES)
LIST_TYPES = (QuestionType.ALLERGIES, QuestionType.MEDICATIONS)

# The chart's demographic fields an answer may be accepted into, with the question types that
# fit them (charts.services.patient_update checks the values once more when staff accept).
CHART_FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "preferred_name": (_("Preferred name"), (QuestionType.SHORT_TEXT,)),
    "email": (_("Email"), (QuestionType.SHORT_TEXT,)),
    "mobile_phone": (_("Mobile phone"), (QuestionType.SHORT_TEXT,)),
    "address_line1": (_("Address line 1"), (QuestionType.SHORT_TEXT,)),
    "address_line2": (_("Address line 2"), (QuestionType.SHORT_TEXT,)),
    "city": (_("City"), (QuestionType.SHORT_TEXT,)),
    "state": (_("State"), (QuestionType.SHORT_TEXT,)),
    "postal_code": (_("ZIP code"), (QuestionType.SHORT_TEXT,)),
}

SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 4000
LIST_ENTRY_MAX = 200
LIST_ENTRIES_MAX = 30
MAX_QUESTIONS = 200
MAX_CHOICES = 50
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class DefinitionError(Exception):
    """A definition that breaks the rules; `messages` says what, for the template's editor."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# ---------------------------------------------------------------------------
# Reading a definition


def sections(definition: dict) -> list[dict]:
    return list(definition.get("sections") or [])


def questions(definition: dict) -> list[dict]:
    """Every question, in order."""
    return [q for s in sections(definition) for q in s.get("questions") or []]


def question_map(definition: dict) -> dict[str, dict]:
    return {q["key"]: q for q in questions(definition)}


def is_shown(question: dict, answers: dict) -> bool:
    """Whether a question shows, given the answers so far (its condition, if any)."""
    condition = question.get("show_if")
    if not condition:
        return True
    answer = answers.get(condition["question"])
    if isinstance(answer, list):
        return condition["equals"] in answer
    return answer == condition["equals"]


def is_answered(question: dict, answer: Any) -> bool:
    """Whether an answer counts for a required question."""
    if answer is None or answer == "" or answer == []:
        return False
    kind = question["type"]
    if kind == QuestionType.CONSENT:
        return bool(isinstance(answer, dict) and answer.get("agreed") and answer.get("signature"))
    if kind == QuestionType.ALLERGIES:
        return bool(
            isinstance(answer, dict)
            and (answer.get("none") or answer.get("current") or answer.get("added"))
        )
    if kind == QuestionType.MEDICATIONS:
        return bool(isinstance(answer, dict) and (answer.get("current") or answer.get("added")))
    return True


def missing_required(definition: dict, answers: dict) -> list[dict]:
    """The required questions, shown under the answers so far, that have no answer yet."""
    return [
        q
        for q in questions(definition)
        if q.get("required") and is_shown(q, answers) and not is_answered(q, answers.get(q["key"]))
    ]


def shown_answers(definition: dict, answers: dict) -> dict:
    """The answers of the questions that show: an answer to a question whose condition no
    longer holds is not part of the form (it is dropped on submit)."""
    qs = question_map(definition)
    return {k: v for k, v in answers.items() if k in qs and is_shown(qs[k], answers)}


# ---------------------------------------------------------------------------
# Checking a definition (the template editor and FHIR import)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError from exc
    if not number.is_finite():
        raise ValueError
    return number


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def validate_definition(definition: Any) -> dict:
    """The definition, tidied (text trimmed, defaults filled), or DefinitionError naming every
    problem. Keys must be unique; a condition must point to an earlier unconditional yes/no or
    choice question and name one of its answers."""
    problems: list[str] = []
    if not isinstance(definition, dict) or not isinstance(definition.get("sections"), list):
        raise DefinitionError([gettext("A template is a list of sections.")])
    seen: dict[str, dict] = {}
    section_keys: set[str] = set()
    tidy_sections = []
    count = 0
    for s_index, section in enumerate(definition["sections"], start=1):
        if not isinstance(section, dict):
            problems.append(gettext("Section %(n)s is not a section.") % {"n": s_index})
            continue
        s_key = section.get("key") or f"s{s_index}"
        title = _text(section.get("title"), 200)
        if not isinstance(s_key, str) or not KEY_PATTERN.match(s_key) or s_key in section_keys:
            problems.append(gettext("Section %(n)s needs a unique key.") % {"n": s_index})
        section_keys.add(str(s_key))
        if not title:
            problems.append(gettext("Section %(n)s needs a title.") % {"n": s_index})
        tidy_questions = []
        for question in section.get("questions") or []:
            count += 1
            tidy = _validate_question(question, count, seen, problems)
            if tidy is not None:
                seen[tidy["key"]] = tidy
                tidy_questions.append(tidy)
        tidy_sections.append(
            {
                "key": s_key,
                "title": title,
                "description": _text(section.get("description"), 2000),
                "questions": tidy_questions,
            }
        )
    if count > MAX_QUESTIONS:
        problems.append(
            gettext("A template has at most %(limit)s questions.") % {"limit": MAX_QUESTIONS}
        )
    for text in (*(s["title"] for s in tidy_sections), *(q["text"] for q in seen.values())):
        if has_control_characters(text):
            problems.append(gettext("Remove control characters (such as NUL) from the text."))
            break
    if problems:
        raise DefinitionError(problems)
    return {"sections": tidy_sections}


def _validate_question(question: Any, n: int, earlier: dict, problems: list[str]) -> dict | None:
    where = {"n": n}
    if not isinstance(question, dict):
        problems.append(gettext("Question %(n)s is not a question.") % where)
        return None
    key = question.get("key")
    kind = question.get("type")
    text = _text(question.get("text"), 500)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(
            gettext("Question %(n)s needs a key of lower-case letters, digits and underscores.")
            % where
        )
        return None
    if key in earlier:
        problems.append(gettext("Question %(n)s uses a key already used.") % where)
        return None
    if kind not in QuestionType.values:
        problems.append(gettext("Question %(n)s needs one of the question types.") % where)
        return None
    if not text:
        problems.append(gettext("Question %(n)s needs its text.") % where)
    tidy: dict[str, Any] = {
        "key": key,
        "type": str(kind),
        "text": text,
        "help": _text(question.get("help"), 500),
        "required": bool(question.get("required")),
    }
    if kind in CHOICE_TYPES:
        choices = []
        values: set[str] = set()
        for choice in question.get("choices") or []:
            label = _text(choice.get("label") if isinstance(choice, dict) else choice, 200)
            value = _text(choice.get("value") if isinstance(choice, dict) else "", 80) or label
            if label and value not in values:
                values.add(value)
                choices.append({"value": value, "label": label})
        if len(choices) < 2:
            problems.append(gettext("Question %(n)s needs at least two choices.") % where)
        if len(choices) > MAX_CHOICES:
            problems.append(
                gettext("Question %(n)s has more than %(limit)s choices.")
                % {**where, "limit": MAX_CHOICES}
            )
        tidy["choices"] = choices
    if kind == QuestionType.NUMBER:
        try:
            low, high = _number(question.get("min")), _number(question.get("max"))
            decimals = int(question.get("decimals") or 0)
        except (ValueError, TypeError):
            problems.append(gettext("Question %(n)s needs numbers for its range.") % where)
            low = high = None
            decimals = 0
        if low is not None and high is not None and low > high:
            problems.append(
                gettext("Question %(n)s: the lowest value is above the highest.") % where
            )
        if not 0 <= decimals <= 4:
            problems.append(gettext("Question %(n)s: use 0 to 4 decimal places.") % where)
        tidy["unit"] = _text(question.get("unit"), 30)
        tidy["min"] = None if low is None else str(low)
        tidy["max"] = None if high is None else str(high)
        tidy["decimals"] = decimals
    if kind == QuestionType.CONSENT:
        tidy["consent_text"] = _text(question.get("consent_text"), 8000)
        if not tidy["consent_text"]:
            problems.append(gettext("Question %(n)s needs the text the patient agrees to.") % where)
    chart_field = question.get("chart_field") or ""
    if chart_field:
        if chart_field not in CHART_FIELDS or kind not in CHART_FIELDS[chart_field][1]:
            problems.append(
                gettext("Question %(n)s: that chart field does not fit this question.") % where
            )
        tidy["chart_field"] = chart_field
    condition = question.get("show_if")
    if condition:
        target = earlier.get(condition.get("question")) if isinstance(condition, dict) else None
        equals = condition.get("equals") if isinstance(condition, dict) else None
        if target is None or target["type"] not in CONDITION_TYPES or target.get("show_if"):
            problems.append(
                gettext(
                    "Question %(n)s can only depend on an earlier yes/no or choice question "
                    "that is always shown."
                )
                % where
            )
        elif equals not in _possible_answers(target):
            problems.append(
                gettext("Question %(n)s depends on an answer its question does not offer.") % where
            )
        else:
            tidy["show_if"] = {"question": target["key"], "equals": equals}
    return tidy


def _possible_answers(question: dict) -> list[str]:
    if question["type"] == QuestionType.YES_NO:
        return ["yes", "no"]
    return [c["value"] for c in question.get("choices") or []]


# ---------------------------------------------------------------------------
# Checking answers


class AnswerErrors(Exception):
    """Answers that break their questions' rules: `errors` maps a question key to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def clean_answers(
    definition: dict,
    raw: dict[str, Any],
    *,
    signed_on: dt.date,
    current_items: dict[str, set[str]] | None = None,
) -> dict[str, Any]:
    """The answers of `raw` (question key → what the page or API sent), each checked by its
    question's rules and stored in its stored form; a key not in the definition is an error.
    An empty answer clears it (required questions are checked at submit, not on save, so a
    patient can save half a form). `current_items` maps "allergies"/"medications" to the public
    ids of the chart's current entries the patient may confirm."""
    qs = question_map(definition)
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        question = qs.get(key)
        if question is None:
            errors[key] = [gettext("This question is not part of the form.")]
            continue
        try:
            cleaned[key] = _clean_answer(question, value, signed_on, current_items or {})
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise AnswerErrors(errors)
    return cleaned


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _plain_text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(gettext("Enter text."))
    value = value.strip()
    if has_control_characters(value.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise ValueError(gettext("Remove control characters (such as NUL) from this answer."))
    if len(value) > limit:
        raise ValueError(gettext("Use at most %(limit)s characters.") % {"limit": limit})
    return value


def _clean_answer(question: dict, value: Any, signed_on: dt.date, current: dict) -> Any:
    kind = question["type"]
    if kind in LIST_TYPES:
        return _clean_list(question, value, current.get(kind, set()))
    if kind == QuestionType.CONSENT:
        return _clean_consent(value, signed_on)
    if _is_blank(value):
        return None
    if kind == QuestionType.SHORT_TEXT:
        return _plain_text(value, SHORT_TEXT_MAX)
    if kind == QuestionType.LONG_TEXT:
        return _plain_text(value, LONG_TEXT_MAX)
    if kind == QuestionType.YES_NO:
        if value not in ("yes", "no"):
            raise ValueError(gettext("Answer yes or no."))
        return value
    if kind == QuestionType.SINGLE_CHOICE:
        if value not in _possible_answers(question):
            raise ValueError(gettext("Choose one of the listed answers."))
        return value
    if kind == QuestionType.MULTIPLE_CHOICE:
        values = value if isinstance(value, list) else [value]
        offered = _possible_answers(question)
        if any(v not in offered for v in values):
            raise ValueError(gettext("Choose from the listed answers."))
        return [v for v in offered if v in values]  # in the template's order, once each
    if kind == QuestionType.DATE:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValueError(gettext("Enter a date such as 2026-03-15.")) from exc
        if day.year < 1900 or day.year > 2100:
            raise ValueError(gettext("Enter a date between 1900 and 2100."))
        return day.isoformat()
    if kind == QuestionType.NUMBER:
        return _clean_number(question, value)
    raise ValueError(gettext("This question cannot be answered."))  # pragma: no cover


def _clean_number(question: dict, value: Any) -> str:
    try:
        number = _number(str(value).strip().replace(",", ""))
    except ValueError:
        number = None
    if number is None:
        raise ValueError(gettext("Enter a number."))
    decimals = int(question.get("decimals") or 0)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        if decimals == 0:
            raise ValueError(gettext("Enter a whole number."))
        raise ValueError(
            gettext("Use at most %(decimals)s decimal places.") % {"decimals": decimals}
        )
    low = _number(question.get("min"))
    high = _number(question.get("max"))
    unit = question.get("unit") or ""
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            message = gettext("Enter a number from %(low)s to %(high)s.")
        elif low is not None:
            message = gettext("Enter a number of at least %(low)s.")
        else:
            message = gettext("Enter a number of at most %(high)s.")
        raise ValueError((message % {"low": low, "high": high}) + (f" ({unit})" if unit else ""))
    return str(number)


def _clean_consent(value: Any, signed_on: dt.date) -> dict | None:
    if _is_blank(value):
        return None
    if not isinstance(value, dict):
        raise ValueError(gettext("Tick the box and type your full name to sign."))
    agreed = value.get("agreed") in (True, "true", "on", "yes")
    signature = value.get("signature") or ""
    signature = _plain_text(signature, SHORT_TEXT_MAX) if signature else ""
    if not agreed and not signature:
        return None
    if not agreed or not signature:
        raise ValueError(gettext("Tick the box and type your full name to sign."))
    return {"agreed": True, "signature": signature, "signed_on": signed_on.isoformat()}


def _clean_list(question: dict, value: Any, current_ids: set[str]) -> dict | None:
    if _is_blank(value):
        return None
    if not isinstance(value, dict):
        raise ValueError(gettext("Answer about each entry of the list."))
    kind = question["type"]
    detail_field = "reaction" if kind == QuestionType.ALLERGIES else "instructions"
    current = value.get("current") or {}
    if not isinstance(current, dict) or any(
        k not in current_ids or v not in ("yes", "no") for k, v in current.items()
    ):
        raise ValueError(gettext("Answer yes or no about each entry of the list."))
    added = []
    for entry in value.get("added") or []:
        if not isinstance(entry, dict):
            raise ValueError(gettext("Enter each new entry's name."))
        name = _plain_text(entry.get("name") or "", LIST_ENTRY_MAX)
        detail = _plain_text(entry.get(detail_field) or "", LIST_ENTRY_MAX)
        if not name and detail:
            raise ValueError(gettext("Enter each new entry's name."))
        if name:
            added.append({"name": name, detail_field: detail})
    if len(added) > LIST_ENTRIES_MAX:
        raise ValueError(
            gettext("Add at most %(limit)s new entries.") % {"limit": LIST_ENTRIES_MAX}
        )
    answer: dict[str, Any] = {"current": dict(current), "added": added}
    if kind == QuestionType.ALLERGIES:
        answer["none"] = value.get("none") in (True, "true", "on", "yes")
        if answer["none"] and (added or any(v == "yes" for v in current.values())):
            raise ValueError(
                gettext("You said you have no allergies: remove the allergies listed first.")
            )
    if not answer["current"] and not added and not answer.get("none"):
        return None
    return answer
