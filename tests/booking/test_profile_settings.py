"""EHR Settings > Users > a provider > "Online profile and appointment booking" (SPEC §8.1–8.2,
§8.4): the profile form, Online profile status On/Off with its checklist "Why don't I appear in
search results?", the NPI attestation, the embed code; and EHR Settings > "Online booking on
your website". Any user edits their own profile, an administrator every provider's; bad input
shows a message and changes nothing."""

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.booking import selectors, services
from portico.booking.models import ProviderProfile
from portico.practices.models import Membership, Role
from portico.scheduling.services import location_save
from tests import factories
from tests.booking.conftest import VALID_NPI
from tests.factories import sign_in
from tests.pages.html import parse
from tests.records.test_record_spanish import spanish

pytestmark = pytest.mark.django_db

CREDENTIAL = "Your credential is MD, DO, NP or PA (set by an administrator in Users)."
NPI_VALID = "Your NPI is a valid 10-digit number."
ATTESTED = "An administrator has attested your NPI."
VISIT_TYPES = "At least one visit type is offered online."


def page_url(user) -> str:
    return reverse("booking:profile_settings", kwargs={"user_id": user.public_id})


def status_url(user) -> str:
    return reverse("booking:profile_status", kwargs={"user_id": user.public_id})


def attest_url(user) -> str:
    return reverse("booking:npi_attest", kwargs={"user_id": user.public_id})


WEBSITE = "/ehr/settings/online-booking/"


def profile_of(practice, provider) -> ProviderProfile:
    return ProviderProfile.objects.get(practice=practice, provider=provider)


def form_data(follow_up=None, **changes) -> dict:
    data = {
        "specialties": ["family-medicine"],
        "languages": ["en", "es"],
        "insurance_accepted": "Aetna\nMedicare",
        "biography": "Family doctor.",
        "accepts_new_patients": "on",
        "npi": VALID_NPI,
        "online_visit_types": [str(follow_up.public_id)] if follow_up else [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def second_provider(practice):
    return factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nina Nurse-Practitioner"
    )


@pytest.fixture
def ready(now, admin, practice, provider, hours, follow_up):
    """The provider's profile with everything the checklist asks for, still Off."""
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(admin, profile=profile, online_visit_types=[follow_up], npi=VALID_NPI)
    services.npi_attest(admin, profile=profile, attested=True)
    profile.refresh_from_db()
    return profile


def checklist_on_page(page) -> dict[str, str]:
    return {
        li["id"].removeprefix("checklist-"): li.one("span", class_="badge").text
        for li in page.find_all("li", id=True)
        if li["id"].startswith("checklist-")
    }


# --- The page and who may open it ----------------------------------------------------------


def test_a_provider_opens_their_own_profile_and_sees_every_section(client, practice, provider):
    sign_in(client, provider)

    response = client.get(page_url(provider))

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Online profile and appointment booking"
    headings = [h.text for h in page.find_all("h2")]
    for heading in (
        "Online profile status",
        "Why don't I appear in search results?",
        "NPI attestation",
        "Profile",
        "Booking on your website",
    ):
        assert heading in headings
    # A provider who is not an administrator sees no EHR Settings sections.
    assert page.find("nav", class_="settings-nav") is None
    legends = [legend.text for legend in page.find_all("legend")]
    assert {"Specialties", "Languages spoken", "Visit types offered online"} <= set(legends)
    assert page.one("label", for_="id_npi").text.startswith("NPI")
    # The profile exists from the first visit, Off, with its five-digit number.
    profile = profile_of(practice, provider)
    assert not profile.is_on and len(profile.number) == 5 and profile.number.isdigit()
    # No attest button: only a note.
    assert page.find("button", text="Attest NPI") is None
    assert "Only an administrator can attest an NPI." in page.text


def test_an_administrator_opens_any_providers_profile_from_users(
    client, admin, practice, provider, staff
):
    sign_in(client, admin)

    users = parse(client.get(reverse("practices:users")))
    links = [a for a in users.find_all("a") if a.text.startswith("Online profile")]
    # Only the provider's row has the link.
    assert [a["href"] for a in links] == [page_url(provider)]
    page = parse(client.get(page_url(provider)))
    assert page.one("nav", class_="settings-nav").one("a", text="Users")["aria-current"] == "page"
    assert "Dr. Paula Provider" in page.one("main").text


def test_a_provider_finds_their_own_profile_from_their_account_page(client, provider, staff):
    sign_in(client, provider)
    page = parse(client.get(reverse("accounts:profile")))
    link = page.one("a", text="Online profile and appointment booking")
    assert link["href"] == page_url(provider)

    sign_in(client, staff)
    page = parse(client.get(reverse("accounts:profile")))
    assert page.find("a", text="Online profile and appointment booking") is None


def test_another_provider_or_staff_cannot_open_or_change_a_providers_profile(
    client, practice, provider, second_provider, staff, follow_up
):
    for user in (second_provider, staff):
        sign_in(client, user)
        assert client.get(page_url(provider)).status_code == 403
        assert client.post(page_url(provider), form_data(biography="Hacked")).status_code == 403
        assert client.post(status_url(provider), {"status": "on"}).status_code == 403
        assert client.post(attest_url(provider), {"attested": "yes"}).status_code == 403
    profile = ProviderProfile.objects.filter(practice=practice, provider=provider).first()
    assert profile is None or profile.biography == ""


def test_a_user_who_is_not_a_provider_here_or_unknown_is_not_found(
    client, admin, staff, outsider, provider
):
    import uuid

    sign_in(client, admin)
    # An administrator (not a provider), a staff member, and an unknown account.
    for user_id in (admin.public_id, staff.public_id, uuid.uuid4()):
        url = reverse("booking:profile_settings", kwargs={"user_id": user_id})
        assert client.get(url).status_code == 404
        assert client.post(url + "status/", {"status": "on"}).status_code == 404
    # Staff who are not providers have no profile page of their own.
    sign_in(client, staff)
    assert client.get(page_url(staff)).status_code == 404
    # Another practice's administrator does not find this practice's provider.
    sign_in(client, outsider)
    assert client.get(page_url(provider)).status_code == 404
    assert not ProviderProfile.objects.exists()


def test_the_status_and_attest_addresses_refuse_a_get(client, admin, provider):
    sign_in(client, admin)
    assert client.get(status_url(provider)).status_code == 405
    assert client.get(attest_url(provider)).status_code == 405


# --- Saving the profile ----------------------------------------------------------------------


def test_a_provider_saves_their_profile_and_it_is_audited(
    client, practice, provider, follow_up, admin
):
    location = location_save(admin, practice=practice, name="Main office")
    sign_in(client, provider)

    response = client.post(
        page_url(provider),
        form_data(follow_up, locations=[str(location.public_id)], specialties=["pediatrics"]),
    )

    assert response.status_code == 302 and response.url == page_url(provider)
    profile = profile_of(practice, provider)
    assert list(profile.specialties.values_list("code", flat=True)) == ["pediatrics"]
    assert sorted(profile.languages.values_list("code", flat=True)) == ["en", "es"]
    assert list(profile.locations.all()) == [location]
    assert list(profile.online_visit_types.all()) == [follow_up]
    assert profile.insurance_plans == ["Aetna", "Medicare"]
    assert profile.npi == VALID_NPI and profile.accepts_new_patients
    event = AuditEvent.objects.get(action="online_profile.update")
    assert event.actor == provider and "npi" in event.details["fields"]
    page = parse(client.get(page_url(provider)))
    assert "The online profile is saved." in page.text
    assert page.one("input", value="pediatrics").get("checked") is not None
    assert page.one("textarea", id="id_insurance_accepted").text == "Aetna Medicare"


def test_a_bad_npi_shows_its_message_and_nothing_changes(client, practice, provider, follow_up):
    sign_in(client, provider)
    client.post(page_url(provider), form_data(follow_up))

    response = client.post(
        page_url(provider), form_data(follow_up, npi="1234567894", biography="New text.")
    )

    assert response.status_code == 400
    page = parse(response)
    assert "This is not a valid NPI: check the digits." in page.one("div", id="id_npi_error").text
    # What was typed stays in the form; the profile is as it was.
    assert page.one("input", id="id_npi")["value"] == "1234567894"
    profile = profile_of(practice, provider)
    assert profile.npi == VALID_NPI and profile.biography == "Family doctor."


def test_choices_from_elsewhere_are_refused_and_nothing_changes(
    client, practice, provider, other_practice, outsider
):
    from portico.scheduling.services import visit_type_save

    theirs = visit_type_save(outsider, practice=other_practice, name="Theirs", duration_minutes=30)
    sign_in(client, provider)

    response = client.post(
        page_url(provider),
        form_data(
            specialties=["astrology"], online_visit_types=[str(theirs.public_id)], biography="X"
        ),
    )

    assert response.status_code == 400
    page = parse(response)
    assert "Choose from the listed values." in page.one("div", id="id_specialties_error").text
    assert page.find("div", id="id_online_visit_types_error") is not None
    profile = profile_of(practice, provider)
    assert profile.biography == "" and not profile.online_visit_types.exists()


def test_text_with_a_nul_character_or_too_long_is_refused_without_a_500(client, practice, provider):
    sign_in(client, provider)
    for data in (form_data(biography="Hi\x00there"), form_data(insurance_accepted="A" * 2001)):
        response = client.post(page_url(provider), data)
        assert response.status_code == 400
    assert profile_of(practice, provider).biography == ""


def test_changing_the_npi_withdraws_the_attestation(client, practice, provider, ready):
    services.profile_status_set(provider, profile=ready, on=True)
    assert selectors.is_public(ready)
    sign_in(client, provider)
    other_valid = "1245319599"

    response = client.post(
        page_url(provider), form_data(ready.online_visit_types.get(), npi=other_valid)
    )

    assert response.status_code == 302
    profile = profile_of(practice, provider)
    assert profile.npi == other_valid
    assert not profile.npi_attested and profile.npi_attested_by is None
    assert not selectors.is_public(profile)
    page = parse(client.get(page_url(provider)))
    assert "needs an administrator's attestation" in page.text
    assert checklist_on_page(page)["attested"] == "Missing"
    assert page.find("a", text="View your online profile") is None
    assert "the profile is on but does not appear in search results" in page.text


def test_saving_the_same_npi_keeps_the_attestation(client, practice, provider, ready):
    sign_in(client, provider)

    client.post(page_url(provider), form_data(ready.online_visit_types.get(), biography="Hello"))

    profile = profile_of(practice, provider)
    assert profile.biography == "Hello" and profile.npi_attested


# --- The checklist and Online profile status ----------------------------------------------------


def test_with_every_condition_met_the_profile_turns_on_and_links_to_its_public_page(
    client, practice, provider, ready
):
    sign_in(client, provider)
    page = parse(client.get(page_url(provider)))
    assert checklist_on_page(page) == {
        "credential": "Done",
        "npi": "Done",
        "attested": "Done",
        "visit_types": "Done",
    }
    assert page.find("a", text="View your online profile") is None

    response = client.post(status_url(provider), {"status": "on"})

    assert response.status_code == 302
    profile = profile_of(practice, provider)
    assert profile.is_on and selectors.is_public(profile)
    assert AuditEvent.objects.filter(action="online_profile.on", actor=provider).exists()
    page = parse(client.get(page_url(provider)))
    assert "The online profile is on." in page.text
    link = page.one("a", text="View your online profile")
    assert link["href"].endswith(f"/doctor/paula-provider-md-{profile.number}")
    assert page.one("input", id="profile-status-on").get("checked") is not None


def _refused_on(client, provider, practice, label):
    response = client.post(status_url(provider), {"status": "on"})
    assert response.status_code == 400
    page = parse(response)
    error = page.one("p", id="profile-status-error").text
    assert error.startswith("The profile cannot be turned on yet:")
    assert label in error
    assert (
        checklist_on_page(page)[
            {
                CREDENTIAL: "credential",
                NPI_VALID: "npi",
                ATTESTED: "attested",
                VISIT_TYPES: "visit_types",
            }[label]
        ]
        == "Missing"
    )
    assert not profile_of(practice, provider).is_on
    assert not AuditEvent.objects.filter(action="online_profile.on").exists()
    return error


def test_a_provider_without_an_md_do_np_or_pa_credential_cannot_turn_it_on(
    client, practice, provider, ready
):
    Membership.objects.filter(user=provider, practice=practice).update(credential="")
    sign_in(client, provider)

    error = _refused_on(client, provider, practice, CREDENTIAL)

    assert NPI_VALID not in error and ATTESTED not in error and VISIT_TYPES not in error


def test_without_a_valid_npi_the_profile_cannot_turn_on(client, practice, provider, ready):
    # A number saved before the check existed (or changed behind the page's back).
    ProviderProfile.objects.filter(pk=ready.pk).update(npi="1234567894")
    sign_in(client, provider)

    error = _refused_on(client, provider, practice, NPI_VALID)

    assert CREDENTIAL not in error


def test_without_an_npi_at_all_the_profile_cannot_turn_on(client, practice, provider, follow_up):
    profile = services.profile_ensure(provider, practice=practice, provider=provider)
    services.profile_save(provider, profile=profile, online_visit_types=[follow_up])
    sign_in(client, provider)

    error = _refused_on(client, provider, practice, NPI_VALID)

    assert ATTESTED in error and VISIT_TYPES not in error


def test_an_npi_nobody_attested_keeps_the_profile_off(client, practice, provider, ready, admin):
    services.npi_attest(admin, profile=ready, attested=False)
    sign_in(client, provider)

    error = _refused_on(client, provider, practice, ATTESTED)

    assert NPI_VALID not in error


def test_without_a_visit_type_offered_online_the_profile_cannot_turn_on(
    client, practice, provider, ready
):
    ready.online_visit_types.clear()
    sign_in(client, provider)

    error = _refused_on(client, provider, practice, VISIT_TYPES)

    assert ATTESTED not in error


def test_a_retired_visit_type_does_not_count_as_offered_online(
    client, practice, provider, ready, follow_up, admin
):
    from portico.scheduling.services import visit_type_save

    visit_type_save(
        admin,
        practice=practice,
        visit_type=follow_up,
        name=follow_up.name,
        duration_minutes=20,
        is_active=False,
    )
    sign_in(client, provider)

    _refused_on(client, provider, practice, VISIT_TYPES)


def test_turning_it_off_and_a_bad_choice(client, practice, provider, ready):
    services.profile_status_set(provider, profile=ready, on=True)
    sign_in(client, provider)

    assert client.post(status_url(provider), {"status": "maybe"}).status_code == 400
    assert profile_of(practice, provider).is_on

    response = client.post(status_url(provider), {"status": "off"})

    assert response.status_code == 302
    assert not profile_of(practice, provider).is_on
    assert (
        "it no longer appears in search results" in client.get(page_url(provider)).content.decode()
    )


# --- NPI attestation -------------------------------------------------------------------------


def test_an_administrator_attests_the_npi_and_withdraws_it(
    client, admin, practice, provider, follow_up
):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(admin, profile=profile, npi=VALID_NPI, online_visit_types=[follow_up])
    sign_in(client, admin)
    page = parse(client.get(page_url(provider)))
    assert page.one("button", text="Attest NPI")
    assert "The NPI 1234567893 is not attested yet." in page.text

    response = client.post(attest_url(provider), {"attested": "yes"})

    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.npi_attested and profile.npi_attested_by == admin
    page = parse(client.get(page_url(provider)))
    assert "The NPI is attested." in page.text
    assert "Attested by Ada Admin." in page.text
    assert page.one("button", text="Withdraw the attestation")

    client.post(attest_url(provider), {"attested": "no"})

    profile.refresh_from_db()
    assert not profile.npi_attested
    assert [
        e.action
        for e in AuditEvent.objects.filter(action__startswith="online_profile.npi").order_by("pk")
    ] == [
        "online_profile.npi_attest",
        "online_profile.npi_unattest",
    ]


def test_a_provider_sees_whether_their_npi_is_attested_but_cannot_attest_it(
    client, practice, provider, follow_up
):
    profile = services.profile_ensure(provider, practice=practice, provider=provider)
    services.profile_save(provider, profile=profile, npi=VALID_NPI)
    sign_in(client, provider)

    assert client.post(attest_url(provider), {"attested": "yes"}).status_code == 403

    profile.refresh_from_db()
    assert not profile.npi_attested
    assert "is not attested yet" in client.get(page_url(provider)).content.decode()


def test_attesting_without_an_npi_says_so_and_changes_nothing(client, admin, practice, provider):
    sign_in(client, admin)

    response = client.post(attest_url(provider), {"attested": "yes"})

    assert response.status_code == 400
    assert (
        "Enter a valid NPI before attesting it." in parse(response).one("p", id="attest-error").text
    )
    assert not profile_of(practice, provider).npi_attested
    assert client.post(attest_url(provider), {"attested": "perhaps"}).status_code == 400


# --- Embedding ---------------------------------------------------------------------------------


def test_the_page_gives_the_embed_code_and_the_plain_booking_link(
    client, settings, practice, provider, ready
):
    settings.PORTICO_BASE_URL = "https://portico.example"
    services.profile_status_set(provider, profile=ready, on=True)
    sign_in(client, provider)

    page = parse(client.get(page_url(provider)))

    snippet = page.one("textarea", id="profile-snippet")
    assert snippet.get("readonly") is not None
    assert page.one("label", for_="profile-snippet").text == "Code to paste into your website"
    code = parse(snippet.text)
    frame = code.one("iframe")
    assert frame["src"] == f"https://portico.example/external/appointment/{ready.booking_id}"
    assert frame["title"] == "Book an appointment with Dr. Paula Provider"
    book = f"https://portico.example/doctor/paula-provider-md-{ready.number}/book"
    assert page.one("a", href=book).text == book


def test_a_name_with_markup_is_escaped_in_the_embed_code(client, practice, provider, ready):
    provider.full_name = 'Dr. "Quote" <b>Bold</b>'
    provider.save()
    sign_in(client, provider)

    html = client.get(page_url(provider)).content.decode()

    assert "<b>Bold</b>" not in html
    page = parse(html)
    frame = parse(page.one("textarea", id="profile-snippet").text).one("iframe")
    assert frame["title"] == 'Book an appointment with Dr. "Quote" <b>Bold</b>'


# --- Online booking on your website --------------------------------------------------------------


def test_only_administrators_open_online_booking_on_your_website(
    client, admin, provider, staff, practice
):
    for user in (provider, staff):
        sign_in(client, user)
        assert client.get(WEBSITE).status_code == 403
        assert client.post(WEBSITE, {"origins": "https://evil.example"}).status_code == 403
    practice.refresh_from_db()
    assert practice.booking_embed_origins == ""
    sign_in(client, admin)
    page = parse(client.get(WEBSITE))
    nav = page.one("nav", class_="settings-nav")
    assert nav.one("a", text="Online booking")["aria-current"] == "page"
    assert page.one("h2", text="Online booking on your website")


def test_an_administrator_lists_the_websites_and_sees_each_providers_code(
    client, admin, practice, provider, second_provider, ready
):
    services.profile_status_set(admin, profile=ready, on=True)
    sign_in(client, admin)

    response = client.post(
        WEBSITE,
        {"origins": "https://www.Example.org/\n\nhttp://localhost:8080\nhttps://www.example.org"},
    )

    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.embed_origins == ["https://www.example.org", "http://localhost:8080"]
    event = AuditEvent.objects.get(action="settings.booking_embed_origins")
    assert event.actor == admin
    assert event.details == {"origins": ["https://www.example.org", "http://localhost:8080"]}
    page = parse(client.get(WEBSITE))
    assert "The list of websites is saved." in page.text
    assert page.one("textarea", id="id_origins").text == (
        "https://www.example.org http://localhost:8080"
    )
    # The provider with a public profile: its code; the one without a profile: a link to set it up.
    frame = parse(page.one("textarea", id="provider-1-snippet").text).one("iframe")
    assert frame["src"].endswith(f"/external/appointment/{ready.booking_id}")
    assert "No online profile yet." in page.text
    assert page.find("a", href=page_url(second_provider)) is not None


def test_a_bad_website_is_refused_with_a_message_and_nothing_changes(client, admin, practice):
    practice.booking_embed_origins = "https://www.example.org"
    practice.save()
    sign_in(client, admin)

    response = client.post(WEBSITE, {"origins": "https://ok.example.org\nhttps://example.org/book"})

    assert response.status_code == 400
    error = parse(response).one("div", id="id_origins_error").text
    assert "“https://example.org/book”: Give the origin only, without a path" in error
    practice.refresh_from_db()
    assert practice.booking_embed_origins == "https://www.example.org"
    assert not AuditEvent.objects.filter(action="settings.booking_embed_origins").exists()


# --- Spanish -----------------------------------------------------------------------------------


def test_the_pages_render_in_spanish(client, monkeypatch, admin, practice, provider, ready):
    """Staff pages speak English for now (portal.language); with that rule lifted, these pages
    render in Spanish, bad input included, without an error."""
    from portico.portal import language

    monkeypatch.setattr(language, "STAFF_NAMESPACES", frozenset())
    monkeypatch.setattr(language, "STAFF_PATH_PREFIX", "/nothing/")
    sign_in(client, admin)
    with spanish(client):
        for response in (
            client.get(page_url(provider)),
            client.get(WEBSITE),
            client.post(status_url(provider), {"status": "nope"}),
            client.post(attest_url(provider), {"attested": "nope"}),
            client.post(page_url(provider), form_data(npi="12", specialties=["x"])),
            client.post(WEBSITE, {"origins": "ftp://x"}),
            client.get(reverse("practices:users")),
        ):
            assert response.status_code in (200, 400)
            page = parse(response)
            assert page.one("html")["lang"] == "es"
            assert "Configuración de la HCE" in page.text
