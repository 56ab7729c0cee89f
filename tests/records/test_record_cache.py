"""Record pages are served from a cached rendering keyed on the chart's record version
(charts/record_cache.py): every change to the clinical record shows on the very next view,
and nothing a practice stopped sharing survives in the cache."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portico.charts import services
from portico.charts.models import LabResult, Patient
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse
from tests.records import builders
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db


def record_text(client, patient) -> str:
    response = client.get(record_url(patient))
    assert response.status_code == 200
    return response.content.decode()


def version(patient) -> int:
    return Patient.objects.values_list("record_version", flat=True).get(pk=patient.pk)


def test_another_charts_writes_leave_this_record_version_alone(patient, practice, provider):
    other = factories.make_patient(practice)
    before = version(patient)
    builders.problem(other)
    builders.encounter(other, provider)
    assert version(patient) == before


def test_a_chart_saved_whole_from_a_stale_copy_keeps_the_newer_record_version(patient):
    stale = Patient.objects.get(pk=patient.pk)
    builders.problem(patient)
    newer = version(patient)

    stale.preferred_name = "Sunny"
    stale.save()

    assert version(patient) == newer
    assert Patient.objects.get(pk=patient.pk).preferred_name == "Sunny"


def test_unsharing_after_the_record_was_cached_hides_the_item_at_once(
    patient_client, patient, provider
):
    problem = builders.problem(patient, display="Condition to be unshared")
    assert "Condition to be unshared" in record_text(patient_client, patient)

    services.item_share(provider, item=problem, shared=False)

    assert "Condition to be unshared" not in record_text(patient_client, patient)


def test_an_amendment_added_after_the_record_was_cached_shows_on_the_next_view(
    patient_client, patient, provider
):
    encounter = builders.encounter(patient, provider, note="Visit summary")
    assert "Visit summary" in record_text(patient_client, patient)

    services.encounter_amend(provider, encounter=encounter, text="Dose corrected to 5 mg.")

    assert "Dose corrected to 5 mg." in record_text(patient_client, patient)


def test_an_appointment_booked_after_the_record_was_cached_shows_on_the_next_view(
    patient_client, patient, provider
):
    record_text(patient_client, patient)
    builders.appointment(patient, provider, days_from_now=3, visit_type="Knee check")

    assert "Knee check" in record_text(patient_client, patient)


def test_a_cached_view_reads_no_record_section(patient_client, patient, provider):
    builders.full_record(patient, provider, n=20)
    with CaptureQueriesContext(connection) as first:
        record_text(patient_client, patient)
    with CaptureQueriesContext(connection) as again:
        body = record_text(patient_client, patient)

    assert len(again) < len(first)
    assert not any("charts_problem" in q["sql"] for q in again.captured_queries)
    assert "Health issues" in body


def test_with_the_cache_turned_off_every_view_reads_the_record(patient_client, patient, settings):
    settings.PORTICO_RECORD_CACHE_SECONDS = 0
    builders.problem(patient)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            record_text(patient_client, patient)
        assert any("charts_problem" in q["sql"] for q in queries.captured_queries)


def test_staff_summary_shows_a_change_made_after_it_was_cached(client, staff, patient):
    sign_in(client, staff)
    url = reverse("charts:chart_summary", args=[patient.public_id])
    lab = builders.lab(patient, shared=False, value="8.1")
    assert "8.1" in client.get(url).content.decode()

    services.item_update(staff, item=LabResult.objects.get(pk=lab.pk), value="6.4")

    body = client.get(url).content.decode()
    assert "6.4" in body and "8.1" not in body


def test_the_patient_record_and_the_staff_summary_never_share_a_rendering(
    client, staff, admin, patient
):
    builders.lab(patient, shared=False, display="Unshared potassium")
    sign_in(client, staff)
    staff_body = client.get(reverse("charts:chart_summary", args=[patient.public_id]))
    assert "Unshared potassium" in staff_body.content.decode()

    account = factories.enroll(admin, patient)
    sign_in(client, account)
    assert "Unshared potassium" not in record_text(client, patient)


def test_an_appointment_that_ends_moves_to_past_though_the_record_was_cached(
    patient_client, patient, account, provider, settings
):
    settings.PORTICO_RECORD_CACHE_SECONDS = 3600
    builders.appointment(patient, provider, days_from_now=0, visit_type="Ear check")
    appointment = patient.appointments.get()
    appointment.start_at = timezone.now() + dt.timedelta(minutes=5)
    appointment.end_at = appointment.start_at + dt.timedelta(minutes=20)
    appointment.save()

    def appointments_lists():
        page = parse(patient_client.get(record_url(patient)))
        text = page.one("section", aria_labelledby="appointments-heading").text
        upcoming, past = text.split("Past", 1)
        return upcoming, past

    upcoming, past = appointments_lists()
    assert "Ear check" in upcoming and "Ear check" not in past
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=26)):
        sign_in(patient_client, account)  # the idle timeout ended the session
        upcoming, past = appointments_lists()
    assert "Ear check" in past and "Ear check" not in upcoming


def test_a_changed_translation_is_a_new_rendering(settings, tmp_path):
    """A deploy that changes only a translation must not serve renderings in the old wording
    from a cache that outlived it: the compiled catalogues are part of the key's digest."""
    from portico.charts import record_cache

    settings.LOCALE_PATHS = [tmp_path]
    catalogue = tmp_path / "es" / "LC_MESSAGES" / "django.mo"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_bytes(b"first wording")
    before = record_cache._templates_digest()
    catalogue.write_bytes(b"second wording")
    assert record_cache._templates_digest() != before
