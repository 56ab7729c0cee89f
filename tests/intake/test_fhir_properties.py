"""The FHIR mapping for any template (hypothesis): every definition the rules accept exports
as a valid Questionnaire that imports back to the same definition; and any JSON thrown at the
import is either a template or a clear refusal, never an error of another kind."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.intake import definition as defs
from portico.intake.fhir import definition_from_questionnaire, questionnaire_of
from portico.intake.models import IntakeTemplate, IntakeTemplateVersion
from portico.practices.models import Practice

FAST = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=40
).filter(str.strip)
keys = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
numbers = st.one_of(
    st.none(),
    st.integers(-1000, 1000).map(str),
    st.floats(-1000, 1000, allow_nan=False)
    .map(lambda f: str(round(f, 2)))
    .filter(lambda s: "e" not in s.lower()),
)


@st.composite
def question(draw, key: str, earlier: list[dict]) -> dict:
    kind = draw(st.sampled_from(defs.QuestionType.values))
    q: dict = {"key": key, "type": kind, "text": draw(text), "required": draw(st.booleans())}
    if draw(st.booleans()):
        q["help"] = draw(text)
    if kind in defs.CHOICE_TYPES:
        labels = draw(st.lists(text, min_size=2, max_size=5, unique_by=str.strip))
        q["choices"] = [
            {"value": f"v{i}_{draw(keys)}", "label": lab} for i, lab in enumerate(labels)
        ]
    if kind == defs.QuestionType.NUMBER:
        low, high = draw(numbers), draw(numbers)
        if low is not None and high is not None and float(low) > float(high):
            low, high = high, low
        q.update(unit=draw(st.one_of(st.just(""), text)), min=low, max=high,
                 decimals=draw(st.integers(0, 4)))  # fmt: skip
    if kind == defs.QuestionType.CONSENT:
        q["consent_text"] = draw(text)
    if kind == defs.QuestionType.SHORT_TEXT and draw(st.booleans()):
        q["chart_field"] = draw(st.sampled_from(sorted(defs.CHART_FIELDS)))
    targets = [e for e in earlier if e["type"] in defs.CONDITION_TYPES and not e.get("show_if")]
    if targets and draw(st.booleans()):
        target = draw(st.sampled_from(targets))
        answers = (
            ["yes", "no"]
            if target["type"] == defs.QuestionType.YES_NO
            else [c["value"] for c in target["choices"]]
        )
        q["show_if"] = {"question": target["key"], "equals": draw(st.sampled_from(answers))}
    return q


@st.composite
def definitions(draw) -> dict:
    section_keys = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
    question_keys = iter(draw(st.lists(keys, min_size=6, max_size=12, unique=True)))
    earlier: list[dict] = []
    sections = []
    for s_key in section_keys:
        qs = []
        for _ in range(draw(st.integers(0, 4))):
            key = next(question_keys, None)
            if key is None:
                break
            q = draw(question(key, earlier))
            qs.append(q)
            earlier.append(q)
        description = draw(st.one_of(st.just(""), text))
        sections.append(
            {"key": s_key, "title": draw(text), "description": description, "questions": qs}
        )
    return {"sections": sections}


def version_of(definition: dict) -> IntakeTemplateVersion:
    """An unsaved version (the export reads only its fields)."""
    template = IntakeTemplate(practice=Practice(name="Riverside Clinic"), name="Any")
    return IntakeTemplateVersion(
        template=template,
        number=3,
        name="Any",
        definition=definition,
        created_at=dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
    )


@FAST
@given(definitions())
def test_any_definition_exports_validly_and_imports_back_the_same(definition):
    tidy = defs.validate_definition(definition)
    exported = questionnaire_of(version_of(tidy))
    Questionnaire.model_validate(exported)
    linked = []

    def walk(items):
        for item in items or []:
            linked.append(item["linkId"])
            walk(item.get("item"))

    walk(exported.get("item"))
    assert len(linked) == len(set(linked))
    if not defs.questions(tidy):
        return
    imported, _title = definition_from_questionnaire(json.loads(json.dumps(exported)))
    # Sections without questions or description carry nothing an import could keep.
    kept = [s for s in tidy["sections"] if s["questions"] or s["description"]]
    assert imported == {"sections": kept}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
item_types = st.sampled_from(
    ["group", "display", "string", "text", "boolean", "choice", "open-choice", "date",
     "dateTime", "time", "integer", "decimal", "quantity", "url", "attachment", "reference", "x"]
)  # fmt: skip


@st.composite
def items(draw, depth: int = 0) -> dict:
    item: dict = {"linkId": draw(st.sampled_from(["a", "b", "c", "1.1", "/x", "g"])),
                  "type": draw(item_types)}  # fmt: skip
    if draw(st.booleans()):
        item["text"] = draw(text)
    if draw(st.booleans()):
        item["answerOption"] = draw(
            st.lists(
                st.one_of(
                    st.builds(lambda c: {"valueCoding": {"code": c}}, keys),
                    st.builds(lambda s: {"valueString": s}, text),
                    st.builds(lambda n: {"valueInteger": n}, st.integers(0, 9)),
                ),
                max_size=4,
            )
        )
    if draw(st.booleans()):
        item["enableWhen"] = [
            {
                "question": draw(st.sampled_from(["a", "b", "c", "zz"])),
                "operator": draw(st.sampled_from(["=", "!=", "exists"])),
                **draw(
                    st.sampled_from(
                        [
                            {"answerBoolean": True},
                            {"answerCoding": {"code": "a"}},
                            {"answerString": "x"},
                            {"answerInteger": 1},
                        ]
                    )
                ),
            }  # fmt: skip
        ]
    if depth < 3 and draw(st.booleans()):
        item["item"] = draw(st.lists(items(depth + 1), max_size=3))
    return item


@FAST
@given(
    st.one_of(
        json_values,
        st.builds(
            lambda its, extra: {
                "resourceType": "Questionnaire",
                "status": "active",
                "item": its,
                **extra,
            },
            st.lists(items(), max_size=5),
            st.dictionaries(
                st.sampled_from(["title", "name", "surprise"]), json_values, max_size=1
            ),
        ),  # fmt: skip
    )
)
def test_any_json_imports_or_is_refused_with_a_message(resource):
    try:
        definition, _title = definition_from_questionnaire(resource)
    except ValidationError as exc:
        messages = exc.message_dict["questionnaire"]
        assert messages and all(isinstance(m, str) and m for m in messages)
    else:
        assert defs.validate_definition(definition) == definition
