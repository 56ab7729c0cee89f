"""The chart's Appointments tab (SPEC §8.4): the chart's appointments, upcoming first, then the
past and cancelled ones, each opening its page in the book, and a link to book another. A chart
page like the others: audited as a chart read, another practice's chart is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.scheduling.services import appointment_book, appointment_cancel
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse
from tests.scheduling.conftest import NOW, at

pytestmark = pytest.mark.django_db

MONDAY = NOW.date()


def tab_url(patient):
    return reverse("charts:appointments", args=[patient.public_id])


@pytest.fixture
def history(now, staff, patient, provider, follow_up, hours):
    """A visit last week (recorded), two upcoming ones and a cancelled one."""

    def book(start, **kw):
        return appointment_book(
            staff,
            patient=patient,
            provider=provider,
            appointment_type=follow_up,
            start_at=start,
            **kw,
        )

    past = book(at(MONDAY - dt.timedelta(days=7), 9), allow_past=True, status="fulfilled")
    later = book(at(MONDAY + dt.timedelta(days=3), 14))
    sooner = book(at(MONDAY + dt.timedelta(days=1), 9, 40), reason="Cough")
    cancelled = book(at(MONDAY + dt.timedelta(days=2), 10))
    appointment_cancel(staff, appointment=cancelled, reason="Travel")
    return {"past": past, "later": later, "sooner": sooner, "cancelled": cancelled}


def rows(page, heading):
    section = page.one("h3", text=heading).closest("section")
    return [[td.text for td in tr.find_all("td")] for tr in section.one("tbody").find_all("tr")]


def test_the_tab_lists_upcoming_appointments_soonest_first_then_the_past_and_cancelled(
    client, staff, patient, history
):
    sign_in(client, staff)

    response = client.get(tab_url(patient))

    assert response.status_code == 200
    page = parse(response)
    assert rows(page, "Upcoming") == [
        ["December 8, 2026, 9:40 AM", "Dr. Paula Provider", "Follow-up", "Practice address",
         "● Confirmed"],
        ["December 10, 2026, 2:00 PM", "Dr. Paula Provider", "Follow-up", "Practice address",
         "● Confirmed"],
    ]  # fmt: skip
    assert [r[0] for r in rows(page, "Past and cancelled")] == [
        "December 9, 2026, 10:00 AM",
        "November 30, 2026, 9:00 AM",
    ]
    assert [r[-1] for r in rows(page, "Past and cancelled")] == ["✕ Cancelled", "✓ Completed"]
    first = page.one("a", text="December 8, 2026, 9:40 AM")
    assert first["href"] == reverse("scheduling:appointment", args=[history["sooner"].public_id])


def test_the_tab_links_to_booking_for_this_chart_and_is_in_the_charts_navigation(
    client, staff, patient, history
):
    sign_in(client, staff)

    page = parse(client.get(tab_url(patient)))

    book = page.one("a", text="Book an appointment")
    assert book["href"] == f"{reverse('scheduling:book')}?patient={patient.public_id}"
    tab = page.one("nav", aria_label="Chart").one("a", text="Appointments")
    assert tab["href"] == tab_url(patient) and tab["aria-current"] == "page"
    other_tab = parse(client.get(reverse("charts:timeline", args=[patient.public_id])))
    assert other_tab.one("a", text="Appointments").get("aria-current") is None


def test_a_chart_without_appointments_says_so(client, now, staff, patient):
    sign_in(client, staff)

    page = parse(client.get(tab_url(patient)))

    assert page.one("p", text="No upcoming appointments.")
    assert page.one("p", text="No past appointments.")


def test_opening_the_tab_is_an_audited_read_of_the_chart(client, staff, patient, history):
    sign_in(client, staff)

    client.get(tab_url(patient))

    event = AuditEvent.objects.filter(action="chart.view").latest("id")
    assert event.actor == staff and event.patient == patient
    assert event.details == {"page": "appointments"}


def test_another_practices_chart_is_404_and_a_patient_gets_403(
    client, now, admin, outsider, patient, history
):
    sign_in(client, outsider)
    assert client.get(tab_url(patient)).status_code == 404
    assert not AuditEvent.objects.filter(action="chart.view", actor=outsider).exists()

    client.logout()
    sign_in(client, factories.enroll(admin, patient))
    assert client.get(tab_url(patient)).status_code == 403
