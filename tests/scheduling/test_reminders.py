"""Reminder emails one week and one day before (SPEC §8.7): each sent once, even when the job
runs late, twice or alongside another run; never after a cancel; a moved appointment gets
reminders for its new time and not the old; none for an opted-out patient, a practice with
reminders off or a provider unticked, also when that changed after the reminder was queued;
one-click unsubscribe headers (RFC 8058) on a real SMTP delivery."""

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.notifications import rendering
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.services import outbox_drain
from portico.periodic.jobs import JOBS
from portico.practices.models import Membership, Role
from portico.practices.services import reminder_settings_set
from portico.scheduling import reminders
from portico.scheduling.emails import REMINDER, render_reminder
from portico.scheduling.models import (
    AppointmentReminder,
    AppointmentStatus,
    ReminderKind,
    ReminderOptOut,
)
from portico.scheduling.reminders import reminders_queue_due
from portico.scheduling.services import (
    appointment_cancel,
    appointment_move,
    reminder_opt_out_set,
    working_hours_set,
)
from tests import factories
from tests.scheduling.conftest import NOW, at, weekdays
from tests.scheduling.mail import (
    SECRETS,
    book,
    clinical_visit_type,
    give_address,
    make_chart,
    received,
)
from tests.smtp import django_sends_to_it

pytestmark = pytest.mark.django_db
# The appointment: Monday two weeks ahead, 9:00 New York time.
DAY = NOW.date() + dt.timedelta(days=14)
START = at(DAY, 9)
WEEK_BEFORE = START - dt.timedelta(days=7)
DAY_BEFORE = START - dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def run_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return reminders_queue_due()


def reminder_emails():
    return OutboundEmail.objects.filter(kind=REMINDER)


def kinds_queued(appointment) -> list[tuple[str, dt.datetime]]:
    return sorted(
        AppointmentReminder.objects.filter(appointment=appointment).values_list(
            "kind", "for_start_at"
        )
    )


def membership(user, practice) -> Membership:
    return Membership.objects.get(user=user, practice=practice)


@pytest.fixture
def chart(practice):
    give_address(practice)
    return make_chart(practice)


@pytest.fixture
def visit(admin, practice):
    return clinical_visit_type(admin, practice)


@pytest.fixture
def reminders_on(admin, practice, provider):
    reminder_settings_set(
        admin, practice=practice, enabled=True, sender_ids={membership(provider, practice).pk}
    )


@pytest.fixture
def appointment(now, staff, chart, provider, visit, hours, reminders_on):
    return book(staff, chart, provider, visit, START)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def make():
        return django_capture_on_commit_callbacks(execute=True)

    return make


def test_the_reminder_job_is_a_periodic_job():
    assert any(job.run is reminders_queue_due for job in JOBS)


def test_week_and_day_reminders_are_queued_once_each_even_when_the_job_runs_twice_or_late(
    appointment,
):
    assert run_at(NOW) == 0
    assert run_at(WEEK_BEFORE - dt.timedelta(seconds=1)) == 0
    assert run_at(WEEK_BEFORE) == 1
    assert run_at(WEEK_BEFORE) == 0
    assert run_at(WEEK_BEFORE + dt.timedelta(days=3)) == 0  # late, still the week's window
    assert run_at(DAY_BEFORE - dt.timedelta(seconds=1)) == 0
    assert run_at(DAY_BEFORE + 5 * HOUR) == 1
    assert run_at(DAY_BEFORE + 6 * HOUR) == 0
    assert run_at(START - dt.timedelta(minutes=1)) == 0
    assert run_at(START) == 0

    assert kinds_queued(appointment) == [(ReminderKind.DAY, START), (ReminderKind.WEEK, START)]
    assert reminder_emails().count() == 2
    assert {e.to_address for e in reminder_emails()} == {appointment.patient.email}


def test_a_job_that_runs_late_sends_the_day_reminder_only(appointment):
    assert run_at(DAY_BEFORE + 2 * HOUR) == 1

    assert kinds_queued(appointment) == [(ReminderKind.DAY, START)]


def test_a_booking_made_three_days_ahead_gets_only_the_day_reminder(
    now, staff, chart, provider, visit, hours, reminders_on
):
    start = at(NOW.date() + dt.timedelta(days=3), 9)
    appointment = book(staff, chart, provider, visit, start)

    assert run_at(NOW + HOUR) == 0  # in the week window, but booked after its moment
    assert run_at(start - dt.timedelta(hours=23)) == 1
    assert kinds_queued(appointment) == [(ReminderKind.DAY, start)]


def test_no_reminder_after_a_cancel(appointment, staff):
    appointment_cancel(staff, appointment=appointment, reason="Patient asked")

    assert run_at(WEEK_BEFORE + HOUR) == 0
    assert run_at(DAY_BEFORE + HOUR) == 0
    assert not reminder_emails().exists()


def test_a_moved_appointment_gets_reminders_for_its_new_time_and_not_the_old(appointment, staff):
    assert run_at(WEEK_BEFORE + HOUR) == 1  # the old time's week reminder, still queued
    new_start = START + dt.timedelta(days=7)
    with time_machine.travel(WEEK_BEFORE + 2 * HOUR, tick=False):
        appointment_move(staff, appointment=appointment, start_at=new_start)
        outbox_drain()

    old = reminder_emails().get()
    assert old.state == EmailState.SKIPPED  # it would have given the old time
    subjects = [m.subject for m in mail.outbox]
    assert "Your appointment was moved to Monday, December 28, 2026 at 9:00 AM EST" in subjects
    assert not [s for s in subjects if s.startswith("Reminder")]
    assert run_at(DAY_BEFORE + HOUR) == 0  # the old time's day reminder: nothing
    assert run_at(new_start - dt.timedelta(days=7) + HOUR) == 1
    assert run_at(new_start - dt.timedelta(days=1) + HOUR) == 1
    assert kinds_queued(appointment) == [
        (ReminderKind.DAY, new_start),
        (ReminderKind.WEEK, START),
        (ReminderKind.WEEK, new_start),
    ]


def test_a_reminder_another_run_inserted_is_not_queued_again(appointment):
    # Another run got there first (it committed its row): this run's insert changes nothing,
    # so it queues nothing.
    AppointmentReminder.objects.create(
        appointment=appointment, kind=ReminderKind.WEEK, for_start_at=START, run=uuid.uuid4()
    )

    assert run_at(WEEK_BEFORE + HOUR) == 0
    assert not reminder_emails().exists()


@pytest.mark.parametrize("why", ["opted out", "practice off", "provider unticked", "no email"])
def test_no_reminder_is_queued_when_it_is_not_wanted(
    why, appointment, admin, staff, practice, chart
):
    if why == "opted out":
        reminder_opt_out_set(staff, patient=chart, opted_out=True)
    elif why == "practice off":
        reminder_settings_set(admin, practice=practice, enabled=False, sender_ids=set())
    elif why == "provider unticked":
        reminder_settings_set(admin, practice=practice, enabled=True, sender_ids=set())
    else:
        chart.email = ""
        chart.save()

    assert run_at(WEEK_BEFORE + HOUR) == 0
    assert run_at(DAY_BEFORE + HOUR) == 0
    assert not AppointmentReminder.objects.exists()


def test_only_confirmed_appointments_get_reminders(
    now, staff, chart, provider, visit, hours, reminders_on
):
    book(staff, chart, provider, visit, START, status=AppointmentStatus.PENDING)

    assert run_at(WEEK_BEFORE + HOUR) == 0


@pytest.mark.parametrize(
    "change", ["cancelled", "moved", "opted out", "practice off", "provider unticked"]
)
def test_a_reminder_queued_before_a_change_is_skipped_when_it_is_sent(
    change, appointment, admin, staff, practice, chart
):
    with time_machine.travel(WEEK_BEFORE + HOUR, tick=False):
        assert reminders_queue_due() == 1
        if change == "cancelled":
            appointment_cancel(staff, appointment=appointment, reason="Patient asked")
        elif change == "moved":
            appointment_move(staff, appointment=appointment, start_at=START + 2 * HOUR)
        elif change == "opted out":
            reminder_opt_out_set(staff, patient=chart, opted_out=True)
        elif change == "practice off":
            reminder_settings_set(admin, practice=practice, enabled=False, sender_ids=set())
        else:
            reminder_settings_set(admin, practice=practice, enabled=True, sender_ids=set())
        outbox_drain()

    assert reminder_emails().get().state == EmailState.SKIPPED
    assert not [m for m in mail.outbox if m.subject.startswith("Reminder")]


def test_reminders_are_written_in_the_patients_language(
    now, staff, practice, provider, visit, hours, reminders_on
):
    spanish = make_chart(practice, preferred_language="es", email="ana@example.test")
    english = factories.make_patient(practice)
    book(staff, spanish, provider, visit, START)
    book(staff, english, provider, visit, START + HOUR)

    assert run_at(WEEK_BEFORE + HOUR) == 2
    languages = dict(reminder_emails().values_list("to_address", "language"))
    assert languages == {"ana@example.test": "es", english.email: settings.LANGUAGE_CODE}

    with time_machine.travel(WEEK_BEFORE + HOUR, tick=False):
        outbox_drain()
    reminders_sent = {
        m.to[0]: received(m) for m in mail.outbox if "List-Unsubscribe" in m.extra_headers
    }
    spanish_reminder = reminders_sent["ana@example.test"]
    assert spanish_reminder.subject == (
        "Recordatorio: su cita del lunes, 21 de diciembre de 2026, 9:00 AM EST"
    )
    assert "Le recordamos su cita con Riverside Clinic." in spanish_reminder.text
    assert "Para dejar de recibirlos, abra este enlace:" in spanish_reminder.text
    assert reminders_sent[english.email].subject.startswith("Reminder: your appointment on")


def test_the_job_reads_in_batches_and_queues_every_reminder_once(
    now, monkeypatch, admin, staff, practice, provider, visit, hours
):
    # Two providers with appointments at the same times: batches of 2 split equal start times.
    other = factories.make_staff(
        practice, role=Role.PROVIDER, credential="MD", full_name="Dr. Omar Other"
    )
    working_hours_set(
        admin, practice=practice, provider=other, stretches=weekdays(((9, 0), (12, 0)))
    )
    reminder_settings_set(
        admin,
        practice=practice,
        enabled=True,
        sender_ids={membership(provider, practice).pk, membership(other, practice).pk},
    )
    booked = [
        book(
            staff,
            factories.make_patient(practice),
            doctor,
            visit,
            START + i * dt.timedelta(minutes=20),
        )
        for i in range(3)
        for doctor in (provider, other)
    ]
    monkeypatch.setattr(reminders, "BATCH", 2)

    assert run_at(WEEK_BEFORE + 2 * HOUR) == 6
    assert run_at(WEEK_BEFORE + 2 * HOUR) == 0
    assert sorted(reminder_emails().values_list("patient_id", flat=True)) == sorted(
        a.patient_id for a in booked
    )


def test_a_run_of_reminder_emails_is_rendered_with_a_fixed_number_of_queries(
    now, staff, practice, provider, visit, hours, reminders_on
):
    for i in range(6):
        book(
            staff,
            factories.make_patient(practice),
            provider,
            visit,
            START + i * dt.timedelta(minutes=20),
        )
    run_at(WEEK_BEFORE + 2 * HOUR)

    def queries_for(count: int) -> int:
        emails = list(reminder_emails().order_by("id")[:count])
        with (
            time_machine.travel(WEEK_BEFORE + 2 * HOUR, tick=False),
            CaptureQueriesContext(connection) as captured,
        ):
            rendering.prefetch(emails)
            rendered = [render_reminder(email) for email in emails]
        assert all(r is not None for r in rendered)
        return len(captured)

    assert queries_for(2) == queries_for(6) <= 2


def test_a_reminder_reaches_the_mail_server_with_one_click_unsubscribe_headers(
    appointment, settings, committed, client, chart
):
    with (
        django_sends_to_it(settings) as smtp,
        time_machine.travel(WEEK_BEFORE + HOUR, tick=False),
        committed(),
    ):
        assert reminders_queue_due() == 1

    # The drain sent everything due: the "booked" email too.
    (raw,) = [m for m in smtp.messages if str(m["message"]["Subject"]).startswith("Reminder")]
    assert raw["rcpt_tos"] == [chart.email]
    message = received(raw)
    assert message.header("Message-ID") == reminder_emails().get().message_id
    assert (
        message.subject == "Reminder: your appointment on Monday, December 21, 2026 at 9:00 AM EST"
    )
    header = message.header("List-Unsubscribe")
    assert header.startswith(f"<{settings.PORTICO_BASE_URL}/reminders/unsubscribe/")
    assert header.endswith("/>")
    assert message.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    link = header[1:-1]
    assert link in message.text and f'href="{link}"' in message.html
    assert "This is a reminder of your appointment with Riverside Clinic." in message.text
    assert "Emails about booked, moved or cancelled appointments still come." in message.text
    assert not message.attachments
    for secret in SECRETS:
        assert secret.lower() not in message.everything().lower(), secret

    # The mail program's one-click POST (RFC 8058) works without a session or CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(
        link.removeprefix(settings.PORTICO_BASE_URL),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert ReminderOptOut.objects.get(patient=chart).source == ReminderOptOut.Source.UNSUBSCRIBE


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one writer at a time, so nothing races",
)
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_queue_each_reminder_once(
    now, staff, practice, provider, visit, reminders_on, settings, monkeypatch
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # no worker
    monkeypatch.setattr(reminders, "BATCH", 7)
    for i in range(30):
        patient = factories.make_patient(practice)
        book(
            staff, patient, provider, visit, START + i * dt.timedelta(minutes=20), check_hours=False
        )
    moment = WEEK_BEFORE + 12 * HOUR  # every one of them is in its week window
    barrier = threading.Barrier(2)
    queued: list[int] = []
    errors: list = []

    def run():
        try:
            barrier.wait(timeout=10)
            queued.append(reminders_queue_due(now=moment))
        except Exception as exc:  # noqa: BLE001 (the test asserts there were none)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(queued) == 30
    assert reminder_emails().count() == 30
    assert AppointmentReminder.objects.count() == 30
    assert len(set(reminder_emails().values_list("subject_id", flat=True))) == 30
