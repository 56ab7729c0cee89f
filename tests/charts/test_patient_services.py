"""SPEC §2.1: creating, changing and finding charts, always inside one practice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from portico.charts.selectors import patient_search, patients_of
from portico.charts.services import patient_create, patient_update
from tests.factories import make_patient

VALID = {
    "legal_first_name": "Robin",
    "legal_last_name": "Sparrow",
    "date_of_birth": dt.date(1980, 4, 21),
}


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# ---------------------------------------------------------------------------
# Refusals first


def test_staff_of_another_practice_cannot_create_a_chart_here(outsider, practice):
    with pytest.raises(PermissionDenied):
        patient_create(outsider, practice=practice, **VALID)
    assert not Patient.objects.exists()


def test_staff_of_another_practice_cannot_change_a_chart_here(outsider, patient):
    with pytest.raises(PermissionDenied):
        patient_update(outsider, patient=patient, legal_first_name="Changed")
    patient.refresh_from_db()
    assert patient.legal_first_name == "Robin"


@pytest.mark.parametrize("field", ["legal_first_name", "legal_last_name", "date_of_birth"])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_create_needs_names_and_date_of_birth(field, blank, staff, practice):
    values = {**VALID, field: blank}
    if blank is None:
        del values[field]

    errors = errors_of(lambda: patient_create(staff, practice=practice, **values))

    assert field in errors
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="chart.create").exists()


def test_date_of_birth_in_the_future_is_refused(staff, practice):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    errors = errors_of(
        lambda: patient_create(staff, practice=practice, **{**VALID, "date_of_birth": tomorrow})
    )

    assert errors["date_of_birth"] == ["Enter a date of birth between 1900 and today."]
    assert not Patient.objects.exists()


def test_date_of_birth_today_is_accepted(staff, practice):
    patient = patient_create(
        staff, practice=practice, **{**VALID, "date_of_birth": timezone.localdate()}
    )
    assert patient.date_of_birth == timezone.localdate()


@pytest.mark.parametrize("bad", ["1980-04-21", "yesterday", 19800421])
def test_date_of_birth_must_be_a_date(bad, staff, practice):
    errors = errors_of(
        lambda: patient_create(staff, practice=practice, **{**VALID, "date_of_birth": bad})
    )
    assert errors["date_of_birth"] == ["Enter a valid date."]


@pytest.mark.parametrize("email", ["robin", "robin@", "robin@@example.test", "a b@example.test"])
def test_invalid_email_is_refused(email, staff, practice):
    errors = errors_of(lambda: patient_create(staff, practice=practice, **VALID, email=email))

    assert errors["email"] == ["Enter a valid email address."]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("phone", ["123", "555-ABCD", "+1 202 555", "(000) 000-0000"])
def test_invalid_phone_is_refused(phone, staff, practice):
    errors = errors_of(
        lambda: patient_create(staff, practice=practice, **VALID, mobile_phone=phone)
    )

    assert errors["mobile_phone"] == ["Enter a valid phone number, such as (217) 555-0134."]
    assert not Patient.objects.exists()


def test_unknown_sex_value_is_refused(staff, practice):
    errors = errors_of(lambda: patient_create(staff, practice=practice, **VALID, sex="x"))
    assert "sex" in errors


def test_too_long_name_is_refused(staff, practice):
    errors = errors_of(
        lambda: patient_create(staff, practice=practice, **{**VALID, "legal_last_name": "x" * 101})
    )
    assert errors["legal_last_name"] == ["Use at most 100 characters."]


def test_every_bad_field_is_reported_at_once(staff, practice):
    errors = errors_of(
        lambda: patient_create(
            staff, practice=practice, **VALID, email="nope", mobile_phone="12", sex="x"
        )
    )
    assert set(errors) == {"email", "mobile_phone", "sex"}


def test_update_with_bad_values_changes_nothing(staff, patient):
    before = Patient.objects.filter(pk=patient.pk).values().get()

    errors = errors_of(
        lambda: patient_update(
            staff,
            patient=patient,
            legal_first_name="",
            email="nope",
            mobile_phone="12",
            date_of_birth=timezone.localdate() + dt.timedelta(days=1),
        )
    )

    assert set(errors) == {"legal_first_name", "email", "mobile_phone", "date_of_birth"}
    assert Patient.objects.filter(pk=patient.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="chart.update").exists()


# ---------------------------------------------------------------------------
# What is stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(202) 555-0187", "+12025550187"),
        ("202.555.0187", "+12025550187"),
        ("+1 202 555 0187", "+12025550187"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_is_stored_in_e164(typed, stored, staff, practice):
    patient = patient_create(staff, practice=practice, **VALID, mobile_phone=typed)

    patient.refresh_from_db()
    assert patient.mobile_phone == stored


def test_create_stores_trimmed_values_and_lowercase_email(staff, practice):
    patient = patient_create(
        staff,
        practice=practice,
        legal_first_name="  Robin ",
        legal_last_name=" Sparrow",
        date_of_birth=dt.date(1980, 4, 21),
        email=" Robin@Example.TEST ",
    )

    patient.refresh_from_db()
    assert (patient.legal_first_name, patient.legal_last_name) == ("Robin", "Sparrow")
    assert patient.email == "robin@example.test"
    assert patient.practice == practice


def test_create_is_audited_without_demographics(staff, practice):
    patient = patient_create(staff, practice=practice, **VALID, email="robin@example.test")

    [event] = AuditEvent.objects.filter(action="chart.create")
    assert (event.actor, event.practice, event.patient) == (staff, practice, patient)
    assert "Sparrow" not in str(event.details)
    assert "robin@example.test" not in str(event.details)


def test_update_changes_fields_and_audits_their_names_not_values(staff, patient):
    patient_update(staff, patient=patient, preferred_name="Bird", mobile_phone="(202) 555-0187")

    patient.refresh_from_db()
    assert patient.preferred_name == "Bird"
    assert patient.mobile_phone == "+12025550187"
    [event] = AuditEvent.objects.filter(action="chart.update")
    assert event.details == {"fields": ["mobile_phone", "preferred_name"]}
    assert event.patient == patient


def test_update_without_changes_writes_nothing(staff, patient):
    patient_update(staff, patient=patient, legal_first_name=patient.legal_first_name)

    assert not AuditEvent.objects.filter(action="chart.update").exists()


def test_update_ignores_fields_that_are_not_demographics(staff, patient, other_practice):
    patient_update(staff, patient=patient, practice=other_practice, public_id="x")

    patient.refresh_from_db()
    assert patient.practice != other_practice


# ---------------------------------------------------------------------------
# Finding charts


@pytest.fixture
def charts(practice, other_practice):
    return {
        "robin": make_patient(
            practice,
            legal_first_name="Robin",
            legal_last_name="Sparrow",
            date_of_birth=dt.date(1980, 4, 21),
        ),
        "rob": make_patient(
            practice,
            legal_first_name="Robert",
            legal_last_name="Finch",
            preferred_name="Bobby",
            date_of_birth=dt.date(1975, 1, 2),
        ),
        "jay": make_patient(
            practice,
            legal_first_name="Jay",
            legal_last_name="Robinson",
            date_of_birth=dt.date(1990, 12, 31),
        ),
        # Same name and date of birth at another practice: never found from this one.
        "twin": make_patient(
            other_practice,
            legal_first_name="Robin",
            legal_last_name="Sparrow",
            date_of_birth=dt.date(1980, 4, 21),
        ),
    }


def found(practice, query: str) -> set[str]:
    return {p.full_name for p in patient_search(practice=practice, query=query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sparrow", {"Robin Sparrow"}),
        ("SPAR", {"Robin Sparrow"}),
        ("robin sparrow", {"Robin Sparrow"}),
        ("sparrow robin", {"Robin Sparrow"}),
        ("rob", {"Robin Sparrow", "Robert Finch", "Jay Robinson"}),
        ("rob fin", {"Robert Finch"}),
        ("bobby", {"Robert Finch"}),
        ("  jay  ", {"Jay Robinson"}),
        ("nobody", set()),
    ],
)
def test_search_by_name_parts(query, expected, charts, practice):
    assert found(practice, query) == expected


@pytest.mark.parametrize("query", ["1980-04-21", "04/21/1980", "4/21/1980"])
def test_search_by_date_of_birth(query, charts, practice):
    results = list(patient_search(practice=practice, query=query))

    assert results == [charts["robin"]]


def test_search_by_date_with_no_match_finds_nothing(charts, practice):
    assert list(patient_search(practice=practice, query="01/01/2001")) == []


def test_empty_search_lists_the_practice_charts_only(charts, practice):
    results = set(patient_search(practice=practice, query=""))

    assert results == {charts["robin"], charts["rob"], charts["jay"]}


def test_search_never_reaches_another_practice(charts, other_practice):
    assert list(patient_search(practice=other_practice, query="robin")) == [charts["twin"]]
    assert list(patient_search(practice=other_practice, query="04/21/1980")) == [charts["twin"]]
    assert charts["robin"] not in patients_of(other_practice)


def test_control_characters_are_refused_by_the_service_itself(admin, patient):
    """PostgreSQL cannot store NUL; every caller (page, API, task) gets the same clear refusal."""
    from django.core.exceptions import ValidationError

    from portico.charts.services import patient_update

    with pytest.raises(ValidationError) as caught:
        patient_update(admin, patient=patient, legal_last_name="Smith\x00", city="Spring\x07field")
    assert set(caught.value.message_dict) == {"legal_last_name", "city"}
    patient.refresh_from_db()
    assert "\x00" not in patient.legal_last_name
