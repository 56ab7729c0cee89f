"""The record version (charts.record_cache) is raised by every service that changes what a
cached rendering of a chart's record shows, and nothing else is trusted to keep it in step.

The walk below finds every model that points at a chart (or at a row that does, such as an
encounter's amendments). Each must either be written by a service that is shown here to raise
the version, or be listed in EXEMPT with the reason no rendering shows it. A new model that
points at a chart fails this test until someone decides which.
"""

import datetime as dt
import zoneinfo

import pytest
from django.apps import apps
from django.utils import timezone

from portico.charts import services
from portico.charts.models import CLINICAL_LISTS, Encounter, Patient
from portico.scheduling import services as scheduling
from tests import factories
from tests.charts.test_clinical_services import VALID

pytestmark = pytest.mark.django_db

# Rows that point at a chart but that no cached rendering shows (the pages around the
# renderings read them on every request).
EXEMPT = {
    "audit.AuditEvent": "the access log page reads audit events on every request",
    "notifications.OutboundEmail": "emails are not part of the record",
    "portal.PortalAccess": "portal state is read on every request (the access check)",
    "portal.Invitation": "invitations show in the staff portal window, read on every request",
    "portal.Representative": (
        "representatives are read on every request (the access check and the portal window)"
    ),
    "records.SharedLink": "the patient's sent links page reads them on every request",
    "messaging.Thread": "messages are not part of the record's renderings; pages read them live",
    "messaging.RecordUpdateEmails": "an email setting, not part of the record",
    "scheduling.ReminderOptOut": "an email setting, not part of the record",
    "scheduling.AppointmentReminder": "which reminders were queued, not part of the record",
    "booking.AppointmentRequest": (
        "requests are not in the record's renderings; the portal's Appointments tab and the "
        "staff's request pages read them live (the appointments they make raise the version "
        "through the appointment book's services)"
    ),
    "fhir.AppConnection": "which apps may read the record: not part of the record's renderings",
    "fhir.ConnectionCredential": "an app's codes and tokens: not part of the record",
    "intake.IntakeForm": (
        "forms are not in the record's renderings; the check-in and staff pages read them live "
        "(answers accepted into the chart go through the charts services, which raise it)"
    ),
}


def _version(patient) -> int:
    return Patient.objects.values_list("record_version", flat=True).get(pk=patient.pk)


def _clinical_writes(model):
    slug = next(s for s, m in CLINICAL_LISTS.items() if m is model)

    def writes(world):
        item = services.item_create(
            world.provider, patient=world.patient, model=model, **VALID[slug]
        )
        yield "create"
        services.item_share(world.provider, item=item, shared=not item.shared_with_patient)
        yield "share"
        services.item_update(world.provider, item=item, recorded_on=dt.date(2024, 1, 2))
        yield "update"
        services.item_confidential_set(world.provider, item=item, confidential=True)
        yield "confidential"
        services.item_update(world.provider, item=item, confidential_from_representatives=False)
        yield "update confidential"

    return writes


def _encounter_writes(world):
    encounter = services.encounter_create(
        world.provider, patient=world.patient, visit_date=dt.date(2026, 11, 2), note="Seen."
    )
    yield "create"
    services.encounter_update(world.provider, encounter=encounter, note="Seen twice.")
    yield "update"
    services.encounter_update(
        world.provider, encounter=encounter, confidential_from_representatives=True
    )
    yield "update confidential"
    services.encounter_sign(world.provider, encounter=encounter)
    yield "sign"
    shared = not encounter.note_shared_with_patient
    services.encounter_share(world.provider, encounter=encounter, note_shared=shared)
    yield "share"
    services.encounter_confidential_set(world.provider, encounter=encounter, confidential=False)
    yield "confidential"


def _amendment_writes(world):
    encounter = services.encounter_create(
        world.provider, patient=world.patient, visit_date=dt.date(2026, 11, 2), note="Seen."
    )
    services.encounter_sign(world.provider, encounter=encounter)
    before = _version(world.patient)
    services.encounter_amend(world.provider, encounter=encounter, text="Added later.")
    assert _version(world.patient) > before
    yield "amend"


def _appointment_writes(world):
    from portico.scheduling.calendar import Stretch
    from portico.scheduling.models import AppointmentStatus

    visit = scheduling.visit_type_save(
        world.admin, practice=world.patient.practice, name="Follow-up", duration_minutes=30
    )
    scheduling.working_hours_set(
        world.admin,
        practice=world.patient.practice,
        provider=world.provider,
        stretches=[Stretch(day, dt.time(8), dt.time(18)) for day in range(7)],
    )
    start = dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=3),
        dt.time(10),
        tzinfo=zoneinfo.ZoneInfo(world.patient.practice.time_zone),
    )
    appointment = scheduling.appointment_book(
        world.staff,
        patient=world.patient,
        provider=world.provider,
        appointment_type=visit,
        start_at=start,
        check_hours=False,
    )
    yield "create"
    scheduling.appointment_move(
        world.staff, appointment=appointment, start_at=start + dt.timedelta(hours=1)
    )
    yield "move"
    scheduling.appointment_cancel(world.staff, appointment=appointment, reason="Called")
    yield "cancel"
    past = scheduling.appointment_book(
        world.staff,
        patient=world.patient,
        provider=world.provider,
        appointment_type=visit,
        start_at=timezone.now() - dt.timedelta(days=3),
        check_hours=False,
        allow_past=True,
    )
    scheduling.appointment_mark(world.staff, appointment=past, status=AppointmentStatus.NOSHOW)
    yield "mark"


WRITES = {
    **{model._meta.label: _clinical_writes(model) for model in CLINICAL_LISTS.values()},
    "charts.Encounter": _encounter_writes,
    "charts.EncounterAmendment": _amendment_writes,
    "scheduling.Appointment": _appointment_writes,
}


def models_pointing_at_a_chart() -> list[str]:
    """Every model with a foreign key to Patient, and every model with a foreign key to one of
    those that is part of the record (not exempt)."""
    direct = {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is Patient
    }
    record = {apps.get_model(label) for label in direct - EXEMPT.keys()}
    second = {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in record and model is not Patient
    }
    return sorted(direct | second)


def test_every_model_pointing_at_a_chart_raises_the_record_version_or_is_exempt():
    undecided = [label for label in models_pointing_at_a_chart() if label not in WRITES | EXEMPT]
    assert not undecided, (
        f"{undecided} point at a chart: have their services call "
        "charts.record_cache.record_changed and add their writes to WRITES here, or add them "
        "to EXEMPT with the reason no cached rendering shows them."
    )
    assert Encounter._meta.label in WRITES  # the walk found the record's own models


@pytest.mark.parametrize("label", sorted(WRITES))
def test_each_service_write_of_a_record_model_raises_the_record_version(label, practice):
    class World:
        patient = factories.make_patient(practice)
        provider = factories.make_staff(practice, role="provider", credential="MD")
        staff = factories.make_staff(practice)
        admin = factories.make_admin(practice)

    before = _version(World.patient)
    for what in WRITES[label](World):
        after = _version(World.patient)
        assert after > before, f"{label}: {what} did not raise the record version"
        before = after


def test_another_charts_writes_leave_this_record_version_alone(practice):
    patient, other = factories.make_patient(practice), factories.make_patient(practice)
    provider = factories.make_staff(practice, role="provider", credential="MD")
    before = _version(patient)
    problems = CLINICAL_LISTS["problems"]
    services.item_create(provider, patient=other, model=problems, **VALID["problems"])
    assert _version(patient) == before
