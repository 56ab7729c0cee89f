"""The frame every page shares (base.html, its patient/public/staff variants, includes/field.html
and includes/form_errors.html), issue 13: the page's language, the skip link, the landmarks, and
the error summary a failed form opens with."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import register_url, verify
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def test_html_lang_is_the_active_language(client):
    assert parse(client.get(reverse("accounts:sign_in"))).one("html")["lang"] == "en"
    with translation.override("es"):
        page = parse(client.get(reverse("accounts:sign_in"), HTTP_ACCEPT_LANGUAGE="es"))
    assert page.one("html")["lang"] == "es"


def test_skip_link_comes_first_and_leads_to_main(client, patient, admin):
    account = factories.enroll(admin, patient)
    sign_in(client, account)
    page = parse(client.get(reverse("portal:home"), follow=True))

    body = page.one("body")
    first = next(el for el in body.iter() if el.tag in ("a", "button", "input"))
    assert first.get("class") == "skip-link"
    assert first.text == "Skip to content"
    assert first["href"] == "#main"
    assert page.one("main")["id"] == "main"
    header = page.one("header")
    assert header.one("nav")["aria-label"] == "Main"
    assert [a.text for a in header.find_all("a")][1:] == [
        "My records",
        "Connected apps",
        "Account settings",
    ]


def test_failed_form_opens_with_a_summary_linking_to_each_field(client, admin, patient):
    invitation = factories.invite(admin, patient)
    page = parse(verify(client, invitation, dob="", code=""))

    form = next(f for f in page.find_all("form") if f.find(id="id_access_code"))
    first = next(el for el in form.iter() if el.tag not in ("input",) or el["type"] != "hidden")
    assert "error-summary" in first["class"]
    assert first["tabindex"] == "-1"
    links = first.find_all("a")
    assert [a["href"] for a in links] == ["#id_date_of_birth", "#id_access_code"]
    assert links[0].text == "Date of birth: This field is required."
    for field_id in ("id_date_of_birth", "id_access_code"):
        field = page.one(id=field_id)
        assert field.get("aria-invalid") == "true"
        assert f"{field_id}_error" in field["aria-describedby"].split()


def test_form_wide_errors_are_in_the_summary_without_links(client, patient, admin):
    account = factories.enroll(admin, patient)
    response = client.post(
        reverse("accounts:sign_in"), {"email": account.email, "password": "wrong password"}
    )
    summary = parse(response).one(class_="error-summary")
    assert summary.find_all("a") == []
    assert summary.find(role="alert").text.startswith("The email or password is not right.")


def test_no_summary_on_a_form_without_errors(client, admin, patient):
    invitation = factories.invite(admin, patient)
    page = parse(client.get(register_url(invitation)))
    assert page.find(class_="error-summary") is None
