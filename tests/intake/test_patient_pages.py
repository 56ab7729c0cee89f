"""The patient's check-in pages in the portal (SPEC §10.2): the chart's forms, one section per
page with every question type checked on the server (a failed save stores nothing and shows
what was typed), conditions, save and come back, the review with what is still required,
submit and the read-only form after it; the chart's allergies and medications to confirm; a
representative fills in a child's form, a narrowed one may not, another chart's form is a 404;
every page is an audited read; the prompts on the portal home, the record navigation and the
appointments page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.intake import services
from portico.intake.models import FormStatus
from portico.portal.models import PortalAccess
from portico.scheduling.services import appointment_book
from tests import factories
from tests.intake.conftest import at

pytestmark = pytest.mark.django_db

CHOICES = [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]
PETS = [{"value": "cat", "label": "Cat"}, {"value": "dog", "label": "Dog"}]

# Every question type, a condition on the same page, both lists and a consent.
EVERY_TYPE = {
    "sections": [
        {
            "key": "basics",
            "title": "Basics",
            "questions": [
                {
                    "key": "nickname",
                    "type": "short_text",
                    "text": "Nickname",
                    "required": True,
                    "help": "What we call you",
                },
                {"key": "story", "type": "long_text", "text": "Anything else"},
                {"key": "smoker", "type": "yes_no", "text": "Do you smoke?", "required": True},
                {
                    "key": "packs",
                    "type": "number",
                    "text": "Packs a day",
                    "unit": "packs",
                    "min": "0",
                    "max": "10",
                    "decimals": 1,
                    "required": True,
                    "show_if": {"question": "smoker", "equals": "yes"},
                },
                {"key": "color", "type": "single_choice", "text": "Colour", "choices": CHOICES},
                {"key": "pets", "type": "multiple_choice", "text": "Pets", "choices": PETS},
                {"key": "seen_on", "type": "date", "text": "Last seen elsewhere"},
            ],
        },
        {
            "key": "lists",
            "title": "Allergies and medications",
            "questions": [
                {"key": "allergies", "type": "allergies", "text": "Your allergies"},
                {"key": "medications", "type": "medications", "text": "Your medications"},
            ],
        },
        {
            "key": "signing",
            "title": "Consent",
            "questions": [
                {
                    "key": "agree",
                    "type": "consent",
                    "text": "Consent to treat",
                    "required": True,
                    "consent_text": "I agree to be treated.",
                }
            ],
        },
    ]
}

GOOD_BASICS = {
    "q-nickname": "Robbie",
    "q-story": "Nothing much",
    "q-smoker": "yes",
    "q-packs": "1.5",
    "q-color": "blue",
    "q-pets": ["cat", "dog"],
    "q-seen_on": "2025-06-01",
}


def form_url(access, form, page: str = "fill", section: int | None = None) -> str:
    name = "intake:patient_form" if page == "fill" else f"intake:patient_form_{page}"
    url = reverse(name, args=[access.public_id, form.public_id])
    return f"{url}?section={section}" if section else url


def make_form(admin, staff, practice, appointment, definition=EVERY_TYPE, name="Every type"):
    template = services.template_create(admin, practice=practice, name=name, definition=definition)
    return services.form_send(staff, appointment=appointment, template=template)


@pytest.fixture
def account(staff, patient):
    """The patient, enrolled (so forms reach them in the portal, without a link)."""
    return factories.enroll(staff, patient)


@pytest.fixture
def access(account, patient):
    return PortalAccess.objects.get(patient=patient)


@pytest.fixture
def every(admin, staff, practice, appointment, account):
    return make_form(admin, staff, practice, appointment)


@pytest.fixture
def signed_in(now, client, account):
    """The patient signed in (at the fixed "now": a session started earlier would time out)."""
    factories.sign_in(client, account)
    return client


def save(client, access, form, section: int, data: dict, action: str = "continue"):
    return client.post(
        form_url(access, form), {"section": section, "action": action, **data}, follow=False
    )


def test_the_forms_page_lists_the_open_form_with_its_appointment_and_provider(
    signed_in, access, every
):
    response = signed_in.get(reverse("intake:patient_forms", args=[access.public_id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Check in for your appointment" in page
    assert "Every type" in page
    assert "Dr. Paula Provider" in page
    assert "Wednesday, December 9, 2026, 10:00 AM" in page
    assert form_url(access, every) in page
    assert AuditEvent.objects.filter(action="intake.form_view", patient=access.patient).exists()


def test_every_question_type_is_saved_in_its_stored_form(
    signed_in, access, every, chart_lists, now
):
    assert save(signed_in, access, every, 1, GOOD_BASICS).status_code == 302
    allergy = str(chart_lists["allergy"].public_id)
    medication = str(chart_lists["medication"].public_id)
    response = save(
        signed_in,
        access,
        every,
        2,
        {
            f"q-allergies-current-{allergy}": "yes",
            "q-allergies-rows": "3",
            "q-allergies-add-0-name": "Peanuts",
            "q-allergies-add-0-reaction": "Swelling",
            f"q-medications-current-{medication}": "no",
            "q-medications-rows": "3",
            "q-medications-add-1-name": "Ibuprofen",
            "q-medications-add-1-instructions": "As needed",
        },
    )
    assert response.status_code == 302
    response = save(
        signed_in,
        access,
        every,
        3,
        {"q-agree-agreed": "yes", "q-agree-signature": "Robin Tester"},
    )
    assert response["Location"] == form_url(access, every, "review")

    every.refresh_from_db()
    assert every.status == FormStatus.STARTED
    assert every.answers == {
        "nickname": "Robbie",
        "story": "Nothing much",
        "smoker": "yes",
        "packs": "1.5",
        "color": "blue",
        "pets": ["cat", "dog"],
        "seen_on": "2025-06-01",
        "allergies": {
            "current": {allergy: "yes"},
            "added": [{"name": "Peanuts", "reaction": "Swelling"}],
            "none": False,
        },
        "medications": {
            "current": {medication: "no"},
            "added": [{"name": "Ibuprofen", "instructions": "As needed"}],
        },
        "agree": {"agreed": True, "signature": "Robin Tester", "signed_on": "2026-12-07"},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("q-packs", "a few", "Enter a number."),
        ("q-packs", "11", "Enter a number from 0 to 10. (packs)"),
        ("q-packs", "1.25", "Use at most 1 decimal places."),
        ("q-seen_on", "2025-13-40", "Enter a date such as 2026-03-15."),
        ("q-color", "green", "Choose one of the listed answers."),
        ("q-pets", ["cat", "parrot"], "Choose from the listed answers."),
        ("q-smoker", "maybe", "Answer yes or no."),
        ("q-nickname", "x" * 201, "Use at most 200 characters."),
        ("q-story", "y" * 4001, "Use at most 4000 characters."),
    ],
)
def test_a_bad_answer_stores_nothing_and_shows_what_was_typed(
    signed_in, access, every, field, value, message
):
    response = save(signed_in, access, every, 1, {**GOOD_BASICS, field: value})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "error-summary" in page
    assert message in page
    typed = value if isinstance(value, str) else value[0]
    if field not in ("q-smoker", "q-color"):  # a radio button cannot show an answer not offered
        assert f'value="{typed}"' in page or f">{typed}</textarea>" in page  # as typed
    if field != "q-nickname":
        assert 'value="Robbie"' in page
    every.refresh_from_db()
    assert every.answers == {}
    assert every.status == FormStatus.SENT


def test_a_number_out_of_range_is_named_next_to_its_field_and_in_the_summary(
    signed_in, access, every
):
    response = save(signed_in, access, every, 1, {**GOOD_BASICS, "q-packs": "11"})

    page = response.content.decode()
    assert 'id="q-packs-error"' in page
    assert 'aria-invalid="true"' in page
    assert 'href="#q-packs"' in page
    assert "Enter a number from 0 to 10. (packs)" in page
    assert 'value="11"' in page


def test_a_consent_without_a_signature_is_refused(signed_in, access, every):
    response = save(signed_in, access, every, 3, {"q-agree-agreed": "yes", "q-agree-signature": ""})

    assert response.status_code == 400
    assert "Tick the box and type your full name to sign." in response.content.decode()
    every.refresh_from_db()
    assert "agree" not in every.answers


def test_the_consent_page_shows_the_text_and_the_date_to_be_recorded(signed_in, access, every, now):
    page = signed_in.get(form_url(access, every, section=3)).content.decode()

    assert "I agree to be treated." in page
    assert "I agree" in page
    assert "Type your full name to sign" in page
    assert "Date of signing: December 7, 2026" in page


def test_a_conditional_question_shows_its_condition_and_loses_its_answer_when_hidden(
    signed_in, access, every
):
    page = signed_in.get(form_url(access, every, section=1)).content.decode()
    assert "Answer only if you answered “Yes” to “Do you smoke?”." in page
    assert 'data-show-if="smoker"' in page

    save(signed_in, access, every, 1, {**GOOD_BASICS, "q-smoker": "no", "q-packs": "2"})
    every.refresh_from_db()
    assert every.answers["smoker"] == "no"
    assert "packs" not in every.answers  # hidden: its answer is not kept

    # Hidden, a bad answer to it does not stop the save either.
    response = save(signed_in, access, every, 1, {**GOOD_BASICS, "q-smoker": "no", "q-packs": "x"})
    assert response.status_code == 302


def test_a_required_conditional_question_is_required_only_when_shown(signed_in, access, every):
    save(signed_in, access, every, 1, {**GOOD_BASICS, "q-smoker": "yes", "q-packs": ""})
    save(signed_in, access, every, 3, {"q-agree-agreed": "yes", "q-agree-signature": "Robin"})

    review = signed_in.get(form_url(access, every, "review")).content.decode()
    assert "Still required" in review
    assert f'{form_url(access, every)}?section=1#q-packs-block">Packs a day' in review

    save(signed_in, access, every, 1, {**GOOD_BASICS, "q-smoker": "no", "q-packs": ""})
    review = signed_in.get(form_url(access, every, "review")).content.decode()
    assert "Still required" not in review
    assert "Packs a day" not in review
    response = signed_in.post(form_url(access, every, "submit"))
    assert response.status_code == 302
    every.refresh_from_db()
    assert every.status == FormStatus.SUBMITTED


def test_answers_to_questions_no_longer_shown_are_dropped_on_submit(
    signed_in, access, every, account
):
    # Saved through the service (as the API may): an answer whose condition no longer holds.
    services.form_save(
        account,
        form=every,
        answers={
            "nickname": "Robbie",
            "smoker": "no",
            "packs": "2",
            "agree": {"agreed": True, "signature": "Robin"},
        },
    )

    signed_in.post(form_url(access, every, "submit"))

    every.refresh_from_db()
    assert every.status == FormStatus.SUBMITTED
    assert "packs" not in every.answers
    assert every.answers["smoker"] == "no"


def test_save_and_come_back_later_keeps_the_answers_for_the_next_visit(signed_in, access, every):
    response = save(signed_in, access, every, 1, GOOD_BASICS, action="later")

    assert response["Location"] == reverse("intake:patient_forms", args=[access.public_id])
    listing = signed_in.get(response["Location"]).content.decode()
    assert "Your answers are saved. You can come back later." in listing
    assert "Continue" in listing

    page = signed_in.get(form_url(access, every, section=1)).content.decode()
    assert 'value="Robbie"' in page
    assert 'id="q-smoker-0" value="yes" checked' in page
    assert 'id="q-color-1" value="blue" checked' in page
    assert 'id="q-pets-0" value="cat" checked' in page
    assert 'value="1.5"' in page
    assert 'value="2025-06-01"' in page
    assert "Nothing much</textarea>" in page
    assert "Section 1 of 3" in page


def test_back_saves_and_goes_to_the_section_before(signed_in, access, every):
    response = save(signed_in, access, every, 3, {"q-agree-signature": ""}, action="back")

    assert response["Location"] == form_url(access, every, section=2)


def test_submit_is_refused_while_required_answers_are_missing_then_the_form_locks(
    signed_in, access, every
):
    response = signed_in.post(form_url(access, every, "submit"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Answer the questions still required before you submit." in page
    assert "Nickname" in page
    every.refresh_from_db()
    assert every.status == FormStatus.SENT

    save(signed_in, access, every, 1, GOOD_BASICS)
    save(signed_in, access, every, 3, {"q-agree-agreed": "yes", "q-agree-signature": "Robin"})
    response = signed_in.post(form_url(access, every, "submit"))
    assert response["Location"] == form_url(access, every, "review")
    confirmation = signed_in.get(response["Location"]).content.decode()
    assert "Thank you. Your form is submitted" in confirmation
    assert "It can no longer be changed." in confirmation
    assert "Robbie" in confirmation
    assert ">Submit</button>" not in confirmation

    # Read-only everywhere: the section page goes to the answers, a save is refused.
    assert signed_in.get(form_url(access, every, section=1))["Location"] == form_url(
        access, every, "review"
    )
    refused = save(signed_in, access, every, 1, {**GOOD_BASICS, "q-nickname": "Changed"})
    assert refused.status_code == 403
    assert str(services.NOT_OPEN_MESSAGE) in refused.content.decode()
    every.refresh_from_db()
    assert every.answers["nickname"] == "Robbie"
    assert signed_in.post(form_url(access, every, "submit")).status_code == 403


def test_the_chart_lists_are_offered_to_confirm_with_rows_to_add(
    signed_in, access, every, chart_lists
):
    page = signed_in.get(form_url(access, every, section=2)).content.decode()

    assert "Is “Penicillin” still correct?" in page
    assert "Is “Lisinopril 10 mg tablet” still correct?" in page
    assert "I have no allergies" in page
    assert page.count('name="q-allergies-add-') == 6  # three rows: name and reaction
    assert page.count('name="q-medications-add-') == 6


def test_save_and_add_more_keeps_the_new_entries_and_offers_more_rows(
    signed_in, access, every, chart_lists
):
    data = {"q-allergies-rows": "3"}
    for i, name in enumerate(["Peanuts", "Latex", "Bees"]):
        data[f"q-allergies-add-{i}-name"] = name
    response = save(signed_in, access, every, 2, data, action="more")

    assert response["Location"] == form_url(access, every, section=2)
    page = signed_in.get(response["Location"]).content.decode()
    assert 'value="Bees"' in page
    assert page.count('name="q-allergies-add-') == 12  # the 3 saved and 3 empty rows


def test_no_allergies_cannot_be_ticked_with_an_allergy_still_correct(
    signed_in, access, every, chart_lists
):
    allergy = str(chart_lists["allergy"].public_id)
    response = save(
        signed_in,
        access,
        every,
        2,
        {f"q-allergies-current-{allergy}": "yes", "q-allergies-none": "yes"},
    )

    assert response.status_code == 400
    assert "You said you have no allergies" in response.content.decode()
    every.refresh_from_db()
    assert every.answers == {}


def test_the_review_page_names_confirmed_and_new_entries(signed_in, access, every, chart_lists):
    allergy = str(chart_lists["allergy"].public_id)
    save(
        signed_in,
        access,
        every,
        2,
        {
            f"q-allergies-current-{allergy}": "no",
            "q-allergies-add-0-name": "Peanuts",
            "q-allergies-add-0-reaction": "Swelling",
        },
    )

    review = signed_in.get(form_url(access, every, "review")).content.decode()
    assert "Penicillin: no longer correct" in review
    assert "New: Peanuts (Swelling)" in review


def test_a_representative_fills_in_a_childs_form(
    client, admin, staff, practice, provider, hours, new_patient_visit, now
):
    child = factories.make_patient(
        practice, legal_first_name="Kit", date_of_birth=dt.date(2019, 5, 1)
    )
    parent, representative = factories.enroll_representative(staff, child)
    appointment = appointment_book(
        staff,
        patient=child,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 11),
    )
    form = make_form(admin, staff, practice, appointment)
    factories.sign_in(client, parent)

    assert client.get(form_url(representative, form, section=1)).status_code == 200
    response = save(client, representative, form, 1, GOOD_BASICS)

    assert response.status_code == 302
    form.refresh_from_db()
    assert form.answers["nickname"] == "Robbie"
    read = AuditEvent.objects.filter(action="intake.form_view", patient=child).first()
    assert read.actor == parent
    assert read.acting_as


def test_a_narrowed_representative_may_not_open_the_forms(
    client, admin, staff, practice, provider, hours, new_patient_visit, now
):
    teen = factories.make_patient(practice, date_of_birth=dt.date(2013, 1, 1))
    parent, representative = factories.enroll_representative(staff, teen)
    appointment = appointment_book(
        staff,
        patient=teen,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 11),
    )
    form = make_form(admin, staff, practice, appointment)
    factories.sign_in(client, parent)

    for url in (
        reverse("intake:patient_forms", args=[representative.public_id]),
        form_url(representative, form, section=1),
        form_url(representative, form, "review"),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert "a patient fills in their check-in forms themselves" in response.content.decode()
    assert save(client, representative, form, 1, GOOD_BASICS).status_code == 403
    form.refresh_from_db()
    assert form.answers == {}
    record = client.get(reverse("records:record", args=[representative.public_id]))
    assert "Check-in" not in record.content.decode()


def test_another_charts_form_is_not_found(
    signed_in, access, admin, staff, practice, provider, hours, new_patient_visit, now
):
    other = factories.make_patient(practice)
    appointment = appointment_book(
        staff,
        patient=other,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 14),
    )
    theirs = make_form(admin, staff, practice, appointment)

    assert signed_in.get(form_url(access, theirs, section=1)).status_code == 404
    assert signed_in.get(form_url(access, theirs, "review")).status_code == 404
    assert save(signed_in, access, theirs, 1, GOOD_BASICS).status_code == 404
    assert signed_in.post(form_url(access, theirs, "submit")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.answers == {}


def test_every_page_of_a_form_is_an_audited_read(signed_in, access, every):
    signed_in.get(form_url(access, every, section=2))
    signed_in.get(form_url(access, every, "review"))

    pages = [
        e.details["page"]
        for e in AuditEvent.objects.filter(action="intake.form_view", patient=access.patient)
    ]
    assert "section 2" in pages
    assert "review" in pages


def test_the_portal_prompts_to_check_in_where_a_form_waits(
    signed_in, access, every, account, admin, staff, practice, provider, new_patient_visit
):
    # The account also represents a child with a form waiting: the home lists both records.
    child = factories.make_patient(practice, date_of_birth=dt.date(2019, 5, 1))
    _account, representative = factories.enroll_representative(staff, child, account=account)
    appointment = appointment_book(
        staff,
        patient=child,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 11),
    )
    make_form(admin, staff, practice, appointment, name="Child form")
    prompt = reverse("intake:patient_forms", args=[access.public_id])
    child_prompt = reverse("intake:patient_forms", args=[representative.public_id])

    home = signed_in.get(reverse("portal:home")).content.decode()
    assert f'<a href="{prompt}">Check in for your appointment</a>' in home
    assert f'<a href="{child_prompt}">Check in for your appointment</a>' in home
    record = signed_in.get(reverse("records:record", args=[access.public_id])).content.decode()
    assert f'<a href="{prompt}">Check-in</a>' in record
    appointments = signed_in.get(
        reverse("booking:patient_appointments", args=[access.public_id])
    ).content.decode()
    assert f'<a href="{prompt}">Check in for your appointment</a>' in appointments


def test_no_prompt_once_the_form_is_submitted(signed_in, access, every, account):
    services.form_save(
        account,
        form=every,
        answers={"nickname": "R", "smoker": "no", "agree": {"agreed": True, "signature": "R"}},
    )
    services.form_submit(account, form=every)

    appointments = signed_in.get(
        reverse("booking:patient_appointments", args=[access.public_id])
    ).content.decode()
    assert "Check in for your appointment" not in appointments
