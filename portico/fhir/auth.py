"""Who is calling the FHIR server: the bearer token, its connection, and the access it reads
through, checked on every request (SPEC §11.1).

The token is checked by django-oauth-toolkit (only its checksum is stored; expired and revoked
tokens fail). Its connection must still be live (portico.fhir.services.connection_is_live): a
disconnected app, a revoked portal access or a representative's ended access stops every app
on the next request. The answer to a refused call is a FHIR OperationOutcome with the
`WWW-Authenticate` challenge of RFC 6750.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.http import HttpResponse
from oauth2_provider.oauth2_backends import get_oauthlib_core

from portico.fhir import selectors
from portico.fhir.models import AppConnection
from portico.fhir.services import connection_is_live

FHIR_JSON = "application/fhir+json; charset=utf-8"


def outcome_response(
    status: int, code: str, diagnostics: str, *, headers: dict | None = None
) -> HttpResponse:
    """A FHIR OperationOutcome (one error issue) with an HTTP status."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unauthorized(diagnostics: str) -> HttpResponse:
    return outcome_response(
        401,
        "login",
        diagnostics,
        headers={"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_token"'},
    )


@dataclass(frozen=True)
class Caller:
    """An app's live connection and what its token allows."""

    connection: AppConnection
    access: object  # portal.PortalAccess or portal.Representative
    scopes: tuple[str, ...]

    @property
    def patient(self):
        return self.connection.patient


def authenticate(request) -> Caller | HttpResponse:
    """The calling app's Caller, or the 401 OperationOutcome to answer with."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        return unauthorized("The access token is missing, expired or revoked.")
    connection = selectors.connection_of_token(oauth_request.access_token)
    access = connection.access if connection is not None else None
    if connection is None or not connection_is_live(connection, access):
        return unauthorized("This app's access to the record has ended.")
    return Caller(connection=connection, access=access, scopes=tuple(oauth_request.scopes))
