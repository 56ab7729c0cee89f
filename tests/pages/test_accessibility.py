"""Accessibility basics on the main pages: every control has a label, and dates, emails and
phones use the platform's own inputs (DESIGN "Pages", SPEC §12.1)."""

import pytest
from django.urls import reverse

from portico.charts.services import encounter_create
from portico.practices.models import Membership, Role
from tests import factories
from tests.factories import sign_in
from tests.pages.conftest import account_url, action_url, chart_url, register_url, verify
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


def staff_pages(client, admin, patient):
    # A second practice, so the practice switcher (a <select>) is on the page too.
    Membership.objects.create(
        user=admin, practice=factories.make_practice(), role=Role.ADMINISTRATOR
    )
    sign_in(client, admin)
    client.post(reverse("practices:switch_practice"), {"practice": str(patient.practice.public_id)})
    yield "patient list", client.get(reverse("charts:patient_list"), {"q": "Robin"})
    yield "new patient", client.get(reverse("charts:patient_new"))
    yield "new patient with errors", client.post(reverse("charts:patient_new"), {})
    yield "edit demographics", client.get(reverse("charts:patient_edit", args=[patient.public_id]))
    yield "chart", client.get(chart_url(patient))
    yield "portal window", client.get(chart_url(patient, portal="open"))
    yield "portal window with errors", client.post(action_url(patient, "invite"), {"email": "x"})
    yield (
        "invite confirmation",
        client.post(action_url(patient, "invite"), {"email": patient.email, "phone": ""}),
    )
    factories.invite(admin, patient)
    yield "portal window, pending", client.get(chart_url(patient, portal="open"))
    yield "PHR invite settings", client.get(reverse("practices:phr_invite"))
    yield "users settings", client.get(reverse("practices:users"))
    yield "users settings with errors", client.post(reverse("practices:users"), {"email": "x"})
    yield "patient apps settings", client.get(reverse("fhir_settings:apps"))
    yield (
        "patient apps settings with errors",
        client.post(reverse("fhir_settings:apps"), {"redirect_uris": "http://x.example/cb"}),
    )
    yield "chart summary", client.get(reverse("charts:chart_summary", args=[patient.public_id]))
    yield "new lab result", client.get(reverse("charts:item_new", args=[patient.public_id, "labs"]))
    yield (
        "new lab result with errors",
        client.post(reverse("charts:item_new", args=[patient.public_id, "labs"]), {}),
    )
    yield "new encounter", client.get(reverse("charts:encounter_new", args=[patient.public_id]))
    visit = encounter_create(admin, patient=patient, visit_date=patient.date_of_birth)
    yield (
        "encounter",
        client.get(reverse("charts:encounter", args=[patient.public_id, visit.public_id])),
    )
    yield "profile", client.get(reverse("accounts:profile"))
    yield "change password", client.get(reverse("accounts:password_change"))
    client.logout()
    yield "sign in", client.get(reverse("accounts:sign_in"))


def patient_pages(client, admin, patient):
    invitation = factories.invite(admin, factories.make_patient(patient.practice))
    yield "access your records", client.get(register_url(invitation))
    yield "access your records with errors", verify(client, invitation, dob="x", code="")
    verify(client, invitation)
    yield "set up your account", client.get(account_url(invitation))
    yield (
        "set up your account with errors",
        client.post(account_url(invitation), {"choice": "create"}),
    )
    client.post(
        account_url(invitation),
        {
            "choice": "create",
            "new-email": "robin@home.example",
            "new-password": factories.PASSWORD,
            "new-password_again": factories.PASSWORD,
        },
    )
    yield "record", client.get(reverse("portal:home"), follow=True)
    yield "account settings", client.get(reverse("accounts:profile"))
    yield "connected apps", client.get(reverse("fhir_portal:connected_apps"))


def all_pages(client, admin, patient):
    yield from staff_pages(client, admin, patient)
    yield from patient_pages(client, admin, patient)


def controls(page):
    for el in page.iter():
        if el.tag in ("select", "textarea") or (
            el.tag == "input" and el.get("type", "text") not in UNLABELLED_TYPES
        ):
            yield el


def test_pages_under_test_have_form_controls(client, admin, patient):
    """Guard: the checks below look at real forms, not at empty pages."""
    counted = {name: len(list(controls(parse(r)))) for name, r in all_pages(client, admin, patient)}
    assert all(
        n > 0
        for name, n in counted.items()
        if name not in ("chart", "record", "account settings", "connected apps")
    ), counted


def test_every_control_has_a_label(client, admin, patient):
    for name, response in all_pages(client, admin, patient):
        assert response.status_code == 200, name
        page = parse(response)
        for control in controls(page):
            control_id = control.get("id")
            assert control_id, f"{name}: <{control.tag} name={control.get('name')}> has no id"
            labels = page.find_all("label", for_=control_id)
            assert len(labels) == 1, f"{name}: no label for #{control_id}"
            assert labels[0].text, f"{name}: empty label for #{control_id}"


def test_ids_are_unique_on_each_page(client, admin, patient):
    for name, response in all_pages(client, admin, patient):
        ids = [el["id"] for el in parse(response).iter() if el.get("id")]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids {sorted(ids)}"


def test_dates_emails_and_phones_use_the_platform_inputs(client, admin, patient):
    seen = set()
    for name, response in all_pages(client, admin, patient):
        for control in controls(parse(response)):
            field = control.get("name", "").split("-")[-1]
            kind = control.get("type", "text")
            if "date" in field:
                assert kind == "date", f"{name}: {field} is type={kind}"
                seen.add("date")
            elif "email" in field:
                assert kind == "email", f"{name}: {field} is type={kind}"
                seen.add("email")
            elif "phone" in field:
                assert kind == "tel", f"{name}: {field} is type={kind}"
                seen.add("tel")
    assert seen == {"date", "email", "tel"}


def test_field_errors_are_tied_to_their_field(client, admin, patient):
    sign_in(client, admin)
    page = parse(client.post(reverse("charts:patient_new"), {"email": "nope"}))

    field = page.one("input", name="email")
    assert field.get("aria-invalid") == "true"
    assert "id_email_error" in field.get("aria-describedby", "").split()
    assert page.one(id="id_email_error").get("role") == "alert"


def test_help_text_is_tied_to_its_field(client, admin, patient):
    invitation = factories.invite(admin, patient)
    page = parse(client.get(register_url(invitation)))

    field = page.one("input", name="access_code")
    assert page.one(id="id_access_code_helptext").text.startswith("The 8-character code")
    assert "id_access_code_helptext" in field.get("aria-describedby", "").split()


def test_pages_have_one_main_heading_and_a_language(client, admin, patient):
    for name, response in all_pages(client, admin, patient):
        page = parse(response)
        assert page.one("html")["lang"] == "en", name
        assert len(page.find_all("h1")) == 1, name
