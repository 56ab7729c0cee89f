"""An app reads one patient's record and nothing else (SPEC §11.1): for every resource type and
every search parameter, another patient's resources never come back, and another practice's
practitioners and organization are not there at all (tenancy)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from portico.fhir.server.resources import TYPES
from tests import factories
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import (
    BASE,
    App,
    another_patient,
    build_record,
    other_practice_world,
)

pytestmark = pytest.mark.django_db

SHARED_BY_THE_PRACTICE = ("Practitioner", "Organization")

# Token values that match the records the tests build (tests.records.builders), so each search
# finds the reader's own resources while it must find nobody else's.
TOKENS = {
    ("Patient", "identifier"): None,  # values from the other patient (below)
    ("AllergyIntolerance", "clinical-status"): ["active"],
    ("AllergyIntolerance", "code"): ["http://www.nlm.nih.gov/research/umls/rxnorm|7980", "7980"],
    ("Condition", "category"): ["problem-list-item", "encounter-diagnosis"],
    ("Condition", "clinical-status"): ["active"],
    ("Condition", "code"): ["http://hl7.org/fhir/sid/icd-10-cm|E11.9", "E11.9"],
    ("MedicationRequest", "status"): ["active"],
    ("MedicationRequest", "intent"): ["order"],
    ("MedicationRequest", "code"): ["860975"],
    ("Immunization", "status"): ["completed"],
    ("Immunization", "vaccine-code"): ["http://hl7.org/fhir/sid/cvx|140"],
    ("Procedure", "status"): ["completed"],
    ("Procedure", "code"): ["45378"],
    ("Observation", "category"): ["laboratory", "vital-signs", "survey"],
    ("Observation", "code"): ["http://loinc.org|4548-4", "8867-4", "http://loinc.org|"],
    ("Observation", "status"): ["final"],
    ("Encounter", "status"): ["finished"],
    ("Encounter", "class"): ["AMB"],
    ("CarePlan", "category"): ["assess-plan"],
    ("CarePlan", "status"): ["active"],
    ("Appointment", "status"): ["booked"],
    ("DocumentReference", "category"): ["clinical-note"],
    ("DocumentReference", "type"): ["http://loinc.org|11506-3"],
    ("DocumentReference", "status"): ["current"],
}


@pytest.fixture
def world(app, admin, account, patient, provider, practice):
    """Me (the patient's app), another patient of the same practice with an app of their own,
    and a patient of another practice with theirs; what each of the others' apps sees."""
    build_record(patient, provider, n=1)
    other = another_patient(practice, provider)
    them = App(connect_app(app, factories.enroll(admin, other.patient))["access_token"])
    far_practice, far_provider, far = other_practice_world()
    far_admin = factories.make_admin(far_practice, full_name="Faye Admin")
    far_app = App(connect_app(app, factories.enroll(far_admin, far.patient))["access_token"])
    theirs = [
        (r["resourceType"], r["id"])
        for r in them.everything_in("Patient/$everything", {"_count": "200"})
        if r["resourceType"] not in SHARED_BY_THE_PRACTICE
    ]
    far_ids = [
        (r["resourceType"], r["id"])
        for r in far_app.everything_in("Patient/$everything", {"_count": "200"})
    ]
    assert {t for t, _id in far_ids} >= set(SHARED_BY_THE_PRACTICE)
    return SimpleNamespace(
        me=App(connect_app(app, account)["access_token"]),
        patient=patient,
        other=other.patient,
        theirs=theirs,
        far_ids=far_ids,
        far_provider=far_provider,
        far_practice=far_practice,
        foreign={i for _t, i in theirs} | {i for _t, i in far_ids},
    )


def answered(bundle: dict) -> set[str]:
    """Every id in the entries of a Bundle (the resources' own, and every one they name);
    not the links, which repeat the search as asked."""
    text = json.dumps(bundle.get("entry", []))
    return set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))


def samples(type_name: str, name: str, param, world) -> tuple[list[str], bool]:
    """Values of one search parameter aimed at the others' data, and whether the reader's own
    resources should match them too."""
    other = world.other.public_id
    if name in ("patient", "subject"):
        return [f"Patient/{other}", str(other), f"{BASE}/Patient/{other}"], False
    if name == "_id":
        ids = [i for t, i in world.theirs + world.far_ids if t == type_name][:50]
        return [",".join(ids)], False
    if name == "identifier":
        return [f"urn:portico:patient|{other}", str(other)], False
    if name == "actor":
        return [f"Patient/{other}", f"Practitioner/{world.far_provider.public_id}"], False
    if param.type == "date":
        return ["ge1900", "le2100-12-31", "ne2024-01-01", "lt2100"], True
    values = TOKENS[(type_name, name)]
    assert values is not None, (type_name, name)
    return values, True


@pytest.mark.parametrize("type_name", list(TYPES))
def test_token_of_one_patient_never_reads_anothers_resources_by_any_search_parameter(
    world, type_name
):
    rtype = TYPES[type_name]
    for name, param in rtype.params.items():
        values, finds_mine = samples(type_name, name, param, world)
        for value in values:
            response = world.me.get(type_name, {name: value, "_count": "200"})
            assert response.status_code == 200, (type_name, name, value, response.content)
            bundle = response.json()
            leaked = answered(bundle) & world.foreign
            assert not leaked, (type_name, name, value, leaked)
            if finds_mine and type_name not in SHARED_BY_THE_PRACTICE:
                assert bundle["total"] > 0, (type_name, name, value)
            if not finds_mine:
                assert bundle["total"] == 0, (type_name, name, value)
    # No parameter at all: the reader's own, never the others'.
    assert not answered(world.me.json(type_name, {"_count": "200"})) & world.foreign


def test_token_of_one_patient_never_reads_anothers_resource_by_id(world):
    assert world.theirs and world.far_ids
    for type_name, resource_id in world.theirs + [
        (t, i) for t, i in world.far_ids if t not in ("Practitioner", "Organization")
    ]:
        response = world.me.get(f"{type_name}/{resource_id}")
        assert response.status_code == 404, (type_name, resource_id)
        assert response.json()["resourceType"] == "OperationOutcome"


def test_token_of_one_patient_never_reads_anothers_everything(world):
    assert world.me.get(f"Patient/{world.other.public_id}/$everything").status_code == 404
    for page in world.me.pages("Patient/$everything", {"_count": "7"}):
        assert not answered(page) & world.foreign
    assert world.me.get(f"Patient/{world.patient.public_id}/$everything").status_code == 200


def test_another_practices_practitioner_and_organization_are_404(world):
    far = {t: i for t, i in world.far_ids if t in ("Practitioner", "Organization")}
    assert far["Organization"] == str(world.far_practice.public_id)
    assert far["Practitioner"] == str(world.far_provider.public_id)
    for type_name, resource_id in far.items():
        assert world.me.get(f"{type_name}/{resource_id}").status_code == 404
        assert world.me.json(type_name, {"_id": resource_id})["total"] == 0


def test_practitioners_are_the_practices_providers_only(world, admin, staff, provider, practice):
    bundle = world.me.json("Practitioner")
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(provider.public_id)]
    for user in (admin, staff):  # staff of the practice, not providers
        assert world.me.get(f"Practitioner/{user.public_id}").status_code == 404
    organizations = world.me.json("Organization")
    assert [e["resource"]["id"] for e in organizations["entry"]] == [str(practice.public_id)]
