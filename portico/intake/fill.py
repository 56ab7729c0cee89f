"""What the patient's check-in pages read from a posted page and show of a form (SPEC §10.2).

A form is filled in one section per page. Each question's inputs are named after its key
("q-<key>", and "q-<key>-<part>" for the parts of a consent or a list), and the page's answers
are read back into the stored shape of intake.definition, so the same values can be saved
(services.form_save checks them) or shown again as typed when the save fails.

A question whose condition depends on a question of an earlier page is shown or left out by
the answers saved; one that depends on a question of the same page is shown with a note
("Answer only if …"; intake.js hides it live), and its answer is cleared on save when the
condition does not hold, so an answer to a hidden question is never kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext

from portico.intake import definition as defs
from portico.intake.definition import QuestionType as T

# Empty rows offered under a list question for new entries ("Save and add more" gives more,
# as the entries saved are shown above them).
EMPTY_ROWS = 3
SIMPLE_TYPES = (T.SHORT_TEXT, T.LONG_TEXT, T.YES_NO, T.SINGLE_CHOICE, T.DATE, T.NUMBER)


def field_name(key: str, *parts: Any) -> str:
    """The name (and id) of a question's input; keys are [a-z0-9_], so "-" separates parts."""
    return "-".join(["q", key, *(str(p) for p in parts)])


def detail_field(kind: str) -> str:
    return "reaction" if kind == T.ALLERGIES else "instructions"


def section_number(value: Any, total: int) -> int:
    """The page's section (1-based) from the query or the form; anything else is the first."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), max(total, 1))


# ---------------------------------------------------------------------------
# Reading a posted page


def _rows(post, name: str) -> int:
    try:
        rows = int(post.get(f"{name}-rows", EMPTY_ROWS))
    except (TypeError, ValueError):
        rows = EMPTY_ROWS
    return min(max(rows, 0), defs.LIST_ENTRIES_MAX + EMPTY_ROWS)


def _posted(question: dict, post) -> Any:
    key, kind = question["key"], question["type"]
    name = field_name(key)
    if kind in SIMPLE_TYPES:
        return post.get(name, "")
    if kind == T.MULTIPLE_CHOICE:
        return post.getlist(name)
    if kind == T.CONSENT:
        return {
            "agreed": post.get(f"{name}-agreed") == "yes",
            "signature": post.get(f"{name}-signature", ""),
        }
    # allergies / medications
    prefix = f"{name}-current-"
    detail = detail_field(kind)
    answer: dict[str, Any] = {
        "current": {k[len(prefix) :]: v for k, v in post.items() if k.startswith(prefix) and v},
        "added": [
            {
                "name": post.get(f"{name}-add-{i}-name", ""),
                detail: post.get(f"{name}-add-{i}-{detail}", ""),
            }
            for i in range(_rows(post, name))
        ],
    }
    if kind == T.ALLERGIES:
        answer["none"] = post.get(f"{name}-none") == "yes"
    return answer


def page_answers(form, section: dict, post) -> tuple[dict, dict]:
    """(answers to save, answers as typed) for the questions of `section` from a posted page.
    A question whose condition does not hold under the saved answers and this page's is
    cleared (its typed answer is still shown again if the save fails)."""
    typed = {q["key"]: _posted(q, post) for q in section.get("questions") or []}
    so_far = {**form.answers, **typed}
    answers = {}
    for question in section.get("questions") or []:
        key = question["key"]
        answers[key] = typed[key] if defs.is_shown(question, so_far) else ""
    return answers, typed


# ---------------------------------------------------------------------------
# Showing a page


@dataclass
class Choice:
    value: str
    label: str
    id: str
    checked: bool


@dataclass
class ListEntry:
    """One of the chart's current entries to confirm ("Still correct?")."""

    id: str
    name: str
    detail: str
    answer: str  # "yes", "no" or ""
    field: str


@dataclass
class NewRow:
    index: int
    name: str
    detail: str
    name_field: str
    detail_field: str


@dataclass
class QuestionView:
    """One question as its page shows it, with its value (saved or typed) and errors."""

    question: dict
    value: Any
    errors: list[str]
    # Dependent on a question of this page: shown with a note, hidden live by intake.js.
    depends: dict | None = None
    condition_note: str = ""
    choices: list[Choice] = field(default_factory=list)
    current: list[ListEntry] = field(default_factory=list)
    rows: list[NewRow] = field(default_factory=list)
    none: bool = False
    agreed: bool = False
    signature: str = ""
    signed_on: str = ""

    @property
    def key(self) -> str:
        return self.question["key"]

    @property
    def kind(self) -> str:
        return self.question["type"]

    @property
    def name(self) -> str:
        return field_name(self.key)

    @property
    def is_group(self) -> bool:
        """Asked with several inputs in a fieldset (legend = the question)."""
        return self.kind not in (T.SHORT_TEXT, T.LONG_TEXT, T.DATE, T.NUMBER)

    @property
    def anchor(self) -> str:
        """The id an error summary links to: the first input."""
        if self.kind in (T.YES_NO, T.SINGLE_CHOICE, T.MULTIPLE_CHOICE):
            return self.choices[0].id if self.choices else self.name
        if self.kind == T.CONSENT:
            return f"{self.name}-agreed"
        if self.current:
            return f"{self.current[0].field}-yes"
        if self.kind == T.ALLERGIES:
            return f"{self.name}-none"
        return f"{self.name}-add-0-name" if self.kind in defs.LIST_TYPES else self.name

    @property
    def help_id(self) -> str:
        return f"{self.name}-help" if self.question.get("help") else ""

    @property
    def error_id(self) -> str:
        return f"{self.name}-error" if self.errors else ""

    @property
    def note_id(self) -> str:
        return f"{self.name}-note" if self.condition_note else ""

    @property
    def describedby(self) -> str:
        return " ".join(i for i in (self.note_id, self.help_id, self.error_id) if i)

    @property
    def detail_label(self) -> str:
        return gettext("Reaction") if self.kind == T.ALLERGIES else gettext("How you take it")

    @property
    def text_value(self) -> str:
        return self.value if isinstance(self.value, str) else ""

    @property
    def range_help(self) -> str:
        """A number question's range and unit, for its help line."""
        low, high, unit = self.question.get("min"), self.question.get("max"), ""
        unit = self.question.get("unit") or ""
        if low is not None and high is not None:
            text = gettext("From %(low)s to %(high)s") % {"low": low, "high": high}
        elif low is not None:
            text = gettext("At least %(low)s") % {"low": low}
        elif high is not None:
            text = gettext("At most %(high)s") % {"high": high}
        else:
            return ""
        return f"{text} ({unit})" if unit else text


def _answer_label(question: dict, value: str) -> str:
    if question["type"] == T.YES_NO:
        return gettext("Yes") if value == "yes" else gettext("No")
    labels = {c["value"]: c["label"] for c in question.get("choices") or []}
    return labels.get(value, value)


def condition_note(question: dict, by_key: dict) -> str:
    condition = question.get("show_if")
    if not condition:
        return ""
    target = by_key.get(condition["question"])
    if target is None:
        return ""
    return gettext("Answer only if you answered “%(answer)s” to “%(question)s”.") % {
        "answer": _answer_label(target, condition["equals"]),
        "question": target["text"],
    }


def _choices(question: dict, value: Any) -> list[Choice]:
    name = field_name(question["key"])
    if question["type"] == T.YES_NO:
        offered = [("yes", gettext("Yes")), ("no", gettext("No"))]
    else:
        offered = [(c["value"], c["label"]) for c in question.get("choices") or []]
    chosen = set(value) if isinstance(value, list) else {value}
    return [
        Choice(value=v, label=label, id=f"{name}-{i}", checked=v in chosen)
        for i, (v, label) in enumerate(offered)
    ]


def _list_parts(view: QuestionView, items: list, *, extra_rows: int = EMPTY_ROWS) -> None:
    value = view.value if isinstance(view.value, dict) else {}
    kind, name = view.kind, view.name
    detail = detail_field(kind)
    answered = value.get("current") or {}
    view.current = [
        ListEntry(
            id=str(item.public_id),
            name=item.display,
            detail=getattr(item, detail, "") or "",
            answer=answered.get(str(item.public_id), ""),
            field=f"{name}-current-{item.public_id}",
        )
        for item in items
    ]
    entries = [e for e in value.get("added") or [] if e.get("name") or e.get(detail)]
    entries += [{"name": "", detail: ""}] * extra_rows
    view.rows = [
        NewRow(
            index=i,
            name=e.get("name") or "",
            detail=e.get(detail) or "",
            name_field=f"{name}-add-{i}-name",
            detail_field=f"{name}-add-{i}-{detail}",
        )
        for i, e in enumerate(entries)
    ]
    view.none = value.get("none") in (True, "yes", "on")


def page_questions(
    form,
    section: dict,
    *,
    typed: dict | None = None,
    errors: dict | None = None,
    items: dict | None = None,
    signed_on: dt.date | None = None,
) -> list[QuestionView]:
    """The questions of `section` as the page shows them: with the answers as typed (a failed
    save) or saved, their errors, and the chart's current lists (`items`, services.
    current_items) under list questions. A question whose condition depends on an earlier
    page and does not hold is left out."""
    definition = form.definition
    by_key = defs.question_map(definition)
    on_page = {q["key"] for q in section.get("questions") or []}
    values = {**form.answers, **(typed or {})}
    views = []
    for question in section.get("questions") or []:
        key, kind = question["key"], question["type"]
        condition = question.get("show_if")
        depends = condition if condition and condition["question"] in on_page else None
        if condition and depends is None and not defs.is_shown(question, form.answers):
            continue
        view = QuestionView(
            question=question,
            value=values.get(key),
            errors=list((errors or {}).get(key) or []),
            depends=depends,
            condition_note=condition_note(question, by_key) if depends else "",
        )
        if kind in (T.YES_NO, *defs.CHOICE_TYPES):
            view.choices = _choices(question, view.value)
        elif kind == T.CONSENT:
            value = view.value if isinstance(view.value, dict) else {}
            view.agreed = value.get("agreed") in (True, "yes", "on", "true")
            view.signature = value.get("signature") or ""
            day = value.get("signed_on") if key in form.answers and not typed else None
            view.signed_on = _date_text(day) if day else _date_text(signed_on)
        elif kind in defs.LIST_TYPES:
            _list_parts(view, list((items or {}).get(kind) or []))
        views.append(view)
    return views


def _date_text(day: Any) -> str:
    if day is None:
        return ""
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return day
    return date_format(day, "DATE_FORMAT")


# ---------------------------------------------------------------------------
# The review page


@dataclass
class ReviewLine:
    question: dict
    lines: list[str]
    missing: bool
    section: int


@dataclass
class ReviewSection:
    number: int
    title: str
    lines: list[ReviewLine]


def answer_lines(question: dict, answer: Any, items_by_id: dict) -> list[str]:
    """An answer as the review page shows it (read-only), one line or several."""
    kind = question["type"]
    if answer is None or answer == "" or answer == []:
        return []
    if kind in (T.YES_NO, T.SINGLE_CHOICE):
        return [_answer_label(question, answer)]
    if kind == T.MULTIPLE_CHOICE:
        return [", ".join(_answer_label(question, v) for v in answer)]
    if kind == T.DATE:
        return [_date_text(answer)]
    if kind == T.NUMBER:
        unit = question.get("unit") or ""
        return [f"{answer} {unit}".strip()]
    if kind == T.CONSENT:
        if not isinstance(answer, dict):
            return []
        return [
            gettext("I agree. Signed “%(signature)s” on %(date)s.")
            % {
                "signature": answer.get("signature", ""),
                "date": _date_text(answer.get("signed_on")),
            }
        ]
    if kind in defs.LIST_TYPES and isinstance(answer, dict):
        detail = detail_field(kind)
        lines = []
        if answer.get("none"):
            lines.append(gettext("I have no allergies."))
        for item_id, still in (answer.get("current") or {}).items():
            item = items_by_id.get(item_id)
            name = item.display if item is not None else gettext("An entry no longer on your list")
            if still == "yes":
                lines.append(gettext("%(name)s: still correct") % {"name": name})
            else:
                lines.append(gettext("%(name)s: no longer correct") % {"name": name})
        for entry in answer.get("added") or []:
            if entry.get(detail):
                lines.append(
                    gettext("New: %(name)s (%(detail)s)")
                    % {"name": entry["name"], "detail": entry[detail]}
                )
            else:
                lines.append(gettext("New: %(name)s") % {"name": entry["name"]})
        return lines
    return [str(answer)]


def review_sections(form, items: dict | None = None) -> list[ReviewSection]:
    """Every section with the questions that show under the answers, each answer read-only
    and whether a required one is still missing."""
    definition, answers = form.definition, form.answers
    items_by_id = {
        str(item.public_id): item for kind_items in (items or {}).values() for item in kind_items
    }
    missing = {q["key"] for q in defs.missing_required(definition, answers)}
    result = []
    for number, section in enumerate(defs.sections(definition), start=1):
        lines = [
            ReviewLine(
                question=q,
                lines=answer_lines(q, answers.get(q["key"]), items_by_id),
                missing=q["key"] in missing,
                section=number,
            )
            for q in section.get("questions") or []
            if defs.is_shown(q, answers)
        ]
        result.append(ReviewSection(number=number, title=section.get("title", ""), lines=lines))
    return result


def missing_lines(sections: list[ReviewSection]) -> list[ReviewLine]:
    return [line for s in sections for line in s.lines if line.missing]


def needs_items(definition: dict, section: dict | None = None) -> bool:
    """Whether the page shows a list question (and so reads the chart's current lists)."""
    questions = section.get("questions") or [] if section else defs.questions(definition)
    return any(q["type"] in defs.LIST_TYPES for q in questions)
