"""Building a template's definition one edit at a time (EHR Settings > Intake).

The pages change a copy of the current definition (add, change, move or remove a section or a
question) and hand the result to `services.template_save`, which checks it with
`definition.validate_definition` and applies the versioning rule. Nothing here decides whether
a definition is right; it only makes the edits, makes keys, and words the foundation's
messages so an administrator can find the question they are about.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext

from portico.intake import definition as defs

KEY_LENGTH = 32  # leaves room for a "_2" suffix under definition.KEY_PATTERN's 40


def empty() -> dict:
    return {"sections": []}


def current_definition(template) -> dict:
    """A copy of the template's current definition, safe to change."""
    version = template.current_version
    found = version.definition if version is not None else None
    return copy.deepcopy(found) if found else empty()


def used_keys(template) -> set[str]:
    """Every section and question key any version of the template has used: a new question
    never takes the key of one removed before (answers and FHIR linkIds of older versions
    keep meaning what they meant)."""
    keys: set[str] = set()
    for definition in template.versions.values_list("definition", flat=True):
        for section in defs.sections(definition or {}):
            keys.add(str(section.get("key")))
            keys.update(str(q.get("key")) for q in section.get("questions") or [])
    return keys


def slug(text: str, *, fallback: str) -> str:
    """Lower-case ASCII letters, digits and underscores, starting with a letter."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")[:KEY_LENGTH].strip("_")
    if not base:
        return fallback
    if not base[0].isalpha():
        base = f"{fallback}_{base}"[:KEY_LENGTH].strip("_")
    return base


def new_key(text: str, taken: set[str], *, fallback: str) -> str:
    """A key made from `text`, unique among `taken` (which it joins)."""
    base = slug(text, fallback=fallback)
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    taken.add(key)
    return key


def choices_from_lines(text: str, old: list[dict] | None = None) -> list[dict]:
    """Choices from a textarea, one per line. A label the question had keeps its value (the
    value is what answers and conditions store), a new label gets a value made from it."""
    by_label = {c.get("label"): c.get("value") for c in old or [] if isinstance(c, dict)}
    taken: set[str] = set()
    choices = []
    for line in (text or "").splitlines():
        label = line.strip()
        if not label:
            continue
        value = by_label.get(label)
        if not value or value in taken:
            value = new_key(label, taken, fallback="choice")
        else:
            taken.add(value)
        choices.append({"value": value, "label": label})
    return choices


def choices_as_lines(question: dict) -> str:
    return "\n".join(str(c.get("label", "")) for c in question.get("choices") or [])


# ---------------------------------------------------------------------------
# Finding


def section_at(definition: dict, key: str) -> tuple[int, dict] | None:
    for index, section in enumerate(definition.get("sections") or []):
        if section.get("key") == key:
            return index, section
    return None


def question_at(definition: dict, key: str) -> tuple[dict, int, dict] | None:
    """(its section, its place in the section, the question)."""
    for section in definition.get("sections") or []:
        for index, question in enumerate(section.get("questions") or []):
            if question.get("key") == key:
                return section, index, question
    return None


def number_of(definition: dict, key: str) -> int | None:
    """A question's number in the whole template (1, 2, ...), as the builder shows it and as
    the foundation's messages count."""
    for n, question in enumerate(defs.questions(definition), start=1):
        if question.get("key") == key:
            return n
    return None


def dependents(definition: dict, keys: set[str]) -> list[dict]:
    """The questions (outside `keys`) shown only depending on an answer to one of `keys`."""
    return [
        q
        for q in defs.questions(definition)
        if q.get("key") not in keys and (q.get("show_if") or {}).get("question") in keys
    ]


@dataclass
class ConditionChoice:
    value: str  # "question_key=answer_value", what the page posts
    question_number: int
    question_text: str
    answer_label: str


def condition_value(show_if: dict | None) -> str:
    if not show_if:
        return ""
    return f"{show_if.get('question')}={show_if.get('equals')}"


def parse_condition(value: str) -> dict | None:
    """The posted "key=answer" as a show_if (None: always shown). Whether it is allowed is
    validate_definition's decision."""
    key, sep, equals = (value or "").partition("=")
    if not sep or not key:
        return None
    return {"question": key, "equals": equals}


def _answer_labels(question: dict) -> list[tuple[str, str]]:
    if question.get("type") == defs.QuestionType.YES_NO:
        return [("yes", gettext("Yes")), ("no", gettext("No"))]
    return [(str(c.get("value")), str(c.get("label"))) for c in question.get("choices") or []]


def condition_choices(definition: dict, *, before: str | None, section_key: str) -> list:
    """What a question may depend on: each answer of every earlier yes/no or choice question
    that is always shown. `before`: the question edited (None: a new question, added at the
    end of section `section_key`)."""
    found = []
    n = 0
    for section in definition.get("sections") or []:
        for question in section.get("questions") or []:
            n += 1
            if question.get("key") == before:
                return found
            if question.get("type") in defs.CONDITION_TYPES and not question.get("show_if"):
                for value, label in _answer_labels(question):
                    found.append(
                        ConditionChoice(
                            f"{question['key']}={value}", n, str(question.get("text")), label
                        )
                    )
        if before is None and section.get("key") == section_key:
            return found
    return found


def condition_words(definition: dict, question: dict) -> ConditionChoice | None:
    """The question a condition points at and the answer it waits for, for saying it in
    words ("Shown only when 3. “Do you smoke?” is “Yes”")."""
    show_if = question.get("show_if")
    if not show_if:
        return None
    target = question_at(definition, show_if.get("question"))
    if target is None:
        return None
    target_question = target[2]
    labels = dict(_answer_labels(target_question))
    return ConditionChoice(
        condition_value(show_if),
        number_of(definition, target_question["key"]) or 0,
        str(target_question.get("text")),
        labels.get(show_if.get("equals"), str(show_if.get("equals"))),
    )


# ---------------------------------------------------------------------------
# Edits: each returns a changed copy


def section_put(
    definition: dict, key: str | None, *, title: str, description: str, taken: set[str]
) -> tuple[dict, str]:
    """Add a section at the end (key None) or change one. Returns (definition, its key)."""
    changed = copy.deepcopy(definition)
    changed.setdefault("sections", [])
    if key is None:
        key = new_key(title, taken, fallback="section")
        changed["sections"].append(
            {"key": key, "title": title, "description": description, "questions": []}
        )
    else:
        found = section_at(changed, key)
        if found is None:
            raise KeyError(key)
        found[1]["title"] = title
        found[1]["description"] = description
    return changed, key


def question_put(
    definition: dict, section_key: str, question: dict, *, new: bool
) -> tuple[dict, int]:
    """Add `question` at the end of a section (new) or replace the question of its key.
    Returns (definition, the question's number)."""
    changed = copy.deepcopy(definition)
    if new:
        found = section_at(changed, section_key)
        if found is None:
            raise KeyError(section_key)
        found[1].setdefault("questions", []).append(question)
    else:
        where = question_at(changed, question["key"])
        if where is None:
            raise KeyError(question["key"])
        section, index, _old = where
        section["questions"][index] = question
    return changed, number_of(changed, question["key"]) or 0


def moved(definition: dict, kind: str, key: str, step: int) -> dict | None:
    """A section or a question one place up (step -1) or down (+1), a question within its
    section. None when there is no such section or question."""
    changed = copy.deepcopy(definition)
    if kind == "section":
        found = section_at(changed, key)
        if found is None:
            return None
        items, index = changed["sections"], found[0]
    else:
        where = question_at(changed, key)
        if where is None:
            return None
        items, index = where[0]["questions"], where[1]
    other = index + step
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    return changed


def removed(definition: dict, kind: str, key: str) -> tuple[dict, set[str]] | None:
    """The definition without a section (and its questions) or a question, with the keys of
    the questions it takes away. None when there is no such section or question."""
    changed = copy.deepcopy(definition)
    if kind == "section":
        found = section_at(changed, key)
        if found is None:
            return None
        gone = changed["sections"].pop(found[0])
        return changed, {q.get("key") for q in gone.get("questions") or []}
    where = question_at(changed, key)
    if where is None:
        return None
    where[0]["questions"].pop(where[1])
    return changed, {key}


# ---------------------------------------------------------------------------
# The foundation's messages, placed

# validate_definition's messages about one question (msgid) and the builder field they are
# about. Matched whole (same msgids, same arguments), so a message that is not listed here is
# still shown, above the form.
QUESTION_MESSAGES = (
    ("Question %(n)s needs a key of lower-case letters, digits and underscores.", None),
    ("Question %(n)s uses a key already used.", None),
    ("Question %(n)s needs one of the question types.", "type"),
    ("Question %(n)s needs its text.", "text"),
    ("Question %(n)s needs at least two choices.", "choices"),
    ("Question %(n)s has more than %(limit)s choices.", "choices"),
    ("Question %(n)s needs numbers for its range.", "min"),
    ("Question %(n)s: the lowest value is above the highest.", "max"),
    ("Question %(n)s: use 0 to 4 decimal places.", "decimals"),
    ("Question %(n)s needs the text the patient agrees to.", "consent_text"),
    ("Question %(n)s: that chart field does not fit this question.", "chart_field"),
    (
        "Question %(n)s can only depend on an earlier yes/no or choice question "
        "that is always shown.",
        "condition",
    ),
    ("Question %(n)s depends on an answer its question does not offer.", "condition"),
)
SECTION_MESSAGES = (
    ("Section %(n)s needs a unique key.", None),
    ("Section %(n)s needs a title.", "title"),
)


@dataclass
class Placed:
    """Messages by field of the edited item, and the others (about the template as a whole or
    another question, named so it can be found)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def place_messages(
    messages: list[str],
    definition: dict,
    *,
    question_number: int | None = None,
    section_number: int | None = None,
) -> Placed:
    """Put validate_definition's messages next to the fields of the question or section being
    edited; a message about another question gets that question's text after it."""
    known: dict[str, tuple[str, int, str | None]] = {}
    for n in range(1, len(defs.questions(definition)) + 1):
        for msgid, field_name in QUESTION_MESSAGES:
            text = gettext(msgid) % {"n": n, "limit": defs.MAX_CHOICES}
            known[text] = ("question", n, field_name)
    for n, _section in enumerate(definition.get("sections") or [], start=1):
        for msgid, field_name in SECTION_MESSAGES:
            known[gettext(msgid) % {"n": n}] = ("section", n, field_name)
    all_questions = defs.questions(definition)
    all_sections = definition.get("sections") or []
    placed = Placed()
    for message in messages:
        kind, n, field_name = known.get(message, ("", 0, None))
        mine = (kind == "question" and n == question_number) or (
            kind == "section" and n == section_number
        )
        if mine and field_name:
            placed.fields.setdefault(field_name, []).append(message)
        elif kind == "question" and not mine:
            text = str(all_questions[n - 1].get("text") or "")
            placed.general.append(f"{message} (“{text}”)" if text else message)
        elif kind == "section" and not mine:
            title = str(all_sections[n - 1].get("title") or "")
            placed.general.append(f"{message} (“{title}”)" if title else message)
        else:
            placed.general.append(message)
    return placed
