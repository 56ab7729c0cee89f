"""SPEC §6.1: the patient sees exactly what the practice shared, section by section."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.audit.services import audit_record
from portico.charts import services as chart_services
from portico.charts.models import EncounterAmendment
from portico.portal import registration
from portico.portal import services as portal
from portico.scheduling.models import AppointmentStatus
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse
from tests.records import builders
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db

SECTION_HEADINGS = {
    "problems": "problems-heading",
    "medications": "medications-heading",
    "allergies": "allergies-heading",
    "immunizations": "immunizations-heading",
    "procedures": "procedures-heading",
    "care_plans": "careplans-heading",
    "labs": "labs-heading",
    "vitals": "vitals-heading",
    "assessments": "assessments-heading",
}


def section(page, key):
    return page.one("section", aria_labelledby=SECTION_HEADINGS.get(key, key))


@pytest.mark.parametrize("key", list(builders.SECTIONS))
def test_shared_item_appears_in_its_section(patient_client, patient, key):
    build, text = builders.SECTIONS[key]
    build(patient, shared=True)

    page = parse(patient_client.get(record_url(patient)))
    assert text in section(page, key).text


@pytest.mark.parametrize("key", list(builders.SECTIONS))
def test_unshared_item_leaves_no_trace_not_even_a_count(patient_client, patient, key):
    build, text = builders.SECTIONS[key]
    build(patient, shared=False)

    response = patient_client.get(record_url(patient))
    page = parse(response)
    assert text not in response.content.decode()
    body = section(page, key)
    assert "Nothing shared yet." in body.text
    assert not re.search(r"\b1\b", body.text)
    assert body.find("tr") is None or len(body.find_all("tr")) <= 1  # header row at most


@pytest.mark.parametrize("key", list(builders.SECTIONS))
def test_unsharing_hides_the_item_again(patient_client, patient, provider, key):
    build, text = builders.SECTIONS[key]
    item = build(patient, shared=True)
    assert text in section(parse(patient_client.get(record_url(patient))), key).text

    chart_services.item_share(provider, item=item, shared=False)

    assert text not in patient_client.get(record_url(patient)).content.decode()


def test_staff_edits_after_sharing_show_the_new_values(patient_client, patient, provider):
    lab = builders.lab(patient, shared=True, value="8.1")
    builders.lab(patient, shared=False, display="Potassium", value="9.9")
    patient_client.get(record_url(patient))

    chart_services.item_update(provider, item=lab, value="6.2", flag="N")

    labs = section(parse(patient_client.get(record_url(patient))), "labs")
    assert "6.2" in labs.text
    assert "8.1" not in labs.text
    assert "Potassium" not in labs.text
    assert labs.find(class_="lab-flag") is None


def test_abnormal_lab_is_marked_in_words_and_visually(patient_client, patient):
    builders.lab(patient, flag="H", display="Hemoglobin A1c")
    builders.lab(patient, flag="L", display="Ferritin", value="8", value_number=8)
    builders.lab(patient, flag="N", display="Sodium", value="140", value_number=140)

    labs = section(parse(patient_client.get(record_url(patient))), "labs")
    rows = {r.find_all("td")[0].text: r for r in labs.find("tbody").find_all("tr")}
    assert "High" in rows["Hemoglobin A1c"].one(class_="lab-flag").text
    assert "lab-abnormal" in rows["Hemoglobin A1c"]["class"]
    assert "Low" in rows["Ferritin"].one(class_="lab-flag").text
    assert rows["Sodium"].get("class") is None
    assert "Normal" in rows["Sodium"].text
    # The arrow is decoration; the word carries the meaning for screen readers.
    assert rows["Hemoglobin A1c"].one(aria_hidden="true").text.strip() == "▲"


def test_lists_are_newest_first_with_readable_labels_not_codes(patient_client, patient):
    builders.problem(patient, recorded_on=dt.date(2020, 1, 1), display="Asthma", code="J45.909")
    builders.problem(patient, recorded_on=dt.date(2023, 6, 1), display="Hypertension", code="I10")

    problems = section(parse(patient_client.get(record_url(patient))), "problems")
    names = [r.find_all("td")[0].text for r in problems.find("tbody").find_all("tr")]
    assert names == ["Hypertension", "Asthma"]
    assert "I10" not in problems.text
    assert "J45.909" not in problems.text


def test_encounter_summary_shows_only_when_signed_and_shared(patient_client, patient, provider):
    builders.encounter(patient, provider, signed=False, shared=True, note="Draft note")
    builders.encounter(patient, provider, signed=True, shared=False, note="Private note")
    builders.encounter(patient, provider, signed=True, shared=True, note="Shared summary")

    response = patient_client.get(record_url(patient))
    visits = section(parse(response), "visits-heading")
    assert "Shared summary" in visits.text
    assert "Dr. Paula Provider" in visits.text
    assert "Draft note" not in response.content.decode()
    assert "Private note" not in response.content.decode()
    assert len(visits.find_all("article")) == 1


def test_amendments_of_a_shared_encounter_are_shown_with_it(patient_client, patient, provider):
    shared = builders.encounter(patient, provider, note="First version")
    hidden = builders.encounter(patient, provider, shared=False, note="Hidden")
    EncounterAmendment.objects.create(encounter=shared, text="Corrected dose.", author=provider)
    EncounterAmendment.objects.create(encounter=hidden, text="Secret amendment", author=provider)

    response = patient_client.get(record_url(patient))
    visit = section(parse(response), "visits-heading").one("article")
    assert "First version" in visit.text
    assert "Corrected dose." in visit.one(class_="amendment").text
    assert "Secret amendment" not in response.content.decode()


def test_appointments_past_and_upcoming(patient_client, patient, provider):
    builders.appointment(patient, provider, days_from_now=10, visit_type="Annual physical")
    builders.appointment(patient, provider, days_from_now=-30, visit_type="Flu visit")
    builders.appointment(
        patient, provider, days_from_now=-60, visit_type="Old", status=AppointmentStatus.CANCELLED
    )

    appointments = section(parse(patient_client.get(record_url(patient))), "appointments-heading")
    upcoming, past = appointments.find_all("ul")
    assert "Annual physical" in upcoming.text and "Confirmed" in upcoming.text
    assert "Flu visit" in past.text
    assert "Cancelled" in past.text
    assert [li.text.count("Flu visit") for li in past.find_all("li")] == [1, 0]


def test_nothing_of_another_chart_appears(patient_client, patient, practice, provider):
    other = factories.make_patient(practice)
    for build, _text in builders.SECTIONS.values():
        build(other, display="Other person's item") if build not in (
            builders.care_plan,
            builders.vital,
        ) else build(other)
    builders.encounter(other, provider, note="Other person's visit")

    response = patient_client.get(record_url(patient))
    html = response.content.decode()
    assert "Other person" not in html
    assert html.count("Nothing shared yet.") == len(builders.SECTIONS)


RECORD_PAGES = (
    "records:record",
    "records:download",
    "records:download_fhir",
    "records:send",
    "records:access_log",
)


def test_query_count_is_fixed_whatever_the_size_of_the_record(
    client, admin, provider, practice, django_assert_max_num_queries
):
    small, large = factories.make_patient(practice), factories.make_patient(practice)
    builders.full_record(small, provider, n=5)
    builders.full_record(large, provider, n=200)
    accounts = {}
    for patient, reads in ((small, 5), (large, 200)):
        for _ in range(reads):
            audit_record(provider, action="chart.view", practice=practice, patient=patient)
        accounts[patient] = factories.enroll(admin, patient)

    for name in RECORD_PAGES:
        counts = []
        for patient in (small, large):
            sign_in(client, accounts[patient])
            with CaptureQueriesContext(connection) as queries:
                response = client.get(record_url(patient, name))
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1], (name, counts)
        with django_assert_max_num_queries(counts[0]):
            client.get(record_url(large, name))


def test_every_read_is_audited(patient_client, patient, account):
    for name in ("records:record", "records:send", "records:access_log"):
        patient_client.get(record_url(patient, name))
    for name in ("records:download", "records:download_fhir"):
        patient_client.get(record_url(patient, name))

    views = AuditEvent.objects.filter(patient=patient, actor=account)
    assert sorted(e.details["page"] for e in views.filter(action="phr.view")) == [
        "access log",
        "home",
        "sent links",
    ]
    assert sorted(e.details["format"] for e in views.filter(action="phr.download")) == [
        "fhir",
        "html",
    ]


@pytest.mark.parametrize("name", RECORD_PAGES)
def test_revoked_access_shows_only_the_access_error(client, admin, patient, account, name):
    builders.lab(patient)
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # revoking ended its sessions; it signs in again
    sign_in(client, account)

    response = client.get(record_url(patient, name))
    assert response.status_code == 403
    page = parse(response)
    assert page.one(class_="access-error").text == (
        "Ask your doctor to provide access to your health records."
    )
    assert "Hemoglobin" not in response.content.decode()
    assert not AuditEvent.objects.filter(action__in=["phr.view", "phr.download"]).exists()


def test_account_with_several_charts_picks_one(client, admin, practice, other_practice):
    mine = factories.make_patient(practice)
    elsewhere = factories.make_patient(other_practice)
    account = factories.enroll(admin, mine, email="me@example.test")
    other_admin = factories.make_admin(other_practice)
    invitation = factories.invite(other_admin, elsewhere)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    builders.lab(mine, display="Mine only")
    builders.lab(elsewhere, display="Elsewhere only")
    sign_in(client, account)

    home = parse(client.get(reverse("portal:home")))
    assert len(home.find_all("a", text="Open record")) == 2
    html = client.get(record_url(elsewhere)).content.decode()
    assert "Elsewhere only" in html
    assert "Mine only" not in html
