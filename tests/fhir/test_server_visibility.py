"""An app sees what its holder sees in the portal (SPEC §11.1): shared items only (nothing
unshared, not even in a total), and a representative's app nothing confidential from
representatives. Every resource the server returns validates with fhir.resources (R4B), and
every reference in its answers resolves by a read on the server."""

from __future__ import annotations

import pytest

from portico.fhir.server.resources import TYPES
from tests import factories
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import App, build_record, references_in, validate

pytestmark = pytest.mark.django_db

SEARCHED = [name for name in TYPES if name not in ("Practitioner", "Organization")]


@pytest.fixture
def record(patient, provider):
    return build_record(patient, provider, n=2)


@pytest.fixture
def api(app, account, record) -> App:
    return App(connect_app(app, account)["access_token"])


@pytest.fixture
def rep_api(app, admin, patient, record) -> App:
    rep_account, representative = factories.enroll_representative(admin, patient)
    return App(connect_app(app, rep_account, access=representative)["access_token"])


def seen_by(api: App, params=None) -> tuple[set[str], int]:
    """The ids every search and $everything answer (all pages, each resource once), and the
    sum of the searches' totals."""
    ids, total = set(), 0
    for name in SEARCHED:
        pages = api.pages(name, {"_count": "3", "_total": "accurate", **(params or {})})
        assert len({page["total"] for page in pages}) == 1
        total += pages[0]["total"]
        found = [(name, e["resource"]["id"]) for page in pages for e in page.get("entry", [])]
        assert len(found) == len(set(found)) == pages[0]["total"], name
        ids |= set(found)
    everything = [
        (r["resourceType"], r["id"])
        for r in api.everything_in("Patient/$everything", {"_count": "11"})
    ]
    assert len(everything) == len(set(everything))
    assert ids <= set(everything)
    # Encounters and their notes share their ids (DocumentReference/<visit id>).
    return {i for _t, i in ids | set(everything)}, total


def test_unshared_items_are_absent_from_every_search_total_and_everything(
    api, record, patient, practice, provider
):
    ids, total = seen_by(api)
    assert not ids & record.hidden
    # Exactly the shared record (its items, visits and their notes, appointments), the patient,
    # the practice and its provider.
    others = {str(patient.public_id), str(practice.public_id), str(provider.public_id)}
    assert ids == record.shown | record.confidential | others
    everything = api.json("Patient/$everything", {"_count": "0"})["total"]
    assert everything == total + 2  # with the Organization and the one Practitioner
    summary = api.json("Observation", {"_summary": "count"})
    assert "entry" not in summary
    assert summary["total"] == api.json("Observation", {"_count": "200"})["total"]


def test_unshared_items_read_by_id_are_404_like_any_unknown_id(api, record):
    for hidden in record.hidden:
        for name in SEARCHED:
            response = api.get(f"{name}/{hidden}")
            assert response.status_code == 404, (name, hidden)
            assert response.json()["issue"][0]["code"] == "not-found"


def test_confidential_items_are_absent_for_a_representatives_app(rep_api, api, record):
    assert record.confidential
    mine, _total = seen_by(api)
    assert record.confidential <= mine  # the patient's own app has them
    theirs, _total = seen_by(rep_api)
    assert not theirs & record.confidential
    assert not theirs & record.hidden
    assert theirs  # and the rest of the shared record
    for name in SEARCHED:
        for secret in record.confidential:
            assert rep_api.get(f"{name}/{secret}").status_code == 404


def test_a_representatives_totals_do_not_count_confidential_items(rep_api, api):
    for name in ("Observation", "Condition", "Encounter", "DocumentReference"):
        own, represented = api.json(name)["total"], rep_api.json(name)["total"]
        assert represented < own, name


def test_every_resource_validates_and_every_reference_resolves(api, patient):
    resources = api.everything_in("Patient/$everything", {"_count": "13"})
    for name in TYPES:
        resources += api.everything_in(name, {"_count": "200"})
    kinds = {r["resourceType"] for r in resources}
    assert kinds == set(TYPES)
    for resource in resources:
        validate(resource)
    references = references_in(resources)
    assert {ref.split("/")[0] for ref in references} >= {
        "Patient",
        "Practitioner",
        "Organization",
        "Encounter",
    }
    for reference in sorted(references):
        assert not reference.startswith("urn:"), reference
        kind, resource_id = reference.split("/")
        response = api.get(f"{kind}/{resource_id}")
        assert response.status_code == 200, reference
        validate(response.json())


def test_every_search_bundle_validates_with_links_and_includes(api):
    from fhir.resources.R4B.bundle import Bundle

    for name, rtype in TYPES.items():
        for include in [None, *rtype.includes]:
            params = {"_count": "2"} | ({"_include": include} if include else {})
            for page in api.pages(name, params):
                Bundle.model_validate(page)
                for entry in page.get("entry", []):
                    resource = entry["resource"]
                    assert entry["fullUrl"].endswith(
                        f"/{resource['resourceType']}/{resource['id']}"
                    )
                    mode = entry["search"]["mode"]
                    assert mode == ("match" if resource["resourceType"] == name else "include")


def test_includes_bring_the_practitioners_the_page_names(api, provider):
    bundle = api.json("Encounter", {"_include": "Encounter:participant"})
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [(r["resourceType"], r["id"]) for r in included] == [
        ("Practitioner", str(provider.public_id))
    ]
    actors = api.json("Appointment", {"_include": "Appointment:actor"})
    included = {
        e["resource"]["resourceType"] for e in actors["entry"] if e["search"]["mode"] == "include"
    }
    assert included == {"Patient", "Practitioner"}


def test_an_items_visit_is_named_only_when_the_reader_sees_it(api, record):
    conditions = api.everything_in("Condition", {"_count": "200"})
    visit = f"Encounter/{record.encounter.public_id}"
    named = [c for c in conditions if c.get("encounter", {}).get("reference") == visit]
    assert named and all(
        "encounter-diagnosis" in [c["code"] for cat in r["category"] for c in cat["coding"]]
        for r in named
    )
    # The problem attached to an unshared visit is there, without the visit.
    hidden_visits = {f"Encounter/{h}" for h in record.hidden}
    assert not {c.get("encounter", {}).get("reference") for c in conditions} & hidden_visits
    diagnoses = api.everything_in("Condition", {"category": "encounter-diagnosis"})
    assert {c["id"] for c in diagnoses} == {c["id"] for c in named}


def test_a_visit_note_is_read_back_by_its_visits_id(api, record):
    visit_id = str(record.encounter.public_id)
    note = api.json(f"DocumentReference/{visit_id}")
    assert note["context"]["encounter"] == [{"reference": f"Encounter/{visit_id}"}]
    assert api.json(f"Encounter/{visit_id}")["id"] == visit_id
