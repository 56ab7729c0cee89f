"""Templates as FHIR R4 Questionnaires (SPEC §10.3): every export validates with fhir.resources,
exporting then importing gives the same definition, a Questionnaire written elsewhere imports
sensibly, and a bad one is refused with a clear message and nothing stored."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from fhir.resources.R4B.questionnaire import Questionnaire

from portico.audit.models import AuditEvent
from portico.intake import definition as defs
from portico.intake import services
from portico.intake.fhir import (
    definition_from_questionnaire,
    questionnaire_of,
    template_from_questionnaire,
)
from portico.intake.models import IntakeTemplate, IntakeTemplateVersion
from portico.intake.ready import READY_TEMPLATES

pytestmark = pytest.mark.django_db

# Every question type, help, a section description, conditions on yes/no, single and multiple
# choice, a chart field, numbers with and without decimals, and a section whose key is also a
# question's.
EVERY_TYPE = {
    "sections": [
        {
            "key": "basics",
            "title": "The basics",
            "description": "Tell us about you.",
            "questions": [
                {
                    "key": "city",
                    "type": "short_text",
                    "text": "City",
                    "required": True,
                    "chart_field": "city",
                    "help": "Where you live.",
                },
                {"key": "story", "type": "long_text", "text": "Anything else?"},
                {"key": "smoker", "type": "yes_no", "text": "Do you smoke?", "required": True},
                {
                    "key": "packs",
                    "type": "number",
                    "text": "Packs a day",
                    "unit": "packs",
                    "min": "0",
                    "max": "10",
                    "decimals": 1,
                    "show_if": {"question": "smoker", "equals": "yes"},
                },
                {
                    "key": "color",
                    "type": "single_choice",
                    "text": "Favourite colour",
                    "choices": [
                        {"value": "red", "label": "Red"},
                        {"value": "blue", "label": "Blue"},
                    ],
                },
                {
                    "key": "why_blue",
                    "type": "long_text",
                    "text": "Why blue?",
                    "show_if": {"question": "color", "equals": "blue"},
                },
                {
                    "key": "pets",
                    "type": "multiple_choice",
                    "text": "Pets at home",
                    "choices": [
                        {"value": "cat", "label": "Cat"},
                        {"value": "dog", "label": "Dog"},
                        {"value": "fish", "label": "Fish"},
                    ],
                },
                {
                    "key": "dog_name",
                    "type": "short_text",
                    "text": "Your dog's name",
                    "show_if": {"question": "pets", "equals": "dog"},
                },
                {"key": "last_visit", "type": "date", "text": "Last visit"},
                {
                    "key": "height",
                    "type": "number",
                    "text": "Height",
                    "unit": "in",
                    "min": "12",
                    "max": "100",
                },
                {"key": "score", "type": "number", "text": "A score", "decimals": 2, "min": "0.5"},
            ],
        },
        {
            "key": "consent",
            "title": "Lists and consent",
            "questions": [
                {"key": "allergies", "type": "allergies", "text": "Allergies", "required": True},
                {
                    "key": "medications",
                    "type": "medications",
                    "text": "Medications",
                    "help": "Include vitamins.",
                },
                {
                    "key": "consent",
                    "type": "consent",
                    "text": "Consent to treat",
                    "required": True,
                    "consent_text": "I agree to be treated.",
                },
            ],
        },
    ]
}


def make_template(admin, practice, definition, name="Every type") -> IntakeTemplate:
    return services.template_create(admin, practice=practice, name=name, definition=definition)


def link_ids(items) -> list[str]:
    found = []
    for item in items or []:
        found.append(item["linkId"])
        found += link_ids(item.get("item"))
    return found


def items_by_link(items) -> dict[str, dict]:
    found = {}
    for item in items or []:
        found[item["linkId"]] = item
        found.update(items_by_link(item.get("item")))
    return found


# --- Export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(READY_TEMPLATES))
def test_ready_template_exports_as_a_valid_questionnaire(admin, practice, which):
    template = services.ready_template_install(admin, practice=practice, which=which)
    data = questionnaire_of(template.current_version)
    Questionnaire.model_validate(data)
    assert data["resourceType"] == "Questionnaire"
    assert data["id"] == str(template.current_version.public_id)
    assert data["version"] == "1"
    assert data["title"] == template.name
    assert data["status"] == "active"
    assert data["url"].endswith(f"/api/v1/intake/templates/{template.public_id}")
    ids = link_ids(data["item"])
    assert len(ids) == len(set(ids)), "linkIds are unique"
    json.dumps(data)  # plain JSON data


def test_every_question_type_maps_to_its_fhir_item(admin, practice):
    template = make_template(admin, practice, EVERY_TYPE)
    data = questionnaire_of(template.current_version)
    Questionnaire.model_validate(data)
    items = items_by_link(data["item"])
    assert [g["linkId"] for g in data["item"]] == ["basics", "consent.section"]
    assert items["basics"]["type"] == "group"
    assert items["basics"]["text"] == "The basics"
    assert items["basics.description"] == {
        "linkId": "basics.description",
        "type": "display",
        "text": "Tell us about you.",
    }
    assert items["city"]["type"] == "string" and items["city"]["required"] is True
    assert items["city.help"]["type"] == "display"
    assert items["story"]["type"] == "text"
    assert items["smoker"]["type"] == "boolean"
    assert items["color"]["type"] == "choice" and "repeats" not in items["color"]
    assert items["color"]["answerOption"] == [
        {"valueCoding": {"code": "red", "display": "Red"}},
        {"valueCoding": {"code": "blue", "display": "Blue"}},
    ]
    assert items["pets"]["type"] == "choice" and items["pets"]["repeats"] is True
    assert items["last_visit"]["type"] == "date"
    assert items["height"]["type"] == "integer"
    assert items["packs"]["type"] == "decimal"
    extensions = {e["url"]: e for e in items["height"]["extension"]}
    assert extensions["http://hl7.org/fhir/StructureDefinition/questionnaire-unit"] == {
        "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
        "valueCoding": {"display": "in"},
    }
    assert extensions["http://hl7.org/fhir/StructureDefinition/minValue"]["valueInteger"] == 12
    assert extensions["http://hl7.org/fhir/StructureDefinition/maxValue"]["valueInteger"] == 100
    assert items["packs"]["enableWhen"] == [
        {"question": "smoker", "operator": "=", "answerBoolean": True}
    ]
    assert items["why_blue"]["enableWhen"] == [
        {"question": "color", "operator": "=", "answerCoding": {"code": "blue", "display": "Blue"}}
    ]
    assert items["consent"]["type"] == "group"
    assert items["consent.text"]["text"] == "I agree to be treated."
    assert items["consent.agree"]["type"] == "boolean"
    assert items["consent.signature"]["type"] == "string"
    assert items["consent.signed_on"]["readOnly"] is True
    assert items["allergies"]["type"] == "group"
    assert items["allergies.entry"]["repeats"] is True
    assert items["allergies.reaction"]["type"] == "string"
    assert items["medications.instructions"]["type"] == "string"


def test_a_retired_template_exports_as_retired(admin, practice):
    template = make_template(admin, practice, EVERY_TYPE)
    services.template_active_set(admin, template=template, active=False)
    template.refresh_from_db()
    assert questionnaire_of(template.current_version)["status"] == "retired"


# --- Round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(READY_TEMPLATES))
def test_exporting_then_importing_a_ready_template_gives_the_same_definition(
    admin, practice, which
):
    template = services.ready_template_install(admin, practice=practice, which=which)
    exported = json.loads(json.dumps(questionnaire_of(template.current_version)))
    imported = template_from_questionnaire(admin, practice=practice, resource=exported, name="Copy")
    assert imported.current_version.definition == template.current_version.definition


def test_exporting_then_importing_every_question_type_gives_the_same_definition(
    admin, practice, other_practice
):
    template = make_template(admin, practice, EVERY_TYPE)
    exported = json.dumps(questionnaire_of(template.current_version))
    definition, title = definition_from_questionnaire(exported)  # JSON text works too
    assert definition == template.current_version.definition
    assert title == "Every type"


def test_import_takes_the_questionnaires_title_as_the_name(admin, practice):
    template = make_template(admin, practice, EVERY_TYPE)
    exported = questionnaire_of(template.current_version)
    template.name = "Renamed"
    template.save()
    imported = template_from_questionnaire(admin, practice=practice, resource=exported)
    assert imported.name == "Every type"
    assert imported.current_version.number == 1


# --- A Questionnaire written elsewhere ------------------------------------------------------

PHQ2 = {
    "resourceType": "Questionnaire",
    "id": "phq-2",
    "url": "http://example.org/Questionnaire/phq-2",
    "title": "PHQ-2 depression screening",
    "status": "active",
    "item": [
        {
            "linkId": "intro",
            "type": "display",
            "text": "Over the last 2 weeks, how often have you been bothered by:",
        },
        {
            "linkId": "/44250-9",
            "code": [{"system": "http://loinc.org", "code": "44250-9"}],
            "text": "Little interest or pleasure in doing things",
            "type": "choice",
            "required": True,
            "answerOption": [
                {
                    "valueCoding": {
                        "system": "http://loinc.org",
                        "code": "LA6568-5",
                        "display": "Not at all",
                    }
                },  # fmt: skip
                {
                    "valueCoding": {
                        "system": "http://loinc.org",
                        "code": "LA6569-3",
                        "display": "Several days",
                    }
                },  # fmt: skip
                {
                    "valueCoding": {
                        "system": "http://loinc.org",
                        "code": "LA6570-1",
                        "display": "More than half the days",
                    }
                },  # fmt: skip
                {
                    "valueCoding": {
                        "system": "http://loinc.org",
                        "code": "LA6571-9",
                        "display": "Nearly every day",
                    }
                },  # fmt: skip
            ],
        },
        {
            "linkId": "/44255-8",
            "text": "Feeling down, depressed, or hopeless",
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": {"code": "LA6568-5", "display": "Not at all"}},
                {"valueCoding": {"code": "LA6571-9", "display": "Nearly every day"}},
            ],
        },
        {
            "linkId": "followup",
            "text": "Follow-up",
            "type": "group",
            "item": [
                {"linkId": "talk", "text": "Would you like to talk to someone?", "type": "boolean"},
                {
                    "linkId": "when",
                    "text": "When is a good time to call?",
                    "type": "string",
                    "enableWhen": [{"question": "talk", "operator": "=", "answerBoolean": True}],
                    "item": [
                        {"linkId": "when-help", "type": "display", "text": "Morning or afternoon."}
                    ],
                },
                {
                    "linkId": "symptoms",
                    "text": "Which of these apply?",
                    "type": "choice",
                    "repeats": True,
                    "answerOption": [{"valueString": "Poor sleep"}, {"valueString": "Tiredness"}],
                },
                {
                    "linkId": "sleep-hours",
                    "text": "Hours of sleep a night",
                    "type": "decimal",
                    "enableWhen": [
                        {"question": "symptoms", "operator": "=", "answerString": "Poor sleep"}
                    ],
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/maxValue",
                            "valueDecimal": 24,
                        }
                    ],
                },
                {"linkId": "since", "text": "Since when?", "type": "date"},
                {"linkId": "notes", "text": "Notes", "type": "text"},
                {"linkId": "visits", "text": "Visits this year", "type": "integer"},
            ],
        },
    ],
}


def test_a_foreign_questionnaire_imports_sensibly(admin, practice):
    template = template_from_questionnaire(admin, practice=practice, resource=PHQ2)
    assert template.name == "PHQ-2 depression screening"
    definition = template.current_version.definition
    first, second = defs.sections(definition)
    assert first["title"] == "PHQ-2 depression screening"
    assert first["description"] == "Over the last 2 weeks, how often have you been bothered by:"
    interest, down = first["questions"]
    assert interest["type"] == "single_choice" and interest["required"] is True
    assert interest["choices"][0] == {"value": "LA6568-5", "label": "Not at all"}
    assert defs.KEY_PATTERN.match(interest["key"]) and defs.KEY_PATTERN.match(down["key"])
    assert second["title"] == "Follow-up"
    by_key = {q["key"]: q for q in second["questions"]}
    assert by_key["talk"]["type"] == "yes_no"
    assert by_key["when"]["show_if"] == {"question": "talk", "equals": "yes"}
    assert by_key["when"]["help"] == "Morning or afternoon."
    assert by_key["symptoms"]["type"] == "multiple_choice"
    assert by_key["symptoms"]["choices"] == [
        {"value": "poor_sleep", "label": "Poor sleep"},
        {"value": "tiredness", "label": "Tiredness"},
    ]
    assert by_key["sleep_hours"]["type"] == "number"
    assert by_key["sleep_hours"]["max"] == "24"
    assert by_key["sleep_hours"]["decimals"] == 2
    assert by_key["sleep_hours"]["show_if"] == {"question": "symptoms", "equals": "poor_sleep"}
    assert by_key["since"]["type"] == "date"
    assert by_key["notes"]["type"] == "long_text"
    assert by_key["visits"]["type"] == "number" and by_key["visits"]["decimals"] == 0
    # The imported template exports as a valid Questionnaire of its own.
    Questionnaire.model_validate(questionnaire_of(template.current_version))


def test_nested_groups_become_the_sections_that_follow(admin, practice):
    resource = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "title": "Nested",
        "item": [
            {
                "linkId": "outer",
                "type": "group",
                "text": "Outer",
                "item": [
                    {"linkId": "a", "type": "string", "text": "A"},
                    {
                        "linkId": "inner",
                        "type": "group",
                        "text": "Inner",
                        "item": [
                            {"linkId": "b", "type": "string", "text": "B"},
                            {
                                "linkId": "deeper",
                                "type": "group",
                                "text": "Deeper",
                                "item": [{"linkId": "c", "type": "string", "text": "C"}],
                            },
                        ],
                    },
                    {"linkId": "d", "type": "string", "text": "D"},
                ],
            }
        ],
    }
    definition, _title = definition_from_questionnaire(resource)
    assert [
        (s["title"], [q["key"] for q in s["questions"]]) for s in defs.sections(definition)
    ] == [("Outer", ["a"]), ("Inner", ["b"]), ("Deeper", ["c"]), ("Outer", ["d"])]


def test_a_groups_condition_goes_to_each_of_its_questions(admin, practice):
    resource = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [
            {"linkId": "smoke", "type": "boolean", "text": "Do you smoke?"},
            {
                "linkId": "smoking",
                "type": "group",
                "text": "Smoking",
                "enableWhen": [{"question": "smoke", "operator": "=", "answerBoolean": True}],
                "item": [
                    {"linkId": "since", "type": "date", "text": "Since when?"},
                    {"linkId": "packs", "type": "integer", "text": "Packs a day"},
                ],
            },
        ],
    }
    definition, _title = definition_from_questionnaire(resource)
    assert [q.get("show_if") for q in defs.questions(definition)] == [
        None,
        {"question": "smoke", "equals": "yes"},
        {"question": "smoke", "equals": "yes"},
    ]


# --- Bad imports ----------------------------------------------------------------------------


def _state():
    return (
        IntakeTemplate.objects.count(),
        IntakeTemplateVersion.objects.count(),
        AuditEvent.objects.count(),
    )


def question(**item) -> dict:
    return {
        "resourceType": "Questionnaire",
        "status": "active",
        "title": "Bad",
        "item": [{"linkId": "q", "text": "Question", **item}],
    }


@pytest.mark.parametrize(
    "resource, message",
    [
        ("{not json", "not valid JSON"),
        ([], "a JSON object"),
        ("[1, 2]", "a JSON object"),
        ({"resourceType": "Patient", "id": "x"}, "not a FHIR Questionnaire"),
        ({"status": "active"}, "not a FHIR Questionnaire"),
        (
            {"resourceType": "Questionnaire", "status": "active", "item": "nope"},
            "not a valid FHIR R4 Questionnaire",
        ),
        (
            {"resourceType": "Questionnaire", "status": "active", "item": [{"type": "string"}]},
            "not a valid FHIR R4 Questionnaire",
        ),
        (
            {"resourceType": "Questionnaire", "status": "active", "surprise": 1},
            "not a valid FHIR R4 Questionnaire",
        ),
        (question(type="attachment"), 'type "attachment" cannot be imported'),
        (question(type="reference"), 'type "reference" cannot be imported'),
        (question(type="time"), 'type "time" cannot be imported'),
        (
            question(type="choice", answerValueSet="http://example.org/vs"),
            "answer value sets cannot be imported",
        ),
        ({"resourceType": "Questionnaire", "status": "active"}, "no questions to import"),
    ],
)
def test_a_bad_questionnaire_is_refused_clearly_and_stores_nothing(
    admin, practice, resource, message
):
    before = _state()
    with pytest.raises(ValidationError) as caught:
        template_from_questionnaire(admin, practice=practice, resource=resource)
    messages = caught.value.message_dict["questionnaire"]
    assert any(message in m for m in messages), messages
    assert _state() == before


def test_unsupported_conditions_are_refused(admin, practice):
    resource = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [
            {"linkId": "a", "type": "boolean", "text": "A?"},
            {"linkId": "b", "type": "boolean", "text": "B?"},
            {
                "linkId": "c",
                "type": "string",
                "text": "C",
                "enableWhen": [
                    {"question": "a", "operator": "=", "answerBoolean": True},
                    {"question": "b", "operator": "=", "answerBoolean": True},
                ],
            },
            {
                "linkId": "d",
                "type": "string",
                "text": "D",
                "enableWhen": [{"question": "a", "operator": "!=", "answerBoolean": True}],
            },
            {
                "linkId": "e",
                "type": "string",
                "text": "E",
                "enableWhen": [{"question": "later", "operator": "=", "answerBoolean": True}],
            },
            {"linkId": "later", "type": "boolean", "text": "Later?"},
        ],
    }
    with pytest.raises(ValidationError) as caught:
        definition_from_questionnaire(resource)
    messages = caught.value.message_dict["questionnaire"]
    assert 'Item "c": only a single enableWhen condition can be imported.' in messages
    assert any(m.startswith('Item "d": a condition must be "="') for m in messages)
    assert any(m.startswith('Item "e": a condition must be "="') for m in messages)


def test_a_definition_the_rules_refuse_is_refused_with_their_messages(admin, practice):
    resource = question(type="choice", answerOption=[{"valueString": "Only one"}])
    with pytest.raises(ValidationError) as caught:
        definition_from_questionnaire(resource)
    assert caught.value.message_dict["questionnaire"] == ["Question 1 needs at least two choices."]


def test_a_name_the_practice_already_uses_is_refused(admin, practice):
    template = make_template(admin, practice, EVERY_TYPE)
    before = _state()
    with pytest.raises(ValidationError) as caught:
        template_from_questionnaire(
            admin, practice=practice, resource=questionnaire_of(template.current_version)
        )
    assert "name" in caught.value.message_dict
    assert _state() == before


def test_only_administrators_may_import(staff, practice):
    before = _state()
    with pytest.raises(PermissionDenied):
        template_from_questionnaire(staff, practice=practice, resource=copy.deepcopy(PHQ2))
    assert _state() == before
