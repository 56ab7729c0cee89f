"""The public pages (SPEC §8.3): the provider search, the profile page with its open times, its
canonical address that survives renames, the markup search engines read (canonical link, Open
Graph, schema.org JSON-LD), sitemap.xml and robots.txt. No patient data anywhere."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.booking import public, services
from portico.scheduling.services import appointment_book
from tests import factories
from tests.booking.conftest import at
from tests.booking.public_data import location, many_public_profiles, public_profile
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
SEARCH = reverse("booking:search")


def profile_url(profile) -> str:
    return public.profile_path(public.profile_for_page(profile.number))


def names_found(client, **query) -> list[str]:
    response = client.get(SEARCH, query)
    assert response.status_code == 200
    return [h3.text for h3 in parse(response).find_all("h3")]


@pytest.fixture
def directory(now, admin, practice, profile, follow_up):
    """Three public providers: Paula (the conftest's: family medicine, English and Spanish,
    Springfield through the practice's address), Carl (cardiology, French, at the Shelbyville
    location, not taking new patients) and Nina (pediatrics, English, at the Capital City
    location, NP)."""
    practice.city, practice.state, practice.postal_code = "Springfield", "IL", "62701"
    practice.address_line1 = "1 Main Street"
    practice.save()
    shelbyville = location(
        admin, practice, "Shelbyville office", city="Shelbyville", state="IL", postal_code="62565"
    )
    capital = location(
        admin, practice, "Capital office", city="Capital City", state="IL", postal_code="62702"
    )
    carl = public_profile(
        admin,
        practice,
        follow_up,
        full_name="Carl Cardio",
        specialties=["cardiology"],
        languages=["fr"],
        locations=[shelbyville],
        accepts_new_patients=False,
    )
    nina = public_profile(
        admin,
        practice,
        follow_up,
        full_name="Nina Nurse",
        credential="NP",
        specialties=["pediatrics"],
        languages=["en"],
        locations=[capital],
    )
    return {"paula": profile, "carl": carl, "nina": nina}


# --- Search --------------------------------------------------------------------------------------


def test_search_lists_every_public_profile_linking_to_its_canonical_address(client, directory):
    page = parse(client.get(SEARCH))
    links = {a.text: a["href"] for a in page.find_all("a") if a.closest("h3")}
    assert links == {
        "Carl Cardio, MD": profile_url(directory["carl"]),
        "Dr. Paula Provider, MD": profile_url(directory["paula"]),
        "Nina Nurse, NP": profile_url(directory["nina"]),
    }
    assert links["Nina Nurse, NP"] == f"/doctor/nina-nurse-np-{directory['nina'].number}"
    assert page.one("h2", id="results-heading").text == "3 providers"


def test_search_by_name_matches_every_word(client, directory):
    assert names_found(client, name="nina") == ["Nina Nurse, NP"]
    assert names_found(client, name="paula provider") == ["Dr. Paula Provider, MD"]
    assert names_found(client, name="paula cardio") == []


def test_search_by_specialty(client, directory):
    assert names_found(client, specialty="cardiology") == ["Carl Cardio, MD"]
    assert names_found(client, specialty="family-medicine") == ["Dr. Paula Provider, MD"]
    assert names_found(client, specialty="urology") == []


def test_search_by_city_or_zip_uses_the_locations_else_the_practice(client, directory):
    # Paula has no location of her own: the practice's address counts for her.
    assert names_found(client, place="Springfield") == ["Dr. Paula Provider, MD"]
    assert names_found(client, place="springfield, il") == ["Dr. Paula Provider, MD"]
    assert names_found(client, place="Shelbyville") == ["Carl Cardio, MD"]
    assert names_found(client, place="62702") == ["Nina Nurse, NP"]
    assert names_found(client, place="62565-1234") == ["Carl Cardio, MD"]
    assert names_found(client, place="Springfield, WI") == []


def test_search_by_language(client, directory):
    assert names_found(client, language="fr") == ["Carl Cardio, MD"]
    assert names_found(client, language="en") == ["Dr. Paula Provider, MD", "Nina Nurse, NP"]


def test_search_for_providers_accepting_new_patients(client, directory):
    assert names_found(client, new_patients="on") == ["Dr. Paula Provider, MD", "Nina Nurse, NP"]


def test_search_leaves_out_a_profile_turned_off(client, directory, admin):
    services.profile_status_set(admin, profile=directory["carl"], on=False)
    assert "Carl Cardio, MD" not in names_found(client)


def test_search_with_a_value_not_on_the_list_says_so(client, directory):
    response = client.get(SEARCH, {"specialty": "astrology"})
    assert response.status_code == 400
    page = parse(response)
    assert page.find(id="id_specialty_error") is not None
    assert page.find_all("h3") == []


def test_search_costs_the_same_queries_for_5_or_25_providers(
    client, now, admin, practice, follow_up, monkeypatch
):
    monkeypatch.setattr(public, "PAGE_SIZE", 50)
    office = location(admin, practice, "Office", city="Springfield", postal_code="62701")
    many_public_profiles(practice, follow_up, 5, office)
    with CaptureQueriesContext(connection) as five:
        assert client.get(SEARCH, {"place": "Springfield"}).status_code == 200
    many_public_profiles(practice, follow_up, 20, office, start=5)
    with CaptureQueriesContext(connection) as twenty_five:
        response = client.get(SEARCH, {"place": "Springfield"})
    assert len(parse(response).find_all("li", class_="provider")) == 25
    assert len(twenty_five) == len(five)
    assert len(five) <= 6


def test_search_pages_count_every_match_and_a_page_past_the_last_shows_the_last(
    client, now, admin, practice, follow_up, monkeypatch
):
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    office = location(admin, practice, "Office", city="Springfield", postal_code="62701")
    many_public_profiles(practice, follow_up, 5, office)

    def shown(page_value):
        page = parse(client.get(SEARCH, {"place": "Springfield", "page": page_value}))
        names = [h3.text for h3 in page.find_all("h3")]
        return page.one("h2", id="results-heading").text, names, page.one("nav", class_="pager")

    heading, first, pager = shown("1")
    assert heading == "5 providers" and len(first) == 2
    assert "Page 1 of 3" in pager.text and pager.find("a", rel="next") is not None
    heading, last, pager = shown("3")
    assert heading == "5 providers" and len(last) == 1 and last[0] not in first
    assert "Page 3 of 3" in pager.text and pager.find("a", rel="next") is None
    # Past the last page, and not a number: the last page and the first, never an error.
    assert shown("9")[1] == last
    assert shown("two")[1] == first


# --- The profile page ----------------------------------------------------------------------------


def test_the_profile_shows_what_the_provider_published(client, directory):
    response = client.get(profile_url(directory["paula"]))
    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Dr. Paula Provider, MD"
    text = page.text
    for shown in (
        "Family medicine",
        "English, Spanish",
        "Aetna",
        "Medicare",
        "Family doctor.",
        "Accepts new patients",
        "Riverside Clinic",
        "1 Main Street",
        "Springfield, IL 62701",
        "(217) 555-0100",
    ):
        assert shown in text, shown
    assert page.find_all("a", text="(217) 555-0100", href="tel:2175550100")


def test_the_profile_offers_the_next_open_times_each_a_link_to_the_booking_form(
    client, directory, follow_up
):
    paula = directory["paula"]
    page = parse(client.get(profile_url(paula)))
    headings = [h.text for h in page.find_all("h4")]
    assert headings == ["Monday, December 7", "Tuesday, December 8", "Wednesday, December 9"]
    first = page.find_all("ul", class_="open-times")[0].find_all("a")[0]
    assert first.one("time")["datetime"] == "2026-12-07T09:00:00-05:00"
    assert first.one("time").text == "9:00 AM"
    book = reverse(
        "booking:book",
        kwargs={"slug": public.canonical_slug(public.profile_for_page(paula.number))},
    )
    assert first["href"] == f"{book}?type={follow_up.public_id}&at=2026-12-07T14%3A00Z"
    assert page.one("a", text="More times for Follow-up")["href"].startswith(book)


def test_a_change_in_the_schedule_shows_at_once(client, directory, follow_up, admin, patient):
    url = profile_url(directory["paula"])
    assert "2026-12-07T09:00:00-05:00" in client.get(url).content.decode()
    appointment_book(
        admin,
        patient=patient,
        provider=directory["paula"].provider,
        appointment_type=follow_up,
        start_at=at(MONDAY, 9),
    )
    assert "2026-12-07T09:00:00-05:00" not in client.get(url).content.decode()


def test_the_address_follows_a_rename_the_old_one_redirects_permanently(client, directory):
    paula = directory["paula"]
    old = profile_url(paula)
    paula.provider.full_name = "Paula Newname"
    paula.provider.save()
    new = profile_url(paula)
    assert new == f"/doctor/paula-newname-md-{paula.number}"
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new
    assert client.get(new).status_code == 200
    # Any name part with the right number finds it.
    assert client.get(f"/doctor/someone-{paula.number}")["Location"] == new


def test_a_profile_that_was_never_public_is_not_found(client, now, admin, practice, provider):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    assert client.get(f"/doctor/paula-provider-md-{profile.number}").status_code == 404
    assert client.get("/doctor/nobody-00000").status_code == 404


def test_a_profile_turned_off_after_being_public_is_gone_and_leaves_the_sitemap(
    client, directory, admin
):
    paula = directory["paula"]
    url = profile_url(paula)
    assert url in client.get(reverse("booking:sitemap")).content.decode()
    services.profile_status_set(admin, profile=paula, on=False)
    response = client.get(url)
    assert response.status_code == 410
    assert parse(response).one("h1").text == "This profile is no longer online"
    assert url not in client.get(reverse("booking:sitemap")).content.decode()
    assert client.get(url + "/book").status_code == 410


def test_the_canonical_link_and_open_graph_tags(client, directory, settings):
    settings.PORTICO_BASE_URL = "https://care.example.org"
    paula = directory["paula"]
    page = parse(client.get(profile_url(paula)))
    canonical = f"https://care.example.org{profile_url(paula)}"
    assert page.one("link", rel="canonical")["href"] == canonical
    og = {m["property"]: m["content"] for m in page.find_all("meta") if m.get("property")}
    assert og["og:type"] == "profile"
    assert og["og:title"] == "Dr. Paula Provider, MD"
    assert og["og:url"] == canonical
    assert "Family medicine" in og["og:description"]
    assert "Riverside Clinic" in og["og:description"]


def structured(response) -> dict:
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_json_ld_describes_a_physician_and_the_clinic(client, directory, settings):
    settings.PORTICO_BASE_URL = "https://care.example.org"
    paula = directory["paula"]
    data = structured(client.get(profile_url(paula)))
    assert data["@context"] == "https://schema.org"
    by_type = {item["@type"]: item for item in data["@graph"]}
    physician, clinic = by_type["Physician"], by_type["MedicalClinic"]
    assert physician["name"] == "Dr. Paula Provider, MD"
    assert physician["url"] == f"https://care.example.org{profile_url(paula)}"
    assert physician["medicalSpecialty"] == ["https://schema.org/PrimaryCare"]
    assert physician["knowsLanguage"] == ["en", "es"]
    assert physician["isAcceptingNewPatients"] is True
    assert physician["telephone"] == "(217) 555-0100"
    assert physician["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "1 Main Street",
        "addressLocality": "Springfield",
        "addressRegion": "IL",
        "postalCode": "62701",
        "addressCountry": "US",
    }
    assert physician["identifier"] == {
        "@type": "PropertyValue",
        "propertyID": "NPI",
        "value": "1234567893",
    }
    assert clinic["name"] == "Riverside Clinic"
    assert clinic["telephone"] == "(217) 555-0100"
    assert clinic["address"]["addressLocality"] == "Springfield"
    assert physician["parentOrganization"] == {"@id": clinic["@id"]}


def test_the_json_ld_of_a_provider_at_a_location_and_not_taking_new_patients(client, directory):
    data = structured(client.get(profile_url(directory["carl"])))
    physician = next(item for item in data["@graph"] if item["@type"] == "Physician")
    assert physician["isAcceptingNewPatients"] is False
    assert physician["address"]["addressLocality"] == "Shelbyville"
    assert physician["medicalSpecialty"] == ["https://schema.org/Cardiovascular"]


def test_the_json_ld_cannot_end_its_script_element(client, directory, admin, follow_up):
    paula = directory["paula"]
    services.profile_save(
        admin,
        profile=paula,
        specialties=["family-medicine"],
        biography='Hello </script><script>alert("x")</script> & welcome',
        online_visit_types=[follow_up],
        npi=paula.npi,
    )
    response = client.get(profile_url(paula))
    html = response.content.decode()
    assert "<script>alert" not in html
    data = structured(response)
    physician = next(item for item in data["@graph"] if item["@type"] == "Physician")
    assert physician["description"] == 'Hello </script><script>alert("x")</script> & welcome'


def test_the_public_pages_run_no_inline_script_and_deny_framing(client, directory):
    """The page policy forbids inline scripts; the JSON-LD block is data (the browser never
    runs it), and it is the only script element without a src."""
    paula = directory["paula"]
    for url in (SEARCH, profile_url(paula), profile_url(paula) + "/book"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "script-src 'self'" in response["Content-Security-Policy"]
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())
        assert set(inline) <= {'<script type="application/ld+json">'}


# --- Sitemap and robots.txt ----------------------------------------------------------------------


def test_the_sitemap_lists_the_search_page_and_every_public_profile(
    client, directory, admin, practice, provider, settings
):
    settings.PORTICO_BASE_URL = "https://care.example.org"
    hidden = factories.make_staff(practice, role="provider", credential="MD", full_name="Hidden")
    services.profile_ensure(admin, practice=practice, provider=hidden)  # never turned on
    response = client.get(reverse("booking:sitemap"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    locs = re.findall(r"<loc>(.*?)</loc>", body)
    assert sorted(locs) == sorted(
        ["https://care.example.org/doctors/"]
        + [f"https://care.example.org{profile_url(p)}" for p in directory.values()]
    )
    assert body.count("<lastmod>2026-12-07</lastmod>") == 3


def test_robots_txt_allows_the_public_pages_only_and_points_to_the_sitemap(client, settings):
    settings.PORTICO_BASE_URL = "https://care.example.org"
    response = client.get(reverse("booking:robots"))
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    for path in ("/ehr/", "/portal/", "/api/", "/accounts/", "/external/"):
        assert f"Disallow: {path}" in lines
    assert "Allow: /doctor/" in lines and "Allow: /doctors/" in lines
    assert "Sitemap: https://care.example.org/sitemap.xml" in lines


# --- No patient data -----------------------------------------------------------------------------


def test_no_patient_data_on_the_public_pages(client, directory, follow_up, admin):
    chart = factories.make_patient(
        directory["paula"].practice, legal_first_name="Zelda", legal_last_name="Quixote"
    )
    appointment_book(
        admin,
        patient=chart,
        provider=directory["paula"].provider,
        appointment_type=follow_up,
        start_at=at(MONDAY, 9),
        reason="Migraine",
    )
    services.request_submit(
        profile=directory["paula"],
        visit_type=follow_up,
        start_at=at(MONDAY, 10),
        patient_kind="new",
        first_name="Yusuf",
        last_name="Wexley",
        date_of_birth=dt.date(1970, 1, 2),
        email="yusuf@example.org",
        reason="Back pain",
    )
    paula = directory["paula"]
    pages = [
        SEARCH,
        profile_url(paula),
        profile_url(paula) + "/book",
        reverse("booking:embed", args=[paula.booking_id]),
        reverse("booking:sitemap"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for secret in ("Zelda", "Quixote", "Migraine", "Yusuf", "Wexley", "Back pain", "yusuf@"):
            assert secret not in html, (url, secret)
        assert paula.provider.email not in html
