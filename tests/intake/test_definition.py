"""The rules of a template's definition and of the answers to it (intake.definition)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.intake import definition as defs
from portico.intake.ready import READY_TEMPLATES

SIGNED_ON = dt.date(2026, 12, 7)


def q(key, kind, text="Question", **more):
    return {"key": key, "type": kind, "text": text, **more}


def template(*questions):
    return {"sections": [{"key": "s1", "title": "Section", "questions": list(questions)}]}


EVERY_TYPE = template(
    q("name", "short_text", required=True, chart_field="preferred_name"),
    q("story", "long_text"),
    q("smoker", "yes_no", required=True),
    q(
        "packs",
        "number",
        unit="packs",
        min="0",
        max="10",
        decimals=1,
        show_if={"question": "smoker", "equals": "yes"},
        required=True,
    ),
    q("color", "single_choice", choices=[{"value": "red", "label": "Red"}, "Blue"]),
    q("foods", "multiple_choice", choices=["Eggs", "Milk", "Nuts"]),
    q("milk_since", "date", show_if={"question": "foods", "equals": "Milk"}),
    q("agree", "consent", consent_text="I agree to be treated.", required=True),
    q("allergies", "allergies"),
    q("medications", "medications"),
)


def clean(answers, definition=EVERY_TYPE, current=None):
    tidy = defs.validate_definition(definition)
    return defs.clean_answers(tidy, answers, signed_on=SIGNED_ON, current_items=current)


@pytest.mark.parametrize("which", sorted(READY_TEMPLATES))
def test_the_ready_templates_follow_the_rules(which):
    name, definition = READY_TEMPLATES[which]
    tidy = defs.validate_definition(definition)
    assert defs.validate_definition(tidy) == tidy
    assert [q["key"] for q in defs.questions(tidy)] == [
        q["key"] for q in defs.questions(definition)
    ]


def test_a_definition_with_every_question_type_is_accepted_and_tidied():
    tidy = defs.validate_definition(EVERY_TYPE)
    color = defs.question_map(tidy)["color"]
    assert color["choices"] == [
        {"value": "red", "label": "Red"},
        {"value": "Blue", "label": "Blue"},
    ]
    assert defs.question_map(tidy)["packs"]["max"] == "10"


@pytest.mark.parametrize(
    "bad, message",
    [
        (template(q("a", "short_text", text="")), "needs its text"),
        (template(q("a", "single_choice", choices=["Only one"])), "at least two choices"),
        (template(q("a", "number", min="5", max="1")), "lowest value is above the highest"),
        (template(q("a", "number", min="five")), "needs numbers"),
        (template(q("a", "number", decimals=7)), "0 to 4 decimal places"),
        (template(q("a", "consent")), "text the patient agrees to"),
        (template(q("a", "long_text", chart_field="city")), "chart field does not fit"),
        (template(q("a", "short_text"), q("a", "long_text")), "key already used"),
        (template(q("A b", "short_text")), "key of lower-case letters"),
        (template(q("a", "essay")), "one of the question types"),
        (
            template(
                q("a", "short_text", show_if={"question": "b", "equals": "yes"}), q("b", "yes_no")
            ),
            "earlier yes/no or choice question",
        ),
        (
            template(
                q("a", "short_text"), q("b", "short_text", show_if={"question": "a", "equals": "x"})
            ),
            "earlier yes/no or choice question",
        ),
        (
            template(
                q("a", "yes_no"),
                q("b", "yes_no", show_if={"question": "a", "equals": "yes"}),
                q("c", "short_text", show_if={"question": "b", "equals": "yes"}),
            ),
            "earlier yes/no or choice question",
        ),
        (
            template(
                q("a", "yes_no"), q("b", "short_text", show_if={"question": "a", "equals": "maybe"})
            ),
            "does not offer",
        ),
        ({"sections": "none"}, "list of sections"),
        ({"sections": [{"key": "s1", "title": ""}]}, "needs a title"),
    ],
)
def test_a_definition_breaking_a_rule_is_refused_with_the_reason(bad, message):
    with pytest.raises(defs.DefinitionError) as refused:
        defs.validate_definition(bad)
    assert any(message in m for m in refused.value.messages), refused.value.messages


def test_answers_are_stored_in_their_stored_form():
    answers = clean(
        {
            "name": "  Pat ",
            "smoker": "yes",
            "packs": "1.5",
            "color": "red",
            "foods": ["Nuts", "Eggs"],
            "milk_since": "2020-01-31",
            "agree": {"agreed": "on", "signature": "Pat Doe"},
        }
    )
    assert answers == {
        "name": "Pat",
        "smoker": "yes",
        "packs": "1.5",
        "color": "red",
        "foods": ["Eggs", "Nuts"],  # the template's order
        "milk_since": "2020-01-31",
        "agree": {"agreed": True, "signature": "Pat Doe", "signed_on": "2026-12-07"},
    }


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("packs", "eleven", "Enter a number."),
        ("packs", "11", "Enter a number from 0 to 10. (packs)"),
        ("packs", "-1", "Enter a number from 0 to 10. (packs)"),
        ("packs", "1.25", "at most 1 decimal places"),
        ("smoker", "maybe", "Answer yes or no."),
        ("color", "green", "Choose one of the listed answers."),
        ("foods", ["Eggs", "Fish"], "Choose from the listed answers."),
        ("milk_since", "31/01/2020", "Enter a date such as"),
        ("milk_since", "1850-01-01", "between 1900 and 2100"),
        ("name", "x" * 201, "at most 200 characters"),
        ("name", "bad\x00value", "control characters"),
        ("agree", {"agreed": "on", "signature": ""}, "type your full name"),
        ("agree", {"agreed": "", "signature": "Pat"}, "Tick the box"),
        ("unknown", "x", "not part of the form"),
    ],
)
def test_a_wrong_answer_is_refused_with_a_clear_message(key, value, message):
    with pytest.raises(defs.AnswerErrors) as refused:
        clean({key: value})
    assert message in refused.value.errors[key][0]


def test_an_empty_answer_clears_it():
    assert clean({"name": " ", "foods": [], "agree": {}}) == {
        "name": None,
        "foods": None,
        "agree": None,
    }


def test_allergies_confirm_only_the_charts_entries_and_add_new_ones():
    current = {"allergies": {"a1"}, "medications": {"m1"}}
    answers = clean(
        {
            "allergies": {
                "current": {"a1": "no"},
                "added": [{"name": "Latex", "reaction": "Rash"}, {"name": "", "reaction": ""}],
            },
            "medications": {"current": {"m1": "yes"}, "added": []},
        },
        current=current,
    )
    assert answers["allergies"] == {
        "current": {"a1": "no"},
        "added": [{"name": "Latex", "reaction": "Rash"}],
        "none": False,
    }
    assert answers["medications"] == {"current": {"m1": "yes"}, "added": []}
    with pytest.raises(defs.AnswerErrors):
        clean({"allergies": {"current": {"someone-elses": "yes"}}}, current=current)
    with pytest.raises(defs.AnswerErrors) as refused:
        clean({"allergies": {"none": "on", "added": [{"name": "Latex"}]}}, current=current)
    assert "no allergies" in refused.value.errors["allergies"][0]
    with pytest.raises(defs.AnswerErrors) as refused:
        clean({"medications": {"added": [{"name": "", "instructions": "twice a day"}]}})
    assert "name" in refused.value.errors["medications"][0]


def test_a_conditional_question_shows_and_is_required_only_when_its_answer_matches():
    tidy = defs.validate_definition(EVERY_TYPE)
    missing = {q["key"] for q in defs.missing_required(tidy, {"smoker": "no"})}
    assert missing == {"name", "agree"}
    missing = {q["key"] for q in defs.missing_required(tidy, {"smoker": "yes"})}
    assert missing == {"name", "agree", "packs"}
    # A multiple-choice condition holds when its value is ticked among others.
    shown = defs.shown_answers(
        tidy, {"foods": ["Eggs", "Milk"], "milk_since": "2020-01-01", "packs": "1"}
    )
    assert shown == {"foods": ["Eggs", "Milk"], "milk_since": "2020-01-01"}


@given(st.text(max_size=300))
def test_no_text_typed_into_a_number_question_escapes_the_rules(text):
    try:
        answers = clean({"packs": text})
    except defs.AnswerErrors as refused:
        assert refused.errors["packs"]
        return
    value = answers["packs"]
    if value is not None:
        from decimal import Decimal

        assert Decimal("0") <= Decimal(value) <= Decimal("10")
