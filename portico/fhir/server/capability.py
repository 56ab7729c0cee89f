"""The CapabilityStatement (`GET /fhir/R4/metadata`), made from the server's one table
(portico.fhir.server.resources.TYPES) and the search's own lists of parameters, so it lists
exactly what the routes and the searches do."""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.urls import reverse

from portico.fhir.server.resources import TYPES
from portico.fhir.server.search import DEFAULT_COUNT, MAX_COUNT

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
EVERYTHING_DEFINITION = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
# The interactions every type answers (read and search); nothing writes.
INTERACTIONS = ("read", "search-type")
# The operations, by the type they are on.
OPERATIONS = {"Patient": [("everything", EVERYTHING_DEFINITION)]}
RELEASED = "2026-12-01"

RESULT_PARAMS_DOC = (
    f"_count (default {DEFAULT_COUNT}, at most {MAX_COUNT}); _summary=count; the first page "
    "carries the total, later pages only with _total=accurate (or estimate), none with "
    "_total=none; _include as listed per type; pages follow the Bundle's next link "
    "(_cursor). Searches are strict: an unknown parameter or modifier, or a value the server "
    "cannot read, is refused with 400 and an OperationOutcome; with `Prefer: handling=lenient` "
    "unknown parameters are ignored instead (and left out of the self link). Every search is "
    "of the token's patient: any other patient matches nothing."
)


def _resource(name: str) -> dict:
    rtype = TYPES[name]
    data: dict = {
        "type": name,
        "interaction": [{"code": code} for code in INTERACTIONS],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
    }
    if rtype.profiles:
        data["supportedProfile"] = list(rtype.profiles)
    if rtype.includes:
        data["searchInclude"] = list(rtype.includes)
    data["searchParam"] = [
        {"name": param_name, "type": param.type, "documentation": param.documentation}
        for param_name, param in rtype.params.items()
    ]
    operations = OPERATIONS.get(name)
    if operations:
        data["operation"] = [{"name": op, "definition": url} for op, url in operations]
    return data


def capability_statement() -> dict:
    base = settings.PORTICO_BASE_URL
    oauth = [
        ("authorize", reverse("oauth2_provider:authorize")),
        ("token", reverse("oauth2_provider:token")),
        ("revoke", reverse("oauth2_provider:revoke-token")),
    ]
    return {
        "resourceType": "CapabilityStatement",
        "id": "portico",
        "status": "active",
        "date": RELEASED,
        "publisher": "Portico",
        "kind": "instance",
        "software": {"name": "Portico"},
        "implementation": {
            "description": "Portico patient-access API (read-only)",
            "url": settings.PORTICO_FHIR_BASE_URL,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": RESULT_PARAMS_DOC,
                "security": {
                    "cors": True,
                    "service": [
                        {
                            "coding": [{"system": RESTFUL_SECURITY, "code": "SMART-on-FHIR"}],
                            "text": "OAuth2 using SMART-on-FHIR profile "
                            "(see http://docs.smarthealthit.org)",
                        }
                    ],
                    "extension": [
                        {
                            "url": SMART_OAUTH_URIS,
                            "extension": [
                                {"url": kind, "valueUri": base + path} for kind, path in oauth
                            ],
                        }
                    ],
                },
                "resource": [_resource(name) for name in TYPES],
            }
        ],
    }


@functools.lru_cache(maxsize=4)
def _capability_json(base_url: str, fhir_base_url: str) -> str:
    return json.dumps(capability_statement(), ensure_ascii=False, separators=(",", ":"))


def capability_json() -> str:
    """The statement as JSON text (made once per base URL)."""
    return _capability_json(settings.PORTICO_BASE_URL, settings.PORTICO_FHIR_BASE_URL)
