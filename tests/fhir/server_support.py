"""Helpers of the FHIR server's tests: a record with something of every kind, an app's token
(from the real SMART launch, tests.fhir.conftest.connect_app), and calls as that app."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from portico.charts.models import EncounterAmendment
from portico.charts.record_cache import record_changed
from portico.practices.models import Role
from tests import factories
from tests.fhir.conftest import bearer
from tests.records import builders

BASE = settings.PORTICO_FHIR_BASE_URL


def fhir_path(path: str) -> str:
    """The local path of `path` (relative to the base, or an absolute URL of the server)."""
    if path.startswith(BASE):
        path = path[len(BASE) :]
    return "/fhir/R4/" + path.lstrip("/")


class App:
    """Calls to the server as an app holding `token`."""

    def __init__(self, token: str):
        self.token = token
        self.client = Client()

    def get(self, path: str, params=None, **headers):
        return self.client.get(fhir_path(path), params or {}, **bearer(self.token), **headers)

    def post(self, path: str, data=None, **headers):
        return self.client.post(fhir_path(path), data or {}, **bearer(self.token), **headers)

    def json(self, path: str, params=None) -> dict:
        response = self.get(path, params)
        assert response.status_code == 200, (path, params, response.content[:500])
        assert response["Content-Type"].startswith("application/fhir+json")
        return json.loads(response.content)

    def pages(self, path: str, params=None) -> list[dict]:
        """Every page of a search, following the next links."""
        pages = [self.json(path, params)]
        while True:
            following = [link["url"] for link in pages[-1]["link"] if link["relation"] == "next"]
            if not following:
                return pages
            assert following[0].startswith(BASE + "/")
            pages.append(self.json(following[0]))
            assert len(pages) < 200

    def everything_in(self, path: str, params=None) -> list[dict]:
        """The resources of every page of a search."""
        return [e["resource"] for page in self.pages(path, params) for e in page.get("entry", [])]


def ids_in(bundle: dict) -> list[tuple[str, str]]:
    return [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle.get("entry", [])]


def validate(resource: dict) -> None:
    """Raise unless `resource` is valid by its fhir.resources R4B model."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def references_in(data) -> set[str]:
    """Every `reference` written anywhere in `data`."""
    return set(re.findall(r'"reference":\s*"([^"]+)"', json.dumps(data)))


@dataclass
class Record:
    """What was put in one chart: the ids the server must show, and those it must not."""

    patient: object
    shown: set[str] = field(default_factory=set)  # public ids of shared, visible things
    hidden: set[str] = field(default_factory=set)  # unshared / unsigned / not this reader's
    confidential: set[str] = field(default_factory=set)  # shared, kept from representatives
    encounter: object = None  # a shared, signed visit with items attached


def _ids(rows) -> set[str]:
    return {str(row.public_id) for row in rows}


def build_record(patient, provider, *, n: int = 2, confidential: bool = True) -> Record:
    """A chart with `n` shared items of every section, shared visits (one with items attached
    to it) and appointments; and of every kind one unshared item, an unshared visit, an unsigned
    one; with `confidential`, a shared item of every kind and a shared visit marked confidential
    from representatives (and an item attached to that visit)."""
    record = Record(patient=patient)
    builders.full_record(patient, provider, n=n)
    for key, (build, _text) in builders.SECTIONS.items():
        model = type(build(patient, shared=False))
        record.hidden |= _ids(model.objects.filter(patient=patient, shared_with_patient=False))
        record.shown |= _ids(model.objects.filter(patient=patient, shared_with_patient=True))
        del key
    visit = builders.encounter(patient, provider, visit_date=dt.date(2024, 6, 1))
    EncounterAmendment.objects.create(encounter=visit, text="Checked again.", author=provider)
    record.encounter = visit
    for build, _text in builders.SECTIONS.values():
        record.shown.add(str(build(patient, encounter=visit).public_id))
    hidden_visit = builders.encounter(patient, provider, shared=False, note="Private note")
    draft = builders.encounter(patient, provider, signed=False, note="Draft")
    # An item shared, attached to a visit whose note is not: the item shows, the visit not.
    record.shown.add(str(builders.problem(patient, encounter=hidden_visit).public_id))
    record.hidden |= {str(hidden_visit.public_id), str(draft.public_id)}
    record.shown |= _ids(
        patient.encounters.filter(note_shared_with_patient=True, signed_at__isnull=False)
    )
    record.shown |= _ids(patient.appointments.all())
    if confidential:
        for build, _text in builders.SECTIONS.values():
            item = build(patient, confidential_from_representatives=True)
            record.confidential.add(str(item.public_id))
        secret_visit = builders.encounter(
            patient,
            provider,
            visit_date=dt.date(2024, 7, 1),
            confidential_from_representatives=True,
        )
        attached = builders.lab(patient, encounter=secret_visit)
        record.confidential |= {str(secret_visit.public_id), str(attached.public_id)}
    record_changed(patient.pk)
    return record


def another_patient(practice, provider) -> Record:
    """Another chart of the same practice, with a record of its own."""
    other = factories.make_patient(practice, legal_first_name="Olga", legal_last_name="Other")
    record = build_record(other, provider, n=1)
    record.shown.add(str(other.public_id))
    return record


def other_practice_world():
    """A practice with a provider and a patient of its own."""
    practice = factories.make_practice("Faraway Clinic")
    provider = factories.make_staff(
        practice, role=Role.PROVIDER, credential="DO", full_name="Dr. Far Away"
    )
    patient = factories.make_patient(practice, legal_first_name="Fay", legal_last_name="Away")
    record = build_record(patient, provider, n=1, confidential=False)
    return practice, provider, record


def random_id() -> str:
    return str(uuid.uuid4())
