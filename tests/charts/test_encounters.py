import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.charts.services import encounter_create, encounter_sign


@pytest.fixture
def encounter(staff, patient):
    return encounter_create(staff, patient=patient, visit_date=dt.date(2026, 11, 2), note="Cough")


def test_staff_open_an_unsigned_encounter_and_it_is_audited(encounter, patient):
    assert encounter.patient == patient and encounter.practice == patient.practice
    assert not encounter.is_signed
    assert AuditEvent.objects.filter(action="encounter.create", patient=patient).exists()


def test_only_a_provider_signs_an_encounter(encounter, staff, admin, provider):
    for not_provider in (staff, admin):
        with pytest.raises(PermissionDenied):
            encounter_sign(not_provider, encounter=encounter)
    signed = encounter_sign(provider, encounter=encounter)
    assert signed.is_signed and signed.signed_by == provider and signed.provider == provider
    assert AuditEvent.objects.filter(action="encounter.sign").count() == 1


def test_a_signed_encounter_cannot_be_signed_again(encounter, provider):
    encounter_sign(provider, encounter=encounter)
    with pytest.raises(ValidationError):
        encounter_sign(provider, encounter=encounter)


def test_staff_of_another_practice_cannot_open_an_encounter(outsider, patient):
    with pytest.raises(PermissionDenied):
        encounter_create(outsider, patient=patient, visit_date=dt.date(2026, 11, 2))


def test_the_provider_must_belong_to_the_practice(staff, patient, outsider):
    with pytest.raises(ValidationError):
        encounter_create(staff, patient=patient, visit_date=dt.date(2026, 11, 2), provider=outsider)
