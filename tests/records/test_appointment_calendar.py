"""The portal's calendar files (SPEC §8.7): each upcoming appointment in the patient's record
shows where it is and offers its .ics, the same file the emails carry; only the patient's own
appointments, and every download audited."""

import pytest
from django.conf import settings
from django.core import mail
from django.http import Http404
from icalendar import Calendar

from portico.audit.models import AuditEvent
from portico.portal import services as portal
from portico.portal.models import PortalAccess
from portico.records import services as record_services
from portico.scheduling.models import AppointmentStatus
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse
from tests.records import builders
from tests.records.conftest import record_url
from tests.records.test_record_spanish import spanish_get
from tests.scheduling.mail import PRACTICE_ADDRESS, give_address

pytestmark = pytest.mark.django_db
ADD = "Add to calendar (.ics)"


def calendar_url(patient, appointment) -> str:
    return record_url(patient, "records:appointment_calendar", appointment.public_id)


def upcoming(page):
    return page.one("section", aria_labelledby="appointments-heading").find("ul")


@pytest.fixture
def ahead(patient, provider, practice):
    give_address(practice)
    return builders.appointment(patient, provider, days_from_now=5, reason="Knee pain")


def test_the_patient_downloads_an_upcoming_appointments_calendar_file_and_it_is_audited(
    patient_client, patient, account, ahead
):
    response = patient_client.get(calendar_url(patient, ahead))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="appointment.ics"'
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"{ahead.public_id}@{settings.PORTICO_MAIL_DOMAIN}"
    assert "12 Elm Street" in str(event["location"])
    assert "Knee pain" not in response.content.decode()
    event = AuditEvent.objects.get(action="phr.download")
    assert event.actor == account and event.patient == patient
    assert event.details == {"format": "ics", "appointment": str(ahead.public_id)}


def test_another_charts_appointment_is_a_404_and_reads_nothing(
    patient_client, patient, practice, provider
):
    other = factories.make_patient(practice)
    theirs = builders.appointment(other, provider, days_from_now=5)

    assert patient_client.get(calendar_url(patient, theirs)).status_code == 404
    assert not AuditEvent.objects.filter(action="phr.download").exists()


def test_another_accounts_access_is_a_404(client, admin, patient, practice, provider):
    mine = factories.make_patient(practice)
    sign_in(client, factories.enroll(admin, mine, email="me@example.test"))
    factories.enroll(admin, patient, email="them@example.test")
    theirs = builders.appointment(patient, provider, days_from_now=5)

    # Their access id with their appointment, from my session.
    assert client.get(calendar_url(patient, theirs)).status_code == 404


def test_a_revoked_access_gets_the_access_error_and_no_file(
    patient_client, patient, admin, account, ahead
):
    portal.access_revoke(admin, patient=patient)
    account.refresh_from_db()  # revoking ended its sessions
    sign_in(patient_client, account)

    response = patient_client.get(calendar_url(patient, ahead))

    assert response.status_code == 403
    assert b"BEGIN:VCALENDAR" not in response.content
    assert not AuditEvent.objects.filter(action="phr.download").exists()


def test_the_service_refuses_a_download_for_an_access_that_is_not_the_accounts(
    patient, account, admin, practice, ahead
):
    stranger = factories.make_user()
    with pytest.raises(Http404):
        record_services.record_downloaded(
            stranger, access=PortalAccess.objects.get(patient=patient), fmt="ics", appointment=ahead
        )


def test_upcoming_appointments_show_where_they_are_and_link_their_calendar_file(
    patient_client, patient, provider, ahead
):
    cancelled = builders.appointment(
        patient, provider, days_from_now=6, status=AppointmentStatus.CANCELLED
    )
    builders.appointment(patient, provider, days_from_now=-5)

    page = parse(patient_client.get(record_url(patient)))

    items = upcoming(page).find_all("li")
    assert len(items) == 2
    line1, line2, city, state, postal = PRACTICE_ADDRESS
    place = f"Where: {line1}, {line2}, {city}, {state} {postal}"
    assert place in items[0].text
    link = items[0].one("a", text=ADD)
    assert link["href"] == calendar_url(patient, ahead)
    assert items[1].find("a", text=ADD) is None  # cancelled: nothing to add
    assert str(cancelled.public_id) not in str(items[1].attrs)
    past = page.one("section", aria_labelledby="appointments-heading").find_all("ul")[1]
    assert past.find("a", text=ADD) is None


@pytest.mark.parametrize("patient_first", [True, False])
def test_the_printable_record_and_a_shared_link_offer_no_calendar_file_though_cached(
    patient_client, patient, ahead, send_email, settings, patient_first
):
    # The patient's rendering (with links) and the others' (without) are cached apart.
    settings.PORTICO_RECORD_CACHE_SECONDS = 600
    with send_email:
        patient_client.post(record_url(patient, "records:send"), {"email": "dr@example.org"})
    shared = "/shared/" + mail.outbox[-1].body.split("/shared/")[1].split("/")[0] + "/"
    pages = [record_url(patient), record_url(patient, "records:download"), shared]
    for url in pages if patient_first else reversed(pages):
        html = patient_client.get(url).content.decode()
        assert (ADD in html) == (url == record_url(patient)), url


def test_the_calendar_link_and_place_read_in_spanish(patient_client, patient, ahead):
    page = parse(spanish_get(patient_client, record_url(patient)))

    items = upcoming(page).find_all("li")
    assert items[0].one("a", text="Agregar al calendario (.ics)")
    assert "Dónde: 12 Elm Street" in items[0].text


def test_the_calendar_file_follows_the_pages_language(patient_client, patient, ahead):
    response = spanish_get(patient_client, calendar_url(patient, ahead))

    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["summary"]).startswith("Cita con Dr. Paula Provider")
