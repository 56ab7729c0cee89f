"""A practice with a schedule, the two ready intake templates, and an appointment to send a
form for (fixed "now": Monday 7 December 2026, 7:30 in New York)."""

import datetime as dt

import pytest

from portico.charts.models import Allergy, Medication
from portico.charts.services import item_create
from portico.intake import services
from portico.scheduling.services import appointment_book
from tests.scheduling.conftest import (  # noqa: F401 (fixtures)
    NEW_YORK,
    NOW,
    at,
    follow_up,
    hours,
    new_patient_visit,
    now,
)


@pytest.fixture
def new_patient_template(admin, practice):
    return services.ready_template_install(admin, practice=practice, which="new_patient")


@pytest.fixture
def follow_up_template(admin, practice):
    return services.ready_template_install(admin, practice=practice, which="follow_up")


@pytest.fixture
def appointment(now, staff, patient, provider, hours, new_patient_visit):  # noqa: F811
    """The patient's new-patient visit on Wednesday at 10:00."""
    return appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=new_patient_visit,
        start_at=at(dt.date(2026, 12, 9), 10),
    )


@pytest.fixture
def chart_lists(staff, patient):
    """The chart's current lists: one allergy and one medication."""
    return {
        "allergy": item_create(
            staff,
            patient=patient,
            model=Allergy,
            display="Penicillin",
            reaction="Hives",
            recorded_on=dt.date(2020, 1, 1),
        ),
        "medication": item_create(
            staff,
            patient=patient,
            model=Medication,
            display="Lisinopril 10 mg tablet",
            instructions="One a day",
            recorded_on=dt.date(2021, 1, 1),
        ),
    }


@pytest.fixture
def form(staff, appointment, new_patient_template):
    """The new-patient form sent by hand for the appointment (the patient has no portal
    access: it has its own link)."""
    return services.form_send(staff, appointment=appointment, template=new_patient_template)
