"""The rules of the clinical-list services (SPEC §2.2): who may change what, signed
encounters are amended not edited, sharing defaults, and bad input changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.charts import services
from portico.charts.models import (
    CLINICAL_LISTS,
    Allergy,
    CarePlan,
    Encounter,
    EncounterAmendment,
    Immunization,
    LabResult,
    Medication,
    Problem,
    Procedure,
    Vital,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)

# One valid set of values for every list.
VALID = {
    "problems": {"code": "I10", "recorded_on": dt.date(2024, 3, 1)},
    "medications": {"code": "29046", "instructions": "10 mg daily", "recorded_on": TODAY},
    "allergies": {
        "display": "Peanuts",
        "reaction": "Hives",
        "severity": "severe",
        "recorded_on": TODAY,
    },
    "immunizations": {"code": "140", "recorded_on": TODAY, "lot_number": "A1"},
    "procedures": {"display": "Ear wax removal", "recorded_on": TODAY},
    "care-plans": {"title": "Blood pressure", "text": "Walk daily", "recorded_on": TODAY},
    "vitals": {"kind": "bp_systolic", "value": "128", "recorded_on": TODAY},
    "labs": {
        "code": "4548-4",
        "value": "6.1",
        "unit": "%",
        "reference_low": "4.0",
        "reference_high": "5.6",
        "recorded_on": TODAY,
    },
    "assessments": {
        "kind": "screening",
        "code": "55758-7",
        "display": "PHQ-2",
        "result": "0",
        "recorded_on": TODAY,
    },
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def encounter(staff, patient):
    return services.encounter_create(staff, patient=patient, visit_date=TODAY, note="Visit")


def add(actor, patient, slug, **extra):
    return services.item_create(
        actor, patient=patient, model=CLINICAL_LISTS[slug], **{**VALID[slug], **extra}
    )


@pytest.mark.parametrize("slug", list(CLINICAL_LISTS))
def test_staff_add_an_item_to_every_list_and_it_is_audited(staff, patient, slug):
    item = add(staff, patient, slug)
    assert item.patient == patient and item.practice == patient.practice
    assert item.created_by == staff
    event = AuditEvent.objects.get(action="clinical.create", patient=patient)
    assert event.details == {"list": slug, "item": str(item.public_id)}


@pytest.mark.parametrize("slug", list(CLINICAL_LISTS))
def test_staff_of_another_practice_cannot_add_to_a_chart(outsider, patient, slug):
    with pytest.raises(PermissionDenied):
        add(outsider, patient, slug)
    assert not CLINICAL_LISTS[slug].objects.exists()


def test_labs_start_unshared_and_every_other_kind_starts_shared(staff, patient):
    for slug in CLINICAL_LISTS:
        item = add(staff, patient, slug)
        assert item.shared_with_patient is (slug != "labs"), slug


def test_the_default_share_flag_can_be_overridden_when_adding(staff, patient):
    assert add(staff, patient, "labs", shared_with_patient=True).shared_with_patient
    assert not add(staff, patient, "problems", shared_with_patient=False).shared_with_patient


def test_a_listed_code_fills_the_readable_name(staff, patient):
    problem = add(staff, patient, "problems", code="e11.9")
    assert problem.code == "E11.9" and problem.code_system == "icd10cm"
    assert problem.display == "Type 2 diabetes mellitus without complications"
    medication = add(staff, patient, "medications")
    assert medication.display == "lisinopril" and medication.code_system == "rxnorm"


def test_free_text_is_allowed_where_no_code_fits(staff, patient):
    problem = add(staff, patient, "problems", code="", display="Worried about memory")
    assert problem.code == "" and problem.code_system == "" and problem.display


def test_an_unlisted_code_needs_a_description(staff, patient):
    with pytest.raises(ValidationError) as caught:
        add(staff, patient, "problems", code="Z99.89")
    assert "display" in caught.value.message_dict
    assert add(staff, patient, "problems", code="Z99.89", display="Dependence on machines")


@pytest.mark.parametrize(
    ("slug", "values", "field"),
    [
        ("problems", {"code": "12345"}, "code"),
        ("problems", {"code": "", "display": ""}, "display"),
        ("medications", {"code": "lisinopril"}, "code"),
        ("immunizations", {"code": "99999"}, "code"),
        ("labs", {"code": "4548"}, "code"),
        ("labs", {"value": ""}, "value"),
        ("labs", {"reference_low": "9", "reference_high": "3"}, "reference_high"),
        ("labs", {"reference_low": "a lot"}, "reference_low"),
        ("labs", {"flag": "X"}, "flag"),
        ("vitals", {"value": "900"}, "value"),
        ("vitals", {"value": "NaN"}, "value"),
        ("vitals", {"kind": "mood"}, "kind"),
        ("vitals", {"kind": ""}, "kind"),
        ("problems", {"recorded_on": dt.date(2027, 1, 1)}, "recorded_on"),
        ("problems", {"recorded_on": "not a date"}, "recorded_on"),
        ("problems", {"recorded_on": dt.date(1850, 1, 1)}, "recorded_on"),
        ("problems", {"recorded_on": None}, "recorded_on"),
        ("problems", {"status": "resolved", "resolved_on": dt.date(2020, 1, 1)}, "resolved_on"),
        ("medications", {"stop_date": dt.date(2020, 1, 1)}, "stop_date"),
        ("care-plans", {"end_date": dt.date(2020, 1, 1)}, "end_date"),
        ("care-plans", {"title": ""}, "title"),
        ("allergies", {"display": "Pea\x00nuts"}, "display"),
        ("allergies", {"reaction": "Hives\x07"}, "reaction"),
        ("allergies", {"severity": "deadly"}, "severity"),
        ("allergies", {"display": "x" * 201}, "display"),
        ("procedures", {"code_system": "snomed", "code": "abc"}, "code"),
        ("procedures", {"code_system": "klingon", "code": "123456"}, "code_system"),
        ("assessments", {"kind": ""}, "kind"),
        ("immunizations", {"lot_number": 42}, "lot_number"),
    ],
)
def test_bad_input_is_named_by_field_and_nothing_is_stored(staff, patient, slug, values, field):
    with pytest.raises(ValidationError) as caught:
        add(staff, patient, slug, **values)
    assert field in caught.value.message_dict
    assert not CLINICAL_LISTS[slug].objects.exists()
    assert not AuditEvent.objects.filter(action="clinical.create").exists()


def test_a_lab_flag_left_empty_is_worked_out_from_the_range(staff, patient):
    assert add(staff, patient, "labs").flag == "H"
    assert add(staff, patient, "labs", value="3.2").flag == "L"
    assert add(staff, patient, "labs", value="5.0").flag == "N"
    assert add(staff, patient, "labs", value="Negative").flag == "N"
    assert add(staff, patient, "labs", value="5.0", flag="A").flag == "A"
    lab = add(staff, patient, "labs", value="7.25")
    assert lab.value_number == Decimal("7.25") and lab.reference_range == "4–5.6"


def test_a_vital_takes_its_loinc_code_and_unit_from_its_kind(staff, patient):
    vital = add(staff, patient, "vitals", kind="weight", value="182.4")
    assert (vital.code, vital.unit, vital.value) == ("29463-7", "[lb_av]", Decimal("182.40"))


def test_staff_edit_an_item_and_the_audit_names_the_fields_not_the_values(staff, patient):
    item = add(staff, patient, "medications")
    services.item_update(
        staff, item=item, instructions="20 mg daily", status="stopped", stop_date=TODAY
    )
    item.refresh_from_db()
    assert item.instructions == "20 mg daily" and item.status == "stopped"
    event = AuditEvent.objects.get(action="clinical.update")
    assert event.details["fields"] == ["instructions", "status", "stop_date"]
    assert "20 mg" not in str(event.details)


def test_a_bad_edit_changes_nothing(staff, patient):
    item = add(staff, patient, "problems")
    with pytest.raises(ValidationError):
        services.item_update(staff, item=item, display="New\x00name", status="resolved")
    item.refresh_from_db()
    assert item.display == "Essential (primary) hypertension" and item.status == "active"
    assert not AuditEvent.objects.filter(action="clinical.update").exists()


def test_an_item_of_a_signed_encounter_cannot_be_edited(staff, provider, patient, encounter):
    item = add(staff, patient, "labs", encounter=encounter)
    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(ValidationError, match="amend"):
        services.item_update(provider, item=item, value="9.9")
    item.refresh_from_db()
    assert item.value == "6.1"


def test_nothing_can_be_added_to_a_signed_encounter(staff, provider, patient, encounter):
    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(ValidationError) as caught:
        add(staff, patient, "vitals", encounter=encounter)
    assert "encounter" in caught.value.message_dict
    assert not Vital.objects.exists()


def test_an_item_attaches_only_to_an_encounter_of_its_own_chart(staff, patient, practice):
    from tests.factories import make_patient

    other = services.encounter_create(staff, patient=make_patient(practice), visit_date=TODAY)
    with pytest.raises(ValidationError):
        add(staff, patient, "vitals", encounter=other)


def test_share_choices_on_a_signed_encounter_are_the_providers(staff, provider, patient, encounter):
    lab = add(staff, patient, "labs", encounter=encounter)
    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(PermissionDenied):
        services.item_share(staff, item=lab, shared=True)
    with pytest.raises(PermissionDenied):
        services.encounter_share(staff, encounter=encounter, note_shared=True)
    services.item_share(provider, item=lab, shared=True)
    services.encounter_share(provider, encounter=encounter, note_shared=True)
    lab.refresh_from_db()
    encounter.refresh_from_db()
    assert lab.shared_with_patient and encounter.note_shared_with_patient
    assert encounter.is_visible_to_patient
    assert list(Encounter.objects.visible_to_patient()) == [encounter]
    assert list(LabResult.objects.shared()) == [lab]
    assert AuditEvent.objects.filter(action="clinical.share").count() == 1
    assert AuditEvent.objects.filter(action="encounter.share").count() == 1


def test_staff_share_a_standalone_item_and_take_it_back(staff, patient):
    lab = add(staff, patient, "labs")
    services.item_share(staff, item=lab, shared=True)
    assert LabResult.objects.shared().count() == 1
    services.item_share(staff, item=lab, shared=False)
    assert LabResult.objects.shared().count() == 0


def test_a_shared_but_unsigned_encounter_is_not_visible_to_the_patient(provider, encounter):
    services.encounter_share(provider, encounter=encounter, note_shared=True)
    encounter.refresh_from_db()
    assert not encounter.is_visible_to_patient
    assert not Encounter.objects.visible_to_patient().exists()


def test_an_unsigned_encounter_is_edited_and_a_signed_one_refused(staff, provider, encounter):
    services.encounter_update(staff, encounter=encounter, note="Cough for a week")
    encounter.refresh_from_db()
    assert encounter.note == "Cough for a week"
    assert AuditEvent.objects.filter(action="encounter.update").count() == 1
    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(ValidationError, match="amended"):
        services.encounter_update(provider, encounter=encounter, note="Changed")
    encounter.refresh_from_db()
    assert encounter.note == "Cough for a week"


def test_a_signed_encounter_is_amended_with_author_and_time(staff, provider, encounter):
    with pytest.raises(ValidationError):
        services.encounter_amend(staff, encounter=encounter, text="Too early")
    services.encounter_sign(provider, encounter=encounter)
    amendment = services.encounter_amend(staff, encounter=encounter, text=" Correction ")
    assert amendment.text == "Correction" and amendment.author == staff
    assert amendment.created_at is not None
    assert AuditEvent.objects.filter(action="encounter.amend").count() == 1


@pytest.mark.parametrize("text", ["", "   ", "bad\x00", "x" * 10_001, None])
def test_a_bad_amendment_is_refused(provider, encounter, text):
    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(ValidationError) as caught:
        services.encounter_amend(provider, encounter=encounter, text=text)
    assert "text" in caught.value.message_dict
    assert not EncounterAmendment.objects.exists()


def test_outsiders_cannot_amend_share_or_edit(outsider, staff, provider, patient, encounter):
    item = add(staff, patient, "allergies")
    services.encounter_sign(provider, encounter=encounter)
    for call in (
        lambda: services.encounter_amend(outsider, encounter=encounter, text="x"),
        lambda: services.encounter_share(outsider, encounter=encounter, note_shared=True),
        lambda: services.item_update(outsider, item=item, reaction="x"),
        lambda: services.item_share(outsider, item=item, shared=False),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_every_kind_has_its_own_table_and_newest_first_order(staff, patient):
    older = add(staff, patient, "immunizations", recorded_on=dt.date(2020, 1, 1))
    newer = add(staff, patient, "immunizations", recorded_on=dt.date(2025, 1, 1))
    assert list(patient.immunizations.all()) == [newer, older]
    assert list(Immunization.objects.newest_first()) == [newer, older]
    for model in (Problem, Medication, Allergy, Procedure, CarePlan):
        assert not model.objects.exists()
