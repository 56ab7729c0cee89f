"""Intake templates and forms as FHIR R4 Questionnaire / QuestionnaireResponse (SPEC §10.3).

Each resource is built as plain FHIR JSON data and validated by `fhir.resources`' R4B models (as
portico.records.fhir does; R4B shares R4's Questionnaire and QuestionnaireResponse).

A template version → Questionnaire:

- id: the version's public id; url: `{PORTICO_BASE_URL}/api/v1/intake/templates/<template
  public id>` (the template, whatever its version); version: the version number; status:
  active, or retired when the template is.
- Each section is a `group` item (linkId = section key, or `<key>.section` when a question has
  the same key), its description a first `display` item `<section linkId>.description`.
- Each question is an item whose linkId is its key: short_text→string, long_text→text,
  yes_no→boolean, single_choice→choice, multiple_choice→choice with repeats, date→date,
  number→integer (decimals 0) or decimal (with the standard maxDecimalPlaces), the unit with
  the standard questionnaire-unit extension and the range with minValue / maxValue. Choices
  are answerOption valueCoding (code = value, display = label). `show_if` is one enableWhen
  (operator "=", answerBoolean for yes/no, answerCoding for a choice). Help is a child
  `display` item `<key>.help` with the itemControl "help".
- consent → a `group` item `<key>`: a `display` `<key>.text` (what the patient agrees to), a
  required `boolean` `<key>.agree`, a required `string` `<key>.signature` and a read-only
  `date` `<key>.signed_on` (recorded when the patient signs).
- allergies / medications → a `group` item `<key>`: (allergies) a `boolean` `<key>.none` ("No
  known allergies") and a repeating `group` `<key>.entry` of `string` `<key>.name`, `string`
  `<key>.reaction` (or `<key>.instructions`) and `choice` `<key>.status` (ENTRY_STATUSES: a
  current chart entry confirmed or not, or a new one).
- What FHIR has no word for is a Portico extension (`{PORTICO_BASE_URL}/fhir/
  StructureDefinition/intake-question-type`, `…/intake-chart-field`), so that importing an
  exported Questionnaire gives the same definition. On import they are recognised by their path
  (`/fhir/StructureDefinition/intake-…`), whatever the server that wrote them.

A Questionnaire from elsewhere (no Portico extensions) is read as: string/url→short_text,
text→long_text, boolean→yes_no, choice and open-choice (its listed options only)→single choice,
or multiple with repeats, date/dateTime→date, integer→number, decimal/quantity→number
(maxDecimalPlaces, else 2 decimals; at most 4), a group→a section (nested groups become the
sections that follow: one level), items nested under a question→questions after it, `display`
items→the section's description (under a question: its help), enableWhen with one "=" condition
on an earlier yes/no or choice question→show_if (a group's condition goes to each of its
questions). Anything else (attachment, reference, time, answerValueSet without options, several
conditions, other operators) is refused with a message naming the item: nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from portico.intake import definition as defs
from portico.intake import services
from portico.intake.definition import QuestionType as T
from portico.intake.models import FormStatus, IntakeForm, IntakeTemplate, IntakeTemplateVersion
from portico.practices import permissions

HL7_EXT = "http://hl7.org/fhir/StructureDefinition/"
UNIT_EXT = HL7_EXT + "questionnaire-unit"
MIN_EXT = HL7_EXT + "minValue"
MAX_EXT = HL7_EXT + "maxValue"
DECIMALS_EXT = HL7_EXT + "maxDecimalPlaces"
ITEM_CONTROL_EXT = HL7_EXT + "questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
# Portico's own extensions: the path is what import recognises, under any server's address.
PORTICO_EXT_PATH = "/fhir/StructureDefinition/"
TYPE_EXT = "intake-question-type"
CHART_FIELD_EXT = "intake-chart-field"

# An allergy's or medication's line in a response: a current chart entry the patient confirms
# ("yes") or says is no longer current ("no"), or one they add.
ENTRY_STATUSES = {
    "yes": "Still current",
    "no": "No longer current",
    "new": "New",
}
LIST_DETAIL = {T.ALLERGIES: ("reaction", "Reaction"), T.MEDICATIONS: ("instructions", "How taken")}
NO_ALLERGIES = "No known allergies"

FORM_STATUS = {
    FormStatus.SENT: "in-progress",
    FormStatus.STARTED: "in-progress",
    FormStatus.SUBMITTED: "completed",
    FormStatus.PROCESSED: "completed",
    FormStatus.CANCELLED: "stopped",
}

# Imported decimals without maxDecimalPlaces get this many decimal places.
DEFAULT_DECIMALS = 2
IMPORT_NAME = "Imported questionnaire"


def portico_ext(name: str) -> str:
    return f"{settings.PORTICO_BASE_URL}{PORTICO_EXT_PATH}{name}"


def canonical_url(template: IntakeTemplate) -> str:
    """The template's canonical URL (the API address of its Questionnaire)."""
    return f"{settings.PORTICO_BASE_URL}/api/v1/intake/templates/{template.public_id}"


def _number(value: str) -> int | float:
    """A definition's number (text) as JSON: an integer when written as one."""
    number = Decimal(value)
    if re.fullmatch(r"-?[0-9]+", value):
        return int(number)
    return float(number)


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _machine_name(title: str) -> str:
    """FHIR's computer-friendly name: letters, digits and underscores, starting upper-case."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Intake"
    if not name[0].isalpha():
        name = "Intake" + name
    return name[:255]


# ---------------------------------------------------------------------------
# Export: Questionnaire


def _help(key: str, text: str) -> dict:
    return {
        "linkId": f"{key}.help",
        "type": "display",
        "text": text,
        "extension": [
            {
                "url": ITEM_CONTROL_EXT,
                "valueCodeableConcept": {
                    "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help"}]
                },
            }
        ],
    }


def _condition(question: dict, by_key: dict[str, dict]) -> list[dict]:
    condition = question["show_if"]
    target = by_key[condition["question"]]
    when: dict[str, Any] = {"question": target["key"], "operator": "="}
    if target["type"] == T.YES_NO:
        when["answerBoolean"] = condition["equals"] == "yes"
    else:
        label = next(c["label"] for c in target["choices"] if c["value"] == condition["equals"])
        when["answerCoding"] = {"code": condition["equals"], "display": label}
    return [when]


def _question_item(question: dict, by_key: dict[str, dict]) -> dict:
    key, kind = question["key"], question["type"]
    item: dict[str, Any] = {"linkId": key, "text": question["text"]}
    extensions = [{"url": portico_ext(TYPE_EXT), "valueCode": kind}]
    if question.get("chart_field"):
        extensions.append(
            {"url": portico_ext(CHART_FIELD_EXT), "valueCode": question["chart_field"]}
        )
    children: list[dict] = []
    if kind in (T.SHORT_TEXT, T.LONG_TEXT, T.YES_NO, T.DATE):
        item["type"] = {
            T.SHORT_TEXT: "string",
            T.LONG_TEXT: "text",
            T.YES_NO: "boolean",
            T.DATE: "date",
        }[kind]
    elif kind in defs.CHOICE_TYPES:
        item["type"] = "choice"
        if kind == T.MULTIPLE_CHOICE:
            item["repeats"] = True
        item["answerOption"] = [
            {"valueCoding": {"code": c["value"], "display": c["label"]}}
            for c in question["choices"]
        ]
    elif kind == T.NUMBER:
        decimals = int(question.get("decimals") or 0)
        item["type"] = "integer" if decimals == 0 else "decimal"
        if decimals:
            extensions.append({"url": DECIMALS_EXT, "valueInteger": decimals})
        if question.get("unit"):
            extensions.append({"url": UNIT_EXT, "valueCoding": {"display": question["unit"]}})
        for url, bound in ((MIN_EXT, question.get("min")), (MAX_EXT, question.get("max"))):
            if bound is not None:
                value = _number(bound)
                field = "valueInteger" if isinstance(value, int) else "valueDecimal"
                extensions.append({"url": url, field: value})
    elif kind == T.CONSENT:
        item["type"] = "group"
        children = [
            {"linkId": f"{key}.text", "type": "display", "text": question["consent_text"]},
            {
                "linkId": f"{key}.agree",
                "type": "boolean",
                "text": "I agree",
                "required": question["required"],
            },
            {
                "linkId": f"{key}.signature",
                "type": "string",
                "text": "Signature (your full name)",
                "required": question["required"],
            },
            {
                "linkId": f"{key}.signed_on",
                "type": "date",
                "text": "Date signed",
                "readOnly": True,
            },
        ]
    elif kind in defs.LIST_TYPES:
        item["type"] = "group"
        detail, detail_text = LIST_DETAIL[kind]
        if kind == T.ALLERGIES:
            children.append({"linkId": f"{key}.none", "type": "boolean", "text": NO_ALLERGIES})
        children.append(
            {
                "linkId": f"{key}.entry",
                "type": "group",
                "text": "Entry",
                "repeats": True,
                "item": [
                    {"linkId": f"{key}.name", "type": "string", "text": "Name", "required": True},
                    {"linkId": f"{key}.{detail}", "type": "string", "text": detail_text},
                    {
                        "linkId": f"{key}.status",
                        "type": "choice",
                        "text": "Status",
                        "answerOption": [
                            {"valueCoding": {"code": code, "display": label}}
                            for code, label in ENTRY_STATUSES.items()
                        ],
                    },
                ],
            }
        )
    item["required"] = bool(question.get("required"))
    if question.get("show_if"):
        item["enableWhen"] = _condition(question, by_key)
    if question.get("help"):
        children.insert(0, _help(key, question["help"]))
    if children:
        item["item"] = children
    item["extension"] = extensions
    return item


def _section_link(section: dict, question_keys: set[str]) -> str:
    return f"{section['key']}.section" if section["key"] in question_keys else section["key"]


def questionnaire_of(version: IntakeTemplateVersion) -> dict:
    """The version as a FHIR Questionnaire (JSON data, validated)."""
    template = version.template
    definition = version.definition
    by_key = defs.question_map(definition)
    items = []
    for section in defs.sections(definition):
        link = _section_link(section, set(by_key))
        children = []
        if section.get("description"):
            children.append(
                {"linkId": f"{link}.description", "type": "display", "text": section["description"]}
            )
        children += [_question_item(q, by_key) for q in section.get("questions") or []]
        group: dict[str, Any] = {"linkId": link, "type": "group", "text": section["title"]}
        if children:
            group["item"] = children
        items.append(group)
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": str(version.public_id),
        "url": canonical_url(template),
        "version": str(version.number),
        "name": _machine_name(version.name),
        "title": version.name,
        "status": "active" if template.is_active else "retired",
        "subjectType": ["Patient"],
        "date": _instant(version.created_at),
        "publisher": template.practice.name,
    }
    if items:
        data["item"] = items
    Questionnaire.model_validate(data)
    return data


# ---------------------------------------------------------------------------
# Export: QuestionnaireResponse


def _chart_names(form: IntakeForm, answers: dict) -> dict[str, str]:
    """Names of the chart entries the patient answered about (public id → name)."""
    from portico.charts.models import Allergy, Medication

    wanted: dict[Any, set[str]] = {Allergy: set(), Medication: set()}
    for question in defs.questions(form.definition):
        answer = answers.get(question["key"])
        if question["type"] in defs.LIST_TYPES and isinstance(answer, dict):
            model = Allergy if question["type"] == T.ALLERGIES else Medication
            wanted[model] |= set((answer.get("current") or {}).keys())
    names: dict[str, str] = {}
    for model, ids in wanted.items():
        if ids:
            rows = model.objects.filter(patient=form.patient, public_id__in=ids)
            names.update({str(pid): name for pid, name in rows.values_list("public_id", "display")})
    return names


def _entry(key: str, detail: str, name: str, detail_value: str, status: str) -> dict:
    parts = []
    if name:
        parts.append({"linkId": f"{key}.name", "answer": [{"valueString": name}]})
    if detail_value:
        parts.append({"linkId": f"{key}.{detail}", "answer": [{"valueString": detail_value}]})
    parts.append(
        {
            "linkId": f"{key}.status",
            "answer": [{"valueCoding": {"code": status, "display": ENTRY_STATUSES[status]}}],
        }
    )
    return {"linkId": f"{key}.entry", "item": parts}


def _answer_item(question: dict, answer: Any, names: dict[str, str]) -> dict | None:
    key, kind = question["key"], question["type"]
    item: dict[str, Any] = {"linkId": key, "text": question["text"]}
    if kind in (T.SHORT_TEXT, T.LONG_TEXT):
        item["answer"] = [{"valueString": answer}]
    elif kind == T.DATE:
        item["answer"] = [{"valueDate": answer}]
    elif kind == T.YES_NO:
        item["answer"] = [{"valueBoolean": answer == "yes"}]
    elif kind in defs.CHOICE_TYPES:
        labels = {c["value"]: c["label"] for c in question["choices"]}
        values = answer if isinstance(answer, list) else [answer]
        item["answer"] = [{"valueCoding": {"code": v, "display": labels.get(v, v)}} for v in values]
    elif kind == T.NUMBER:
        if int(question.get("decimals") or 0) == 0:
            item["answer"] = [{"valueInteger": int(Decimal(answer))}]
        else:
            item["answer"] = [{"valueDecimal": float(Decimal(answer))}]
    elif kind == T.CONSENT:
        item["item"] = [
            {"linkId": f"{key}.agree", "answer": [{"valueBoolean": bool(answer.get("agreed"))}]},
            {"linkId": f"{key}.signature", "answer": [{"valueString": answer["signature"]}]},
            {"linkId": f"{key}.signed_on", "answer": [{"valueDate": answer["signed_on"]}]},
        ]
    elif kind in defs.LIST_TYPES:
        detail = LIST_DETAIL[kind][0]
        parts = []
        if kind == T.ALLERGIES and answer.get("none"):
            parts.append({"linkId": f"{key}.none", "answer": [{"valueBoolean": True}]})
        for public_id, status in (answer.get("current") or {}).items():
            parts.append(_entry(key, detail, names.get(public_id, ""), "", status))
        for added in answer.get("added") or []:
            parts.append(_entry(key, detail, added["name"], added.get(detail) or "", "new"))
        if not parts:
            return None
        item["item"] = parts
    else:  # pragma: no cover - every type is handled above
        return None
    return item


def questionnaire_response_of(form: IntakeForm) -> dict:
    """The form's answers (those of the questions that show) as a FHIR QuestionnaireResponse
    (JSON data, validated), its items in the Questionnaire's groups."""
    definition = form.definition
    answers = defs.shown_answers(definition, form.answers or {})
    names = _chart_names(form, answers)
    keys = set(defs.question_map(definition))
    items = []
    for section in defs.sections(definition):
        children = []
        for question in section.get("questions") or []:
            if question["key"] not in answers:
                continue
            child = _answer_item(question, answers[question["key"]], names)
            if child is not None:
                children.append(child)
        if children:
            items.append(
                {"linkId": _section_link(section, keys), "text": section["title"], "item": children}
            )
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(form.public_id),
        "questionnaire": f"{canonical_url(form.template)}|{form.version.number}",
        "status": FORM_STATUS[FormStatus(form.status)],
        "subject": {"reference": f"Patient/{form.patient.public_id}"},
    }
    authored = form.submitted_at or form.saved_at
    if authored is not None:
        data["authored"] = _instant(authored)
    if items:
        data["item"] = items
    QuestionnaireResponse.model_validate(data)
    return data


# ---------------------------------------------------------------------------
# Import: Questionnaire → template


class QuestionnaireError(Exception):
    """A Questionnaire that cannot become a template: `messages` says why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _extension(item: dict, name: str) -> dict | None:
    """The Portico extension `name` (any server's), or a standard one by its full URL."""
    for ext in item.get("extension") or []:
        url = ext.get("url") if isinstance(ext, dict) else None
        if isinstance(url, str) and (url == name or url.endswith(PORTICO_EXT_PATH + name)):
            return ext
    return None


def _ext_value(item: dict, name: str) -> Any:
    ext = _extension(item, name)
    if ext is None:
        return None
    for field, value in ext.items():
        if field.startswith("value"):
            return value
    return None


def _is_help(item: dict) -> bool:
    control = _ext_value(item, ITEM_CONTROL_EXT)
    if not isinstance(control, dict):
        return False
    return any(c.get("code") == "help" for c in control.get("coding") or [] if isinstance(c, dict))


def _text_of(item: dict) -> str:
    text = item.get("text")
    return text.strip() if isinstance(text, str) else ""


def _choices(item: dict, where: str) -> list[dict]:
    choices = []
    for option in item.get("answerOption") or []:
        coding = option.get("valueCoding")
        if isinstance(coding, dict):
            label = coding.get("display") or coding.get("code") or ""
            value = coding.get("code") or label
        elif isinstance(option.get("valueString"), str):
            label = option["valueString"]
            value = _slug(label)[:80] or label
        elif option.get("valueInteger") is not None:
            label = value = str(option["valueInteger"])
        elif isinstance(option.get("valueDate"), str):
            label = value = option["valueDate"]
        else:
            raise QuestionnaireError(
                [f"{where}: an answer option must be a coding, text or number."]
            )
        choices.append({"value": str(value), "label": str(label)})
    if not choices:
        raise QuestionnaireError(
            [
                f"{where}: choice questions need their options listed (answerOption); answer "
                "value sets cannot be imported."
            ]
        )
    return choices


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class _Reader:
    """Walks a Questionnaire's items into sections and questions."""

    def __init__(self, title: str):
        self.title = title
        self.sections: list[dict] = []
        self.keys: dict[str, str] = {}  # linkId → question key
        self.by_link: dict[str, dict] = {}  # linkId → question
        self.used_keys: set[str] = set()
        self.used_sections: set[str] = set()
        self.problems: list[str] = []

    # keys ---------------------------------------------------------------
    def _key(self, link: str, used: set[str], prefix: str) -> str:
        key = link if defs.KEY_PATTERN.match(link or "") else _slug(link or "")
        if not key or not key[0].isalpha():
            key = f"{prefix}_{key}" if key else prefix
        key = key[:40]
        base, n = key, 2
        while key in used:
            suffix = f"_{n}"
            key = base[: 40 - len(suffix)] + suffix
            n += 1
        used.add(key)
        return key

    def _section(self, link: str, title: str, description: str = "") -> dict:
        if link.endswith(".section"):
            link = link.removesuffix(".section")
        section = {
            "key": self._key(link, self.used_sections, "s"),
            "title": title or self.title,
            "description": description,
            "questions": [],
        }
        self.sections.append(section)
        return section

    # items --------------------------------------------------------------
    def read(self, items: list) -> None:
        loose: dict | None = None  # a section for questions outside any group
        pending_description: list[str] = []
        for item in items:
            if item.get("type") == "display":
                text = _text_of(item)
                if text:
                    if loose is not None:
                        _add_description(loose, text)
                    else:
                        pending_description.append(text)
                continue
            if item.get("type") == "group" and _portico_type(item) is None:
                loose = None
                self.group(item, "\n\n".join(pending_description))
                pending_description = []
                continue
            if loose is None:
                loose = self._section(f"s{len(self.sections) + 1}", "")
                if pending_description:
                    loose["description"] = "\n\n".join(pending_description)
                    pending_description = []
            self.question(item, loose, None)
        if pending_description and self.sections:
            _add_description(self.sections[-1], "\n\n".join(pending_description))

    def group(self, item: dict, description: str, inherited: dict | None = None) -> None:
        condition = self.condition(item, inherited)
        title = _text_of(item)
        section = self._section(item.get("linkId") or "", title, description)
        for child in item.get("item") or []:
            kind = child.get("type")
            if kind == "display":
                text = _text_of(child)
                if text and not section["questions"]:
                    _add_description(section, text)
                elif text:  # a note between questions: the help of the question before it
                    last = section["questions"][-1]
                    last["help"] = "\n".join(filter(None, (last.get("help"), text)))
            elif kind == "group" and _portico_type(child) is None:
                self.group(child, "", condition)  # flattened: the next section
                section = self._section(item.get("linkId") or "", title)
            else:
                self.question(child, section, condition)
        self.sections = [s for s in self.sections if s["questions"] or s["description"]]

    def condition(self, item: dict, inherited: dict | None) -> dict | None:
        where = self.where(item)
        conditions = item.get("enableWhen") or []
        if not conditions:
            return inherited
        if inherited is not None:
            self.problems.append(
                f"{where}: only one level of conditions can be imported (its group has one too)."
            )
            return None
        if len(conditions) != 1:
            self.problems.append(f"{where}: only a single enableWhen condition can be imported.")
            return None
        when = conditions[0]
        target = self.by_link.get(when.get("question"))
        if when.get("operator") != "=" or target is None:
            self.problems.append(
                f'{where}: a condition must be "=" on an earlier yes/no or choice question.'
            )
            return None
        if target["type"] == T.YES_NO and isinstance(when.get("answerBoolean"), bool):
            return {"question": target["key"], "equals": "yes" if when["answerBoolean"] else "no"}
        if target["type"] in defs.CHOICE_TYPES:
            wanted = None
            if isinstance(when.get("answerCoding"), dict):
                coding = when["answerCoding"]
                wanted = [coding.get("code"), coding.get("display")]
            elif isinstance(when.get("answerString"), str):
                wanted = [when["answerString"]]
            elif when.get("answerInteger") is not None:
                wanted = [str(when["answerInteger"])]
            for choice in target["choices"]:
                if wanted and (choice["value"] in wanted or choice["label"] in wanted):
                    return {"question": target["key"], "equals": choice["value"]}
        self.problems.append(f"{where}: its condition names an answer its question does not offer.")
        return None

    def where(self, item: dict) -> str:
        return f'Item "{item.get("linkId")}"'

    def question(self, item: dict, section: dict, inherited: dict | None) -> None:
        where = self.where(item)
        link = item.get("linkId") or ""
        kind = _portico_type(item)
        fhir_type = item.get("type")
        children = [c for c in item.get("item") or [] if isinstance(c, dict)]
        condition = self.condition(item, inherited)
        question: dict[str, Any] = {
            "key": self._key(link, self.used_keys, "q"),
            "text": _text_of(item),
            "required": bool(item.get("required")),
        }
        help_texts = [
            _text_of(c)
            for c in children
            if c.get("type") == "display" and (kind is None or _is_help(c)) and _text_of(c)
        ]
        if kind is not None:
            question["type"] = kind
            if kind == T.CONSENT:
                question["consent_text"] = next(
                    (
                        _text_of(c)
                        for c in children
                        if c.get("type") == "display" and not _is_help(c)
                    ),
                    "",
                )
            children = []  # the parts of a consent or a list are Portico's own
        else:
            question["type"] = self.fhir_type(item, fhir_type, where)
            if question["type"] is None:
                return
        if question["type"] in defs.CHOICE_TYPES:
            try:
                question["choices"] = _choices(item, where)
            except QuestionnaireError as exc:
                self.problems.extend(exc.messages)
                return
        if question["type"] == T.NUMBER:
            self.number(item, question, fhir_type, kind is not None)
        chart_field = _ext_value(item, CHART_FIELD_EXT)
        if chart_field:
            question["chart_field"] = chart_field
        if help_texts:
            question["help"] = "\n".join(help_texts)
        if condition is not None:
            question["show_if"] = condition
        section["questions"].append(question)
        self.keys[link] = question["key"]
        self.by_link[link] = question
        for child in children:  # questions nested under this one: they follow it
            if child.get("type") == "display":
                continue
            if child.get("type") == "group" and _portico_type(child) is None:
                self.problems.append(
                    f"{self.where(child)}: a group under a question cannot be imported."
                )
                continue
            self.question(child, section, inherited)

    def fhir_type(self, item: dict, fhir_type: Any, where: str) -> str | None:
        simple = {
            "string": T.SHORT_TEXT,
            "url": T.SHORT_TEXT,
            "text": T.LONG_TEXT,
            "boolean": T.YES_NO,
            "date": T.DATE,
            "dateTime": T.DATE,
            "integer": T.NUMBER,
            "decimal": T.NUMBER,
            "quantity": T.NUMBER,
        }
        if fhir_type in simple:
            return simple[fhir_type]
        if fhir_type in ("choice", "open-choice"):
            return T.MULTIPLE_CHOICE if item.get("repeats") else T.SINGLE_CHOICE
        if fhir_type == "group":
            self.problems.append(f"{where}: a group under a question cannot be imported.")
        else:
            self.problems.append(
                f'{where}: questions of type "{fhir_type}" cannot be imported (Portico asks '
                "for text, yes/no, choices, dates and numbers)."
            )
        return None

    def number(self, item: dict, question: dict, fhir_type: Any, portico: bool) -> None:
        if fhir_type == "integer":
            question["decimals"] = 0
        else:
            places = _ext_value(item, DECIMALS_EXT)
            places = places if isinstance(places, int) and not isinstance(places, bool) else None
            question["decimals"] = (
                min(4, max(0, places)) if places is not None else DEFAULT_DECIMALS
            )
        unit = _ext_value(item, UNIT_EXT)
        if isinstance(unit, dict):
            question["unit"] = unit.get("display") or unit.get("code") or ""
        for field, url in (("min", MIN_EXT), ("max", MAX_EXT)):
            value = _ext_value(item, url)
            if value is None or isinstance(value, bool):
                continue
            try:
                question[field] = str(Decimal(str(value)))
            except InvalidOperation:
                continue


def _add_description(section: dict, text: str) -> None:
    section["description"] = "\n\n".join(filter(None, (section.get("description"), text)))


def _portico_type(item: dict) -> str | None:
    value = _ext_value(item, TYPE_EXT)
    return value if value in T.values else None


def _fhir_problems(error: pydantic.ValidationError) -> list[str]:
    problems = []
    for detail in error.errors()[:5]:
        where = ".".join(str(part) for part in detail.get("loc", ()) if part != "__root__")
        problems.append(
            f"This is not a valid FHIR R4 Questionnaire: {where or 'the resource'}: "
            f"{detail.get('msg', 'invalid value')}."
        )
    return problems or ["This is not a valid FHIR R4 Questionnaire."]


def definition_from_questionnaire(resource: Any) -> tuple[dict, str]:
    """The definition and title a Questionnaire (JSON text or data) describes, checked by
    intake.definition's rules; ValidationError {"questionnaire": [messages]} otherwise."""
    if isinstance(resource, (str, bytes)):
        try:
            resource = json.loads(resource)
        except ValueError as exc:
            raise ValidationError(
                {"questionnaire": ["The questionnaire is not valid JSON."]}
            ) from exc
    if not isinstance(resource, dict):
        raise ValidationError({"questionnaire": ["Send a FHIR Questionnaire: a JSON object."]})
    if resource.get("resourceType") != "Questionnaire":
        raise ValidationError(
            {
                "questionnaire": [
                    'This is not a FHIR Questionnaire (its "resourceType" must be "Questionnaire").'
                ]
            }
        )
    try:
        Questionnaire.model_validate(resource)
    except (pydantic.ValidationError, ValueError, TypeError) as exc:
        problems = (
            _fhir_problems(exc)
            if isinstance(exc, pydantic.ValidationError)
            else ["This is not a valid FHIR R4 Questionnaire."]
        )
        raise ValidationError({"questionnaire": problems}) from exc
    title = (resource.get("title") or resource.get("name") or "").strip()
    reader = _Reader(title or IMPORT_NAME)
    reader.read([item for item in resource.get("item") or [] if isinstance(item, dict)])
    if reader.problems:
        raise ValidationError({"questionnaire": reader.problems})
    definition = {"sections": reader.sections}
    try:
        tidy = defs.validate_definition(definition)
    except defs.DefinitionError as exc:
        raise ValidationError({"questionnaire": exc.messages}) from exc
    if not defs.questions(tidy):
        raise ValidationError({"questionnaire": ["The questionnaire has no questions to import."]})
    return tidy, title


def template_from_questionnaire(
    actor, *, practice, resource: Any, name: str | None = None
) -> IntakeTemplate:
    """A new template of the practice from a FHIR Questionnaire (settings permission). Named
    `name`, else the Questionnaire's title (or name). Bad input → ValidationError, nothing
    stored."""
    membership = permissions.require_member(actor, practice)
    permissions.require(permissions.can_manage_settings(membership))
    definition, title = definition_from_questionnaire(resource)
    if name is None:
        name = (title or IMPORT_NAME)[:100]
    return services.template_create(actor, practice=practice, name=name, definition=definition)
