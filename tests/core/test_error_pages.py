"""Error pages are short, kind, in the person's language, and lead somewhere: home or sign-in,
and the System requirements page (SPEC §12.1). Django's own handlers render them (DEBUG is off
in tests); the 500 page is rendered with no request at all, so it needs nothing from one."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.core.test_spanish_catalogue import english_words
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.error_urls")]

REQUIREMENTS = "/system-requirements/"


def links(response) -> dict[str, str]:
    return {a.text: a["href"] for a in parse(response).one("main").find_all("a")}


def assert_error_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    page = parse(response)
    assert [h.text for h in page.find_all("h1")] == [heading]
    assert links(response)["System requirements"] == REQUIREMENTS


def test_page_not_found_explains_and_links_to_sign_in_and_requirements(client):
    response = client.get("/no-such-page/")

    assert_error_page(response, 404, "We cannot find that page")
    assert links(response)["Go to sign in"] == reverse("home")


def test_signed_in_person_is_offered_the_way_back_instead_of_sign_in(client, staff):
    sign_in(client, staff)

    response = client.get("/no-such-page/")

    assert_error_page(response, 404, "We cannot find that page")
    assert links(response)["Back to Portico"] == reverse("home")


def test_forbidden_page_explains_and_links_to_requirements(client):
    assert_error_page(client.get("/test-errors/403"), 403, "You cannot open this page")


def test_bad_request_page_explains_and_links_to_requirements(client):
    assert_error_page(
        client.get("/test-errors/400"), 400, "Something in that request was not right"
    )


def test_expired_form_page_explains_cookies_and_links_to_requirements():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:sign_in"), {"email": "a@example.test"})

    assert_error_page(response, 403, "This form has expired")
    assert "cookies" in parse(response).one("main").text


def test_server_error_page_renders_without_a_request_and_links_to_requirements(client):
    client.raise_request_exception = False

    response = client.get("/test-errors/500")

    assert_error_page(response, 500, "Something went wrong on our side")
    assert links(response)["Back to Portico"] == "/"
    assert parse(response).one("html")["lang"] == "en"


def test_error_pages_are_in_spanish(client):
    client.raise_request_exception = False
    with translation.override("es"):
        missing = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
        broken = client.get("/test-errors/500", HTTP_ACCEPT_LANGUAGE="es")

    assert english_words(missing.content.decode()) == []
    assert english_words(broken.content.decode()) == []
    assert parse(missing).one("h1").text == "No encontramos esa página"
    assert links(missing)["Requisitos del sistema"] == REQUIREMENTS
    assert parse(broken).one("h1").text == "Algo salió mal por nuestra parte"
    assert parse(broken).one("html")["lang"] == "es"
    assert links(broken)["Requisitos del sistema"] == REQUIREMENTS
