"""EHR Settings > Intake (SPEC §10.1): administrators list, add, install, build, preview and
retire intake templates through the pages; each edit is saved by services.template_save (its
validation and versioning rule), a refused edit shows its message and stores nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils.html import escape

from portico.intake import services
from portico.intake.definition import QuestionType, questions
from portico.intake.models import IntakeTemplate, IntakeTemplateVersion
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


def template_url(template, name="intake:settings_template", **query):
    url = reverse(name, args=[template.public_id])
    return f"{url}?{urlencode(query)}" if query else url


def section_url(template, key=None):
    return template_url(template, "intake:settings_section", **({"key": key} if key else {}))


def question_url(template, key):
    return template_url(template, "intake:settings_question", key=key)


def new_question_url(template, section_key, **query):
    return template_url(template, "intake:settings_question", section=section_key, **query)


def definition_of(template) -> dict:
    template.refresh_from_db()
    return template.current_version.definition


def question_of(template, key) -> dict:
    return next(q for q in questions(definition_of(template)) if q["key"] == key)


@pytest.fixture
def signed_in(client, admin):
    sign_in(client, admin)
    return client


@pytest.fixture
def empty_template(admin, practice):
    return services.template_create(admin, practice=practice, name="Sports physical")


@pytest.fixture
def with_section(admin, empty_template):
    """A template with one section ("health") and a yes/no question ("smoke")."""
    services.template_save(
        admin,
        template=empty_template,
        definition={
            "sections": [
                {
                    "key": "health",
                    "title": "Your health",
                    "questions": [
                        {"key": "smoke", "type": "yes_no", "text": "Do you smoke?"},
                    ],
                }
            ]
        },
    )
    return empty_template


def add_question(client, template, section_key="health", **fields):
    data = {"type": "short_text", "text": "", **fields}
    return client.post(new_question_url(template, section_key), data)


# --- Who may ---------------------------------------------------------------------------------


def test_staff_who_are_not_administrators_get_403_on_every_intake_settings_page(
    client, staff, with_section
):
    sign_in(client, staff)
    urls = [
        reverse("intake:settings"),
        template_url(with_section),
        template_url(with_section, "intake:settings_preview"),
        section_url(with_section),
        question_url(with_section, "smoke"),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    response = client.post(
        template_url(with_section, "intake:settings_change"),
        {"do": "question_remove", "key": "smoke"},
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("intake:settings"), {"form": "new", "new-name": "X"}).status_code == 403
    )
    assert IntakeTemplate.objects.count() == 1
    assert question_of(with_section, "smoke")


def test_another_practices_template_is_not_found(client, outsider, with_section):
    sign_in(client, outsider)
    for url in (
        template_url(with_section),
        template_url(with_section, "intake:settings_preview"),
        question_url(with_section, "smoke"),
        section_url(with_section, "health"),
    ):
        assert client.get(url).status_code == 404, url
    for name, data in (
        ("intake:settings_change", {"do": "question_remove", "key": "smoke"}),
        ("intake:settings_active", {"active": "off"}),
        ("intake:settings_template", {"name": "Taken over"}),
    ):
        assert client.post(template_url(with_section, name), data).status_code == 404
    with_section.refresh_from_db()
    assert with_section.name == "Sports physical" and with_section.is_active
    assert question_of(with_section, "smoke")


def test_an_unknown_section_or_question_is_not_found(signed_in, with_section):
    assert signed_in.get(question_url(with_section, "nope")).status_code == 404
    assert signed_in.get(section_url(with_section, "nope")).status_code == 404
    assert signed_in.get(new_question_url(with_section, "nope")).status_code == 404


def test_the_settings_navigation_has_intake(signed_in):
    response = signed_in.get(reverse("intake:settings"))
    assert response.status_code == 200
    assert f'href="{reverse("intake:settings")}" aria-current="page"' in response.content.decode()


# --- The list, adding and installing ---------------------------------------------------------


def test_an_administrator_adds_an_empty_template_and_opens_its_builder(signed_in, practice):
    response = signed_in.post(reverse("intake:settings"), {"form": "new", "new-name": " Teeth "})
    template = IntakeTemplate.objects.get(practice=practice)
    assert response.status_code == 302
    assert response["Location"] == template_url(template)
    assert template.name == "Teeth"
    assert template.current_version.number == 1
    assert template.current_version.definition == {"sections": []}
    page = signed_in.get(template_url(template)).content.decode()
    assert "Template: Teeth" in page and "Version 1" in page


def test_a_template_needs_a_name_of_its_own(signed_in, practice, empty_template):
    for name, message in (
        ("", "Give the template a name."),
        ("sports PHYSICAL", "The practice already has a template of that name."),
    ):
        response = signed_in.post(reverse("intake:settings"), {"form": "new", "new-name": name})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert IntakeTemplate.objects.filter(practice=practice).count() == 1


def test_installing_the_ready_templates_and_refusing_a_second_copy(signed_in, practice):
    for which in ("new_patient", "follow_up"):
        response = signed_in.post(
            reverse("intake:settings"), {"form": "install", "install-which": which}
        )
        assert response.status_code == 302
    names = set(IntakeTemplate.objects.filter(practice=practice).values_list("name", flat=True))
    assert names == {"New patient", "Follow-up visit"}

    response = signed_in.post(
        reverse("intake:settings"), {"form": "install", "install-which": "new_patient"}
    )
    assert response.status_code == 400
    assert "The practice already has a template of that name" in response.content.decode()
    assert IntakeTemplate.objects.filter(practice=practice).count() == 2

    response = signed_in.post(
        reverse("intake:settings"), {"form": "install", "install-which": "bogus"}
    )
    assert response.status_code == 400


def test_the_list_shows_version_question_count_state_and_forms_sent(now, signed_in, form):
    template = form.template
    count = len(questions(template.current_version.definition))
    page = signed_in.get(reverse("intake:settings")).content.decode()
    row = page.split(f'<th scope="row">{template.name}</th>')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0].strip() for c in row.split("<td>")[1:]]
    assert cells[:4] == ["1", str(count), "1", "In use"]


# --- Building: sections and each question type ----------------------------------------------


def test_adding_a_section_makes_a_key_from_its_title(signed_in, empty_template):
    response = signed_in.post(
        section_url(empty_template),
        {"title": "Your health", "description": "A few questions."},
    )
    assert response.status_code == 302
    assert definition_of(empty_template)["sections"] == [
        {
            "key": "your_health",
            "title": "Your health",
            "description": "A few questions.",
            "questions": [],
        }
    ]
    response = signed_in.post(
        section_url(empty_template, "your_health"),
        {"title": "Health today", "description": ""},
    )
    assert response.status_code == 302
    section = definition_of(empty_template)["sections"][0]
    assert (section["key"], section["title"]) == ("your_health", "Health today")


def test_a_section_needs_a_title(signed_in, empty_template):
    response = signed_in.post(section_url(empty_template), {"title": " "})
    assert response.status_code == 400
    assert "Section 1 needs a title." in response.content.decode()
    assert definition_of(empty_template) == {"sections": []}


QUESTION_CASES = [
    (
        {"type": "short_text", "text": "Preferred name", "chart_field": "preferred_name"},
        {"chart_field": "preferred_name"},
    ),
    ({"type": "long_text", "text": "Anything else?", "help": "Tell us."}, {"help": "Tell us."}),
    ({"type": "yes_no", "text": "Pregnant?", "required": "on"}, {"required": True}),
    (
        {"type": "single_choice", "text": "Blood type", "choices": "A\r\nB\r\n\r\nAB\r\nO"},
        {
            "choices": [
                {"value": "a", "label": "A"},
                {"value": "b", "label": "B"},
                {"value": "ab", "label": "AB"},
                {"value": "o", "label": "O"},
            ]
        },
    ),
    (
        {"type": "multiple_choice", "text": "Symptoms", "choices": "Cough\nFever"},
        {"choices": [{"value": "cough", "label": "Cough"}, {"value": "fever", "label": "Fever"}]},
    ),
    ({"type": "date", "text": "Last tetanus shot"}, {}),
    (
        {
            "type": "number",
            "text": "Weight",
            "unit": "lb",
            "min": "1",
            "max": "1000",
            "decimals": "1",
        },
        {"unit": "lb", "min": "1", "max": "1000", "decimals": 1},
    ),
    (
        {"type": "consent", "text": "Consent to treat", "consent_text": "I agree to be treated."},
        {"consent_text": "I agree to be treated."},
    ),
    ({"type": "allergies", "text": "Your allergies"}, {}),
    ({"type": "medications", "text": "Your medications"}, {}),
]


@pytest.mark.parametrize(("posted", "expected"), QUESTION_CASES, ids=lambda c: c.get("type", ""))
def test_adding_each_type_of_question_with_its_options(signed_in, with_section, posted, expected):
    response = add_question(signed_in, with_section, **posted)
    assert response.status_code == 302, response.content.decode()
    added = questions(definition_of(with_section))[-1]
    assert added["type"] == posted["type"]
    assert added["text"] == posted["text"]
    for name, value in expected.items():
        assert added[name] == value
    page = signed_in.get(template_url(with_section)).content.decode()
    assert posted["text"] in page and escape(str(QuestionType(posted["type"]).label)) in page


def test_every_question_type_is_offered(signed_in, with_section):
    page = signed_in.get(template_url(with_section)).content.decode()
    for value in QuestionType.values:
        assert f'<option value="{value}">' in page


def test_a_new_questions_page_shows_the_options_of_its_type(signed_in, with_section):
    def page(kind):
        return signed_in.get(new_question_url(with_section, "health", type=kind)).content.decode()

    number_page = page("number")
    assert 'name="min"' in number_page and 'name="choices"' not in number_page
    choice_page = page("single_choice")
    assert 'name="choices"' in choice_page and 'name="min"' not in choice_page
    consent_page = page("consent")
    assert 'name="consent_text"' in consent_page


def test_keys_are_made_from_the_text_unique_and_kept_when_the_text_changes(signed_in, with_section):
    add_question(signed_in, with_section, text="Do you smoke?")
    add_question(signed_in, with_section, text="¿Qué comes?")
    add_question(signed_in, with_section, text="2 or more?")
    keys = [q["key"] for q in questions(definition_of(with_section))]
    assert keys == ["smoke", "do_you_smoke", "que_comes", "question_2_or_more"]

    response = signed_in.post(
        question_url(with_section, "do_you_smoke"),
        {"type": "short_text", "text": "Did you ever smoke?"},
    )
    assert response.status_code == 302
    assert question_of(with_section, "do_you_smoke")["text"] == "Did you ever smoke?"


def test_a_key_a_sent_version_used_is_not_given_to_another_question(now, signed_in, form):
    template = form.template
    signed_in.post(
        template_url(template, "intake:settings_change"),
        {"do": "question_remove", "key": "emergency_contact"},
    )
    add_question(signed_in, template, "about_you", text="Emergency contact")
    keys = [q["key"] for q in questions(definition_of(template))]
    assert "emergency_contact" not in keys and "emergency_contact_2" in keys


def test_a_question_shown_only_when_an_earlier_answer_matches(signed_in, with_section):
    page = signed_in.get(new_question_url(with_section, "health")).content.decode()
    assert 'value="smoke=yes"' in page and "Only when 1. “Do you smoke?” is “Yes”" in page

    response = add_question(
        signed_in, with_section, type="number", text="Packs a day", condition="smoke=yes"
    )
    assert response.status_code == 302
    assert question_of(with_section, "packs_a_day")["show_if"] == {
        "question": "smoke",
        "equals": "yes",
    }
    page = signed_in.get(template_url(with_section)).content.decode()
    assert "Shown only when question 1 (“Do you smoke?”) is answered “Yes”." in page
    # The edit page keeps the condition chosen and offers no later question.
    edit = signed_in.get(question_url(with_section, "smoke")).content.decode()
    assert "smoke=yes" not in edit
    edit = signed_in.get(question_url(with_section, "packs_a_day")).content.decode()
    assert '<option value="smoke=yes" selected>' in edit


# --- Bad input: the message next to the field, nothing stored --------------------------------


BAD_QUESTIONS = [
    ({"type": "short_text", "text": "  "}, "text", "Question 2 needs its text."),
    (
        {"type": "single_choice", "text": "Pick", "choices": "Only one"},
        "choices",
        "Question 2 needs at least two choices.",
    ),
    (
        {"type": "number", "text": "Age", "min": "120", "max": "0"},
        "max",
        "Question 2: the lowest value is above the highest.",
    ),
    (
        {"type": "number", "text": "Age", "min": "lots"},
        "min",
        "Question 2 needs numbers for its range.",
    ),
    (
        {"type": "number", "text": "Age", "decimals": "7"},
        "decimals",
        "Question 2: use 0 to 4 decimal places.",
    ),
    (
        {"type": "consent", "text": "Consent"},
        "consent_text",
        "Question 2 needs the text the patient agrees to.",
    ),
    (
        {"type": "long_text", "text": "Story", "chart_field": "city"},
        "chart_field",
        "Question 2: that chart field does not fit this question.",
    ),
    (
        {"type": "short_text", "text": "Why?", "condition": "smoke=sometimes"},
        "condition",
        "Question 2 depends on an answer its question does not offer.",
    ),
]


@pytest.mark.parametrize(("posted", "field", "message"), BAD_QUESTIONS)
def test_a_wrong_question_shows_the_message_next_to_its_field_and_stores_nothing(
    signed_in, with_section, posted, field, message
):
    before = definition_of(with_section)
    response = add_question(signed_in, with_section, **posted)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<div id="id_{field}_error" role="alert"><ul class="errors"><li>{message}' in page
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assert definition_of(with_section) == before
    assert IntakeTemplateVersion.objects.filter(template=with_section).count() == 1


def test_a_condition_on_a_later_question_is_refused(signed_in, with_section):
    add_question(signed_in, with_section, type="yes_no", text="Drink alcohol?")
    before = definition_of(with_section)
    response = signed_in.post(
        question_url(with_section, "smoke"),
        {"type": "yes_no", "text": "Do you smoke?", "condition": "drink_alcohol=yes"},
    )
    assert response.status_code == 400
    assert (
        "Question 1 can only depend on an earlier yes/no or choice question that is always "
        "shown." in response.content.decode()
    )
    assert definition_of(with_section) == before


def test_a_change_that_breaks_another_questions_condition_names_that_question(
    signed_in, with_section
):
    add_question(signed_in, with_section, text="Since when?", condition="smoke=yes")
    before = definition_of(with_section)
    response = signed_in.post(
        question_url(with_section, "smoke"),
        {"type": "short_text", "text": "Do you smoke?"},
    )
    assert response.status_code == 400
    assert (
        "Question 2 can only depend on an earlier yes/no or choice question that is always "
        "shown. (“Since when?”)" in response.content.decode()
    )
    assert definition_of(with_section) == before


def test_removing_a_question_another_depends_on_is_refused_clearly(signed_in, with_section):
    add_question(signed_in, with_section, text="Since when?", condition="smoke=yes")
    before = definition_of(with_section)
    response = signed_in.post(
        template_url(with_section, "intake:settings_change"),
        {"do": "question_remove", "key": "smoke"},
    )
    assert response.status_code == 400
    assert (
        "“Do you smoke?” cannot be removed: 2. “Since when?” is shown only depending on its "
        "answer. Change or remove that condition first." in response.content.decode()
    )
    assert definition_of(with_section) == before
    # Nor with its whole section, while a question elsewhere depends on it.
    signed_in.post(section_url(with_section), {"title": "More"})
    signed_in.post(
        template_url(with_section, "intake:settings_change"),
        {"do": "question_remove", "key": "since_when"},
    )
    add_question(signed_in, with_section, "more", text="How many?", condition="smoke=yes")
    response = signed_in.post(
        template_url(with_section, "intake:settings_change"),
        {"do": "section_remove", "key": "health"},
    )
    assert response.status_code == 400
    assert "cannot be removed" in response.content.decode()
    assert question_of(with_section, "smoke")


# --- Moving and removing ---------------------------------------------------------------------


def test_moving_questions_and_sections_and_removing_them(signed_in, with_section):
    add_question(signed_in, with_section, text="Height")
    add_question(signed_in, with_section, text="Weight")
    change = template_url(with_section, "intake:settings_change")

    def keys():
        return [q["key"] for q in questions(definition_of(with_section))]

    assert signed_in.post(change, {"do": "question_up", "key": "weight"}).status_code == 302
    assert keys() == ["smoke", "weight", "height"]
    signed_in.post(change, {"do": "question_down", "key": "smoke"})
    assert keys() == ["weight", "smoke", "height"]
    # The first cannot go higher: nothing changes.
    signed_in.post(change, {"do": "question_up", "key": "weight"})
    assert keys() == ["weight", "smoke", "height"]

    signed_in.post(section_url(with_section), {"title": "Family"})
    add_question(signed_in, with_section, "family", text="Siblings")
    signed_in.post(change, {"do": "section_up", "key": "family"})
    assert keys() == ["siblings", "weight", "smoke", "height"]

    signed_in.post(change, {"do": "question_remove", "key": "height"})
    assert keys() == ["siblings", "weight", "smoke"]
    # A section with questions goes once the administrator confirms.
    response = signed_in.post(change, {"do": "section_remove", "key": "family"})
    assert response.status_code == 200
    assert "Remove the section “Family” and its question?" in response.content.decode()
    assert keys() == ["siblings", "weight", "smoke"]
    signed_in.post(change, {"do": "section_remove", "key": "family", "confirmed": "yes"})
    assert keys() == ["weight", "smoke"]
    assert [s["key"] for s in definition_of(with_section)["sections"]] == ["health"]

    response = signed_in.post(change, {"do": "question_remove", "key": "gone"})
    assert response.status_code == 400
    assert signed_in.get(change).status_code == 405


def test_moving_a_question_above_the_one_it_depends_on_is_refused(signed_in, with_section):
    add_question(signed_in, with_section, text="Since when?", condition="smoke=yes")
    before = definition_of(with_section)
    response = signed_in.post(
        template_url(with_section, "intake:settings_change"),
        {"do": "question_up", "key": "since_when"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was changed" in page and "(“Since when?”)" in page
    assert definition_of(with_section) == before


# --- Versions --------------------------------------------------------------------------------


def test_editing_a_template_never_sent_changes_its_version_in_place(signed_in, with_section):
    add_question(signed_in, with_section, text="Height")
    signed_in.post(template_url(with_section), {"name": "Sports check"})
    with_section.refresh_from_db()
    assert with_section.name == "Sports check"
    assert with_section.current_version.number == 1
    assert with_section.current_version.name == "Sports check"
    assert IntakeTemplateVersion.objects.filter(template=with_section).count() == 1
    assert "Forms have been sent" not in signed_in.get(template_url(with_section)).content.decode()


def test_editing_a_template_already_sent_makes_version_2_and_the_form_keeps_version_1(
    now, signed_in, form
):
    template = form.template
    first = template.current_version
    page = signed_in.get(template_url(template)).content.decode()
    assert "Forms have been sent with version 1. Your next change makes version 2" in page

    response = signed_in.post(
        section_url(template, "about_you"),
        {"title": "About you today", "description": ""},
        follow=True,
    )
    assert "Saved as version 2: new forms use it. Forms already sent keep version 1." in (
        response.content.decode()
    )
    template.refresh_from_db()
    assert template.current_version.number == 2
    assert template.current_version.definition["sections"][0]["title"] == "About you today"
    form.refresh_from_db()
    assert form.version == first
    first.refresh_from_db()
    assert first.definition["sections"][0]["title"] == "About you"
    # Version 2 is not sent yet: the next change stays in it.
    add_question(signed_in, template, "about_you", text="Nickname")
    template.refresh_from_db()
    assert template.current_version.number == 2
    assert IntakeTemplateVersion.objects.filter(template=template).count() == 2


def test_renaming_to_a_name_already_used_is_refused(signed_in, admin, practice, with_section):
    services.template_create(admin, practice=practice, name="Dental")
    response = signed_in.post(template_url(with_section), {"name": "dental"})
    assert response.status_code == 400
    assert "The practice already has a template of that name." in response.content.decode()
    with_section.refresh_from_db()
    assert with_section.name == "Sports physical"


# --- Preview and retiring --------------------------------------------------------------------


def test_the_preview_shows_the_questions_read_only_with_conditions_in_words(
    signed_in, new_patient_template
):
    response = signed_in.get(template_url(new_patient_template, "intake:settings_preview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "About you" in page and "Name you like to be called" in page
    assert "Shown only when question" in page and "“Do you have health insurance?”" in page
    assert "I agree to be examined and treated" in page
    preview = page.split('class="intake-preview"')[1].split("</main>")[0]
    assert "<form" not in preview and "<button" not in preview
    assert "disabled" in page


def test_retiring_and_bringing_back_a_template(signed_in, with_section):
    url = template_url(with_section, "intake:settings_active")
    response = signed_in.post(url, {"active": "off"}, follow=True)
    assert "is retired: it is no longer sent" in response.content.decode()
    with_section.refresh_from_db()
    assert not with_section.is_active
    assert "Retired" in signed_in.get(reverse("intake:settings")).content.decode()
    signed_in.post(url, {"active": "on"})
    with_section.refresh_from_db()
    assert with_section.is_active
    assert signed_in.post(url, {"active": "maybe"}).status_code == 400
    assert signed_in.get(url).status_code == 405


def test_show_this_types_options_keeps_what_was_typed_and_saves_nothing(signed_in, with_section):
    before = definition_of(with_section)
    response = signed_in.post(
        question_url(with_section, "smoke"),
        {"type": "single_choice", "text": "How much do you smoke?", "show_type": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="choices"' in page and 'value="How much do you smoke?"' in page
    assert '<option value="single_choice" selected>' in page
    assert definition_of(with_section) == before
