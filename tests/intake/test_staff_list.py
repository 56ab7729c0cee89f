"""The staff's Intake list of a day (SPEC §10.3): appointments of the day in four buckets (to
send, waiting, submitted, processed) with counts, per provider; cancelled appointments left
out; a fixed number of queries whatever the number of appointments; an audited list read."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.intake import services
from portico.practices.models import Role
from portico.scheduling.models import Appointment
from portico.scheduling.services import appointment_book, appointment_cancel
from tests import factories
from tests.factories import sign_in
from tests.intake.conftest import at

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 9)  # the Wednesday of the `appointment` fixture


def book(staff, patient, provider, visit_type, hour, minute=0, day=DAY):
    return appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=at(day, hour, minute),
        check_hours=False,
    )


def fill_and_submit(form):
    """The follow-up form answered by the patient (through the emailed link) and submitted."""
    services.form_save(
        None,
        form=form,
        answers={
            "reason": "Check my blood pressure",
            "changed": "no",
            "allergies": {"none": True},
            "medications": {"added": [{"name": "Aspirin", "instructions": "Daily"}]},
        },
    )
    return services.form_submit(None, form=form)


@pytest.fixture
def day_of_forms(now, staff, practice, provider, follow_up, follow_up_template, hours):
    """Five appointments on Wednesday: one with no form, one waiting, one started (waiting),
    one submitted, one processed; and a cancelled one with a form (left out)."""
    patients = [
        factories.make_patient(practice, legal_first_name=name, legal_last_name="Intake")
        for name in ("Ann", "Ben", "Cat", "Dan", "Eve", "Fay")
    ]
    visits = [book(staff, p, provider, follow_up, 9 + n) for n, p in enumerate(patients)]
    send = [
        services.form_send(staff, appointment=a, template=follow_up_template) for a in visits[1:]
    ]
    services.form_save(None, form=send[1], answers={"reason": "Half done"})
    fill_and_submit(send[2])
    fill_and_submit(send[3])
    services.form_process(staff, form=send[3])
    appointment_cancel(staff, appointment=visits[5], reason="Patient called")
    return {"patients": patients, "visits": visits}


def bucket_count(page: str, bucket: str) -> str:
    marker = f'data-bucket-count="{bucket}">('
    return page.split(marker, 1)[1].split(")", 1)[0]


def test_the_day_shows_each_appointment_in_its_bucket_with_counts(client, staff, day_of_forms):
    sign_in(client, staff)
    response = client.get(reverse("intake:list"), {"date": "2026-12-09"})
    page = response.content.decode()
    assert response.status_code == 200
    assert [bucket_count(page, b) for b in ("to_send", "waiting", "submitted", "processed")] == [
        "1",
        "2",
        "1",
        "1",
    ]
    for name in ("Ann", "Ben", "Cat", "Dan", "Eve"):
        assert f"{name} Intake" in page
    assert "Fay Intake" not in page  # the cancelled appointment is left out
    assert page.count('data-bucket="waiting"') == 2
    assert "Send form" in page and "Resend" in page and "Withdraw" in page and "Open" in page


def test_a_bucket_can_be_shown_alone(client, staff, day_of_forms):
    sign_in(client, staff)
    page = client.get(
        reverse("intake:list"), {"date": "2026-12-09", "bucket": "submitted"}
    ).content.decode()
    assert "Dan Intake" in page
    assert "Ann Intake" not in page and "Ben Intake" not in page
    # The counts of every bucket stay on the tabs.
    assert bucket_count(page, "waiting") == "2"


def test_the_list_is_per_provider(client, staff, practice, provider, follow_up, day_of_forms):
    other = factories.make_staff(practice, role=Role.PROVIDER, full_name="Dr. Olga Other")
    patient = factories.make_patient(practice, legal_first_name="Gus", legal_last_name="Intake")
    book(staff, patient, other, follow_up, 9)
    sign_in(client, staff)
    everyone = client.get(reverse("intake:list"), {"date": "2026-12-09"}).content.decode()
    assert "Gus Intake" in everyone and bucket_count(everyone, "to_send") == "2"
    olga = client.get(
        reverse("intake:list"), {"date": "2026-12-09", "provider": str(other.public_id)}
    ).content.decode()
    assert "Gus Intake" in olga and "Ann Intake" not in olga
    assert [bucket_count(olga, b) for b in ("to_send", "waiting", "submitted", "processed")] == [
        "1",
        "0",
        "0",
        "0",
    ]


def test_the_day_defaults_to_today_in_the_practice_and_links_to_the_days_around(
    client, staff, day_of_forms
):
    sign_in(client, staff)
    page = client.get(reverse("intake:list")).content.decode()
    assert "Monday, December 7, 2026" in page
    assert "date=2026-12-06" in page and "date=2026-12-08" in page
    assert "No appointments on this day." in page


def test_the_send_form_chooses_the_visit_types_automatic_template(
    client, admin, staff, follow_up, new_patient_template, day_of_forms
):
    services.visit_type_intake_set(admin, visit_type=follow_up, template=new_patient_template)
    sign_in(client, staff)
    page = client.get(reverse("intake:list"), {"date": "2026-12-09"}).content.decode()
    assert f'<option value="{new_patient_template.public_id}" selected>' in page


def test_the_list_is_an_audited_read_of_the_charts_it_shows(client, staff, day_of_forms):
    sign_in(client, staff)
    client.get(reverse("intake:list"), {"date": "2026-12-09"})
    event = AuditEvent.objects.filter(action="chart.list").latest("id")
    assert event.actor_id == staff.pk
    assert event.details["page"] == "intake list"
    assert sorted(event.details["charts"]) == sorted(
        str(p.public_id) for p in day_of_forms["patients"][:5]
    )


def test_a_bad_date_or_provider_shows_a_message_and_the_default(client, staff, day_of_forms):
    sign_in(client, staff)
    response = client.get(reverse("intake:list"), {"date": "2026-13-45", "provider": "nobody"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a date such as 2026-12-09" in page
    assert "Choose one of the practice&#x27;s providers" in page
    assert "Monday, December 7, 2026" in page


def test_the_staff_navigation_links_to_the_intake_list(client, staff, now):
    sign_in(client, staff)
    page = client.get(reverse("intake:list")).content.decode()
    assert f'<a href="{reverse("intake:list")}" aria-current="page">Intake</a>' in page


def test_the_list_is_for_members_of_the_practice(client, now):
    sign_in(client, factories.make_user())
    assert client.get(reverse("intake:list")).status_code == 403


def test_another_practices_appointments_are_not_listed(client, outsider, day_of_forms):
    sign_in(client, outsider)
    page = client.get(reverse("intake:list"), {"date": "2026-12-09"}).content.decode()
    assert "Ann Intake" not in page
    assert "No appointments on this day." in page


def _many(practice, provider, visit_type, template, staff, n, *, after=0):
    """`n` appointments on Wednesday (after the first `after` ten-minute slots), each of a new
    chart; every other one with a form. One provider's never overlap (PostgreSQL refuses it)."""
    for i in range(after, after + n):
        patient = factories.make_patient(practice)
        start = at(DAY, 8) + dt.timedelta(minutes=10 * i)
        appointment = Appointment.objects.create(
            practice=practice,
            patient=patient,
            provider=provider,
            appointment_type=visit_type,
            visit_type=visit_type.name,
            start_at=start,
            end_at=start + dt.timedelta(minutes=10),
        )
        if i % 2:
            services.form_send(staff, appointment=appointment, template=template)


def _queries(client, practice) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("intake:list"), {"date": "2026-12-09"})
    assert response.status_code == 200
    return len(queries)


def test_the_list_reads_a_fixed_number_of_queries_whatever_the_number_of_appointments(
    client, now, staff, practice, provider, follow_up, follow_up_template
):
    sign_in(client, staff)
    _many(practice, provider, follow_up, follow_up_template, staff, 5)
    few = _queries(client, practice)
    _many(practice, provider, follow_up, follow_up_template, staff, 35, after=5)
    assert Appointment.objects.filter(practice=practice).count() == 40
    many = _queries(client, practice)
    assert few == many
