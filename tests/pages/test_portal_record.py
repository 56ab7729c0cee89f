"""The patient's side after registration: the record page, revocation, and no way into /ehr/
(SPEC §3.6)."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portico.audit.models import AuditEvent
from portico.portal import services as portal
from portico.portal.models import PortalAccess
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

NO_ACCESS = "Ask your doctor to provide access to your health records."


def record_url(patient) -> str:
    return reverse("records:record", args=[PortalAccess.objects.get(patient=patient).public_id])


def ehr_urls(patient):
    """Every staff URL (under /ehr/), with this practice's chart filled in where one is taken."""
    resolver = get_resolver()
    urls = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if not route.startswith("ehr/"):
                    continue
                route = route.replace("<uuid:patient_id>", str(patient.public_id))
                route = route.replace("<uuid:user_id>", str(patient.practice.public_id))
                # Any other object of the practice: a well-formed id is enough to reach the view.
                route = re.sub(r"<uuid:\w+>", str(patient.public_id), route)
                route = route.replace("<str:kind>", "labs").replace("<str:system>", "icd10cm")
                route = route.replace("<str:client_id>", "no-such-app")
                for action in ("invite", "resend", "cancel", "revoke"):
                    urls.append("/" + route.replace("<str:action>", action))

    walk(resolver.url_patterns, "")
    assert all("<" not in u for u in urls), urls
    return sorted(set(urls))


# -- refusals first ------------------------------------------------------------------------


def test_patient_gets_403_on_every_staff_page(client, admin, patient):
    account = factories.enroll(admin, patient)
    sign_in(client, account)

    urls = ehr_urls(patient)
    assert len(urls) >= 8
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 403, (method, url)
    assert PortalAccess.objects.get(patient=patient).state == "active"


def test_patient_cannot_open_someone_elses_record(client, admin, practice):
    mine = factories.make_patient(practice)
    theirs = factories.make_patient(practice)
    account = factories.enroll(admin, mine, email="me@example.test")
    factories.enroll(admin, theirs, email="them@example.test")
    sign_in(client, account)

    assert client.get(record_url(theirs)).status_code == 404
    assert client.get(reverse("records:record", args=[uuid.uuid4()])).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in_from_the_portal(client, admin, patient):
    factories.enroll(admin, patient)

    for url in (reverse("portal:home"), record_url(patient)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_revoked_patient_sees_access_error_on_the_next_request(client, admin, patient):
    account = factories.enroll(admin, patient)
    sign_in(client, account)
    url = record_url(patient)
    assert patient.full_name in parse(client.get(url)).one("main").text

    portal.access_revoke(admin, patient=patient)
    # Revoking ends the patient's sessions; signed in again, the record stays closed.
    assert client.get(url).status_code == 302
    account.refresh_from_db()
    sign_in(client, account)
    response = client.get(url)

    page = parse(response)
    assert response.status_code == 403
    assert page.one(class_="access-error").text == NO_ACCESS
    assert patient.full_name not in page.one("main").text
    assert patient.email not in page.one("main").text


def test_revoked_patient_home_shows_the_access_error(client, admin, patient):
    account = factories.enroll(admin, patient)
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # revoking ended its sessions (a new session generation)
    sign_in(client, account)

    page = parse(client.get(reverse("portal:home")))
    assert page.one(class_="access-error").text == NO_ACCESS
    assert page.find("a", text="Open record") is None


def test_account_without_any_record_sees_the_access_error(client):
    sign_in(client, factories.make_user())

    page = parse(client.get(reverse("portal:home")))
    assert page.one(class_="access-error").text == NO_ACCESS


# -- the record ----------------------------------------------------------------------------


def test_single_record_home_goes_straight_to_the_record(client, admin, patient):
    sign_in(client, factories.enroll(admin, patient))

    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == record_url(patient)


def test_record_shows_practice_and_demographics(client, admin, patient, practice):
    practice.address_line1 = "12 River Road"
    practice.city = "Springfield"
    practice.save()
    sign_in(client, factories.enroll(admin, patient))

    page = parse(client.get(record_url(patient)))
    assert page.one("h1").text == patient.full_name
    practice_card = page.one("section", aria_labelledby="practice-heading").text
    assert "Riverside Clinic" in practice_card
    assert "(217) 555-0100" in practice_card
    assert "12 River Road" in practice_card
    about = page.one("section", aria_labelledby="about-heading")
    facts = dict(
        zip(
            [d.text for d in about.find_all("dt")],
            [d.text for d in about.find_all("dd")],
            strict=True,
        )
    )
    assert facts["Legal name"] == patient.full_name
    assert facts["Date of birth"] == "April 21, 1980"
    assert facts["Sex"] == "Female"
    assert facts["Email"] == patient.email
    assert facts["Mobile phone"] == "(202) 555-0123"


def test_every_record_view_is_audited(client, admin, patient):
    account = factories.enroll(admin, patient)
    sign_in(client, account)

    client.get(record_url(patient))
    client.get(record_url(patient))

    assert AuditEvent.objects.filter(action="phr.view", patient=patient, actor=account).count() == 2


def test_revoked_record_view_reads_nothing_and_is_not_a_phr_view(client, admin, patient):
    account = factories.enroll(admin, patient)
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # revoking ended its sessions (a new session generation)
    sign_in(client, account)

    client.get(record_url(patient))
    assert not AuditEvent.objects.filter(action="phr.view").exists()
