"""The embeddable booking page (SPEC §8.4): /external/appointment/<uuid> may be framed by the
origins the practice lists, and only it: no X-Frame-Options there, a policy whose
frame-ancestors are exactly those origins ('none' when none are listed). Every other page keeps
X-Frame-Options DENY and frame-ancestors 'none'. Links and the form stay inside the frame."""

import re
import uuid

import pytest
from django.urls import reverse

from portico.booking import public, services
from portico.booking.models import AppointmentRequest, RequestSource
from portico.notifications.models import OutboundEmail
from tests.booking.test_booking_page import DETAILS, NINE
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def embed_url(profile) -> str:
    return reverse("booking:embed", args=[profile.booking_id])


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


@pytest.fixture
def listed(practice):
    practice.booking_embed_origins = (
        "https://www.riverside-clinic.example\n\n  https://book.riverside-clinic.example:8443 \n"
    )
    practice.save()
    return practice


def test_the_embed_may_be_framed_by_the_listed_origins_only(client, profile, listed):
    response = client.get(embed_url(profile))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    policy = directives(response)
    assert policy["frame-ancestors"] == (
        "https://www.riverside-clinic.example https://book.riverside-clinic.example:8443"
    )
    # The rest of the page policy is the global one.
    assert policy["script-src"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert policy["object-src"] == "'none'"


def test_the_embed_of_a_practice_listing_no_origin_cannot_be_framed(client, profile):
    response = client.get(embed_url(profile))
    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == "'none'"


def test_lines_that_are_not_origins_never_reach_the_policy(client, profile, practice):
    practice.booking_embed_origins = (
        "https://ok.example\n"
        "https://bad.example; script-src *\n"
        "javascript:alert(1)\n"
        "*\n"
        "https://with-path.example/page\n"
        "https://trailing-slash.example/\n"
    )
    practice.save()
    policy = directives(client.get(embed_url(profile)))
    assert policy["frame-ancestors"] == "https://ok.example https://trailing-slash.example"
    assert policy["script-src"] == "'self'"


def test_every_other_page_keeps_framing_denied(client, profile, listed):
    found = public.profile_for_page(profile.number)
    for url in (
        reverse("booking:search"),
        public.profile_path(found),
        public.profile_path(found) + "/book",
        reverse("booking:sitemap"),
        reverse("accounts:sign_in"),
    ):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert directives(response)["frame-ancestors"] == "'none'", url


def test_an_unknown_or_not_public_booking_page_is_not_found(client, profile, admin):
    assert client.get(reverse("booking:embed", args=[uuid.uuid4()])).status_code == 404
    services.profile_status_set(admin, profile=profile, on=False)
    assert client.get(embed_url(profile)).status_code == 404


def test_links_and_the_form_stay_inside_the_frame(client, profile, follow_up, listed):
    here = embed_url(profile)
    page = parse(client.get(here))
    hrefs = [a["href"] for a in page.find_all("a")]
    assert hrefs, "the week's times"
    for href in hrefs:
        assert href.startswith(here + "?") or href.startswith(("#", "tel:")), href
    assert page.find("header") is None  # no site header, no language form leaving the frame
    assert [f["action"] for f in page.find_all("form")] == []
    time_link = page.find_all("ul", class_="open-times")[0].find("a")["href"]
    page = parse(client.get(time_link))
    form = page.one("form", class_="booking-form")
    assert form["action"] == here
    for href in (a["href"] for a in page.find_all("a")):
        assert href.startswith(here + "?") or href.startswith(("#", "tel:")), href


def test_a_request_from_the_embed_is_stored_and_thanked_inside_the_frame(
    client, profile, follow_up, listed
):
    here = embed_url(profile)
    data = {"visit_type": str(follow_up.public_id), "start_at": NINE, **DETAILS}
    response = client.post(here, data, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 303
    assert response["Location"] == f"{here}?sent=1"
    assert "X-Frame-Options" not in response.headers
    request = AppointmentRequest.objects.get()
    assert request.source == RequestSource.EMBED
    assert OutboundEmail.objects.filter(kind="booking.received", to_address="rosa@example.org")

    sent = client.get(response["Location"])
    assert sent.status_code == 200
    assert "X-Frame-Options" not in sent.headers
    assert "https://www.riverside-clinic.example" in directives(sent)["frame-ancestors"]
    page = parse(sent)
    assert page.one("h1").text == "Request sent"
    assert page.one("a", text="Request another appointment")["href"] == here


def test_the_embed_answers_bad_input_inside_the_frame(client, profile, follow_up, listed):
    data = {"visit_type": str(follow_up.public_id), "start_at": NINE, **DETAILS, "email": "x"}
    response = client.post(embed_url(profile), data)
    assert response.status_code == 400
    assert "X-Frame-Options" not in response.headers
    assert "https://www.riverside-clinic.example" in directives(response)["frame-ancestors"]
    assert not AppointmentRequest.objects.exists()


def test_the_embed_is_kept_out_of_search_engines(client, profile):
    page = parse(client.get(embed_url(profile)))
    assert page.one("meta", name="robots")["content"] == "noindex"
    robots = client.get(reverse("booking:robots")).content.decode()
    assert re.search(r"^Disallow: /external/$", robots, re.M)
