"""SMART's reference Python client (`fhirclient`) reads the server: it finds the OAuth
endpoints in the CapabilityStatement, parses every resource with its own R4 models, and pages
a search by the next links. Its requests go through Django's test client in-process (the
browser test drives the same client over HTTP with the real launch)."""

from __future__ import annotations

import pytest
import requests
from django.test import Client
from django.urls import reverse
from fhirclient.models.allergyintolerance import AllergyIntolerance
from fhirclient.models.condition import Condition
from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.encounter import Encounter
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.models.practitioner import Practitioner
from fhirclient.server import FHIRServer
from requests.structures import CaseInsensitiveDict

from portico.fhir.server.resources import TYPES
from tests.fhir.conftest import connect_app
from tests.fhir.server_support import BASE, build_record

pytestmark = pytest.mark.django_db

HOST = "http://testserver"


class DjangoTransport(requests.adapters.BaseAdapter):
    """A `requests` transport answering from the Django application in-process."""

    def send(self, request, **kwargs):
        headers = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        answer = Client().generic(
            request.method,
            request.url[len(HOST) :],
            request.body or "",
            content_type=request.headers.get("Content-Type", ""),
            **headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


@pytest.fixture
def server(app, account, patient, provider) -> FHIRServer:
    build_record(patient, provider, n=3)
    fhir = FHIRServer(None, base_uri=BASE)
    fhir.session.mount(HOST + "/", DjangoTransport())
    fhir.get_capability()
    fhir.auth.access_token = connect_app(app, account)["access_token"]
    return fhir


def test_fhirclient_finds_the_smart_endpoints_in_the_capability_statement(server):
    assert server.auth.auth_type == "oauth2"
    assert server.auth._authorize_uri == HOST + reverse("oauth2_provider:authorize")
    assert server.auth._token_uri == HOST + reverse("oauth2_provider:token")
    listed = [r.type for r in server.capabilityStatement.rest[0].resource]
    assert listed == list(TYPES)


def test_fhirclient_reads_the_patient_and_what_it_names(server, patient, practice):
    read = Patient.read(str(patient.public_id), server)
    assert read.name[0].family == patient.legal_last_name
    assert read.managingOrganization.reference == f"Organization/{practice.public_id}"
    encounter = next(Encounter.where({"_count": "1"}).perform_resources_iter(server))
    practitioner_id = encounter.participant[0].individual.reference.split("/")[1]
    assert Practitioner.read(practitioner_id, server).name[0].family == "Provider"


def test_fhirclient_pages_an_observation_search_by_category(server):
    search = Observation.where({"category": "laboratory", "_count": "2"})
    pages = list(search.perform_iter(server))
    labs = [entry.resource for page in pages for entry in page.entry or []]
    assert len(pages) > 1 and pages[0].total == len(labs)
    assert {lab.category[0].coding[0].code for lab in labs} == {"laboratory"}
    assert len({lab.id for lab in labs}) == len(labs)


def test_fhirclient_parses_every_type_and_everything(server):
    for model in (AllergyIntolerance, Condition, DocumentReference, Encounter, Observation):
        found = list(model.where({"_count": "50"}).perform_resources_iter(server))
        assert found and all(isinstance(resource, model) for resource in found)
    from fhirclient.models.bundle import Bundle

    everything = Bundle.read_from("Patient/$everything?_count=200", server)
    kinds = {entry.resource.resource_type for entry in everything.entry}
    assert kinds == set(TYPES)
