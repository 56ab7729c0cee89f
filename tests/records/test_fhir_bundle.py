"""SPEC §6.2: the FHIR R4 Bundle download holds the shared record, validates with
fhir.resources' R4B models and round-trips through them."""

import base64
import json
import re

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from portico.charts.models import EncounterAmendment
from portico.records import fhir, selectors
from tests.records import builders
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db


def download(client, patient) -> dict:
    response = client.get(record_url(patient, "records:download_fhir"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def test_bundle_validates_and_round_trips(patient_client, patient, provider):
    builders.full_record(patient, provider, n=2)

    data = download(patient_client, patient)

    parsed = Bundle.model_validate_json(json.dumps(data))
    again = json.loads(parsed.model_dump_json(exclude_none=True))
    assert again["type"] == "collection"
    assert [(e["resource"]["resourceType"], e["resource"]["id"]) for e in again["entry"]] == [
        (r["resourceType"], r["id"]) for r in resources(data)
    ]
    assert again["entry"] == data["entry"]
    kinds = {r["resourceType"] for r in resources(data)}
    assert kinds == {
        "Patient",
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Immunization",
        "Procedure",
        "CarePlan",
        "Observation",
        "Encounter",
        "DocumentReference",
        "Appointment",
    }


def test_every_reference_points_into_the_bundle(patient_client, patient, provider):
    builders.full_record(patient, provider, n=1)
    data = download(patient_client, patient)

    full_urls = {e["fullUrl"] for e in data["entry"]}
    text = json.dumps(data)
    references = set(re.findall(r'"reference": "([^"]+)"', text))
    assert references
    assert references <= full_urls


def test_only_shared_items_go_into_the_bundle(patient_client, patient, provider):
    for build, _text in builders.SECTIONS.values():
        build(patient, shared=True)
        build(patient, shared=False)
    builders.encounter(patient, provider, shared=False, note="Private note")
    builders.encounter(patient, provider, signed=False, note="Draft note")

    data = download(patient_client, patient)

    # One shared item per section: labs, vitals and assessments are Observations.
    assert len(resources(data, "Observation")) == 3
    for kind in ("Condition", "MedicationRequest", "AllergyIntolerance", "Immunization"):
        assert len(resources(data, kind)) == 1, kind
    assert resources(data, "Encounter") == []
    text = json.dumps(data)
    assert "Private note" not in text and "Draft note" not in text


def test_lab_observation_carries_value_range_and_interpretation(patient_client, patient):
    builders.lab(patient, flag="H")

    (lab,) = [o for o in resources(download(patient_client, patient), "Observation")]
    assert lab["meta"]["profile"] == [fhir.US_CORE + "us-core-observation-lab"]
    assert lab["category"][0]["coding"][0]["code"] == "laboratory"
    assert lab["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "4548-4",
        "display": "Hemoglobin A1c",
    }
    assert lab["valueQuantity"] == {
        "value": 8.1,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert lab["referenceRange"][0]["low"]["value"] == 4
    assert lab["referenceRange"][0]["high"]["value"] == 5.6
    assert lab["interpretation"][0]["coding"][0]["code"] == "H"
    assert lab["interpretation"][0]["text"] == "High"


def test_shared_encounter_summary_includes_amendments(patient_client, patient, provider):
    encounter = builders.encounter(patient, provider, note="Knee pain, improving.")
    EncounterAmendment.objects.create(encounter=encounter, text="Ice twice a day.")

    data = download(patient_client, patient)
    (visit,) = resources(data, "Encounter")
    (note,) = resources(data, "DocumentReference")
    assert visit["status"] == "finished"
    assert note["context"]["encounter"] == [{"reference": f"urn:uuid:{encounter.public_id}"}]
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    assert "Knee pain, improving." in text
    assert "Ice twice a day." in text


def test_patient_resource_is_us_core_shaped(patient_client, patient):
    (resource,) = resources(download(patient_client, patient), "Patient")
    assert resource["meta"]["profile"] == [fhir.US_CORE + "us-core-patient"]
    assert resource["name"][0] == {
        "use": "official",
        "family": patient.legal_last_name,
        "given": ["Robin"],
    }
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1980-04-21"
    assert resource["identifier"][0]["value"] == str(patient.public_id)


def test_validation_refuses_data_that_is_not_fhir(patient, provider):
    builders.lab(patient)
    data = fhir.record_bundle_data(selectors.shared_record(patient))
    data["entry"][1]["resource"]["valueQuantity"]["value"] = "lots"

    with pytest.raises(ValidationError):
        fhir.validate_bundle(data)
