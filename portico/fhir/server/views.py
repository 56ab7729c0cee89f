"""The FHIR server's routes: plain function views over portico.fhir.server.search.

Every data request, in this order: the format (JSON only, else 406), the bearer token and its
connection (portico.fhir.auth; 401), the token's scopes for the type (403), the parameters
(400), the answer; then one audit row naming the app (fhir.services.app_read), written before
the response is returned. A read that finds nothing (another patient's id, an unshared item, an
item kept from a representative: all alike) is a 404 and is audited as a read of nothing.
Nothing writes: POST, PUT, PATCH and DELETE on resources answer 405.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from portico.fhir import scopes as smart_scopes
from portico.fhir import services
from portico.fhir.auth import FHIR_JSON, authenticate, outcome_response
from portico.fhir.server import bundles, capability, search
from portico.fhir.server.context import Reader
from portico.fhir.server.params import SearchError
from portico.fhir.server.resources import TYPES

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "")
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}


def _json(data: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=FHIR_JSON,
    )
    response["Cache-Control"] = "no-store"
    return response


def _acceptable(request) -> bool:
    """Whether the caller takes JSON: `_format` if given, else the Accept header."""
    wanted = request.GET.get("_format")
    if wanted is not None:
        # A "+" in a query string reads as a space.
        return wanted.split(";")[0].strip().replace(" ", "+").lower() in JSON_FORMATS
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return True
    for part in accept.split(","):
        media, *options = (piece.strip().lower() for piece in part.split(";"))
        if media not in JSON_FORMATS and media not in ("*/*", "application/*"):
            continue
        if any(
            option.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for option in options
        ):
            continue
        return True
    return False


def _not_acceptable() -> HttpResponse:
    return outcome_response(
        406, "not-supported", "This server answers in JSON only (application/fhir+json)."
    )


def _not_allowed(*methods: str) -> HttpResponse:
    return outcome_response(
        405,
        "not-supported",
        "This server only reads: the request's method is not supported here.",
        headers={"Allow": ", ".join(methods)},
    )


def _lenient(request) -> bool:
    return "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")


def _items(*querydicts) -> list[tuple[str, str]]:
    return [(name, value) for qd in querydicts for name, values in qd.lists() for value in values]


def _serve(request, resource_type: str, interaction: str, what: str, answer) -> HttpResponse:
    """Check the format, the token and its scopes; answer (`answer(reader)` gives the data, or
    None for a 404, and how many resources it holds); audit; respond."""
    if not _acceptable(request):
        return _not_acceptable()
    caller = authenticate(request)
    if isinstance(caller, HttpResponse):
        return caller
    if not smart_scopes.allowed(caller.scopes, resource_type, interaction):
        return outcome_response(
            403, "forbidden", f"This app's access does not cover {resource_type} ({what})."
        )
    reader = Reader.of(caller)
    try:
        with translation.override("en"):
            data, count = answer(reader)
    except SearchError as error:
        return outcome_response(400, error.code, error.diagnostics)
    services.app_read(caller.connection, what=what, count=count)
    if data is None:
        return outcome_response(404, "not-found", f"No {resource_type} with this id.")
    return _json(data)


# -- the routes ---------------------------------------------------------------------------------


@csrf_exempt
def metadata(request):
    """The CapabilityStatement: public, no token needed."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET")
    if not _acceptable(request):
        return _not_acceptable()
    response = HttpResponse(capability.capability_json(), content_type=FHIR_JSON)
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _search(request, resource_type: str, items: list[tuple[str, str]]) -> HttpResponse:
    rtype = TYPES[resource_type]

    def answer(reader):
        parsed = search.parse(items, reader, rtype=rtype, lenient=_lenient(request))
        page = search.run(rtype, parsed, reader)
        data = bundles.searchset(
            page, path=resource_type, params=parsed.echo, cursor=parsed.cursor_text
        )
        return data, len(page.matches) + len(page.included)

    return _serve(request, resource_type, "s", f"{resource_type} search", answer)


@csrf_exempt
def search_type(request, resource_type: str):
    """`GET [base]/[type]?...`: a search (POST here would create: not supported)."""
    if request.method != "GET":
        return _not_allowed("GET")
    return _search(request, resource_type, _items(request.GET))


@csrf_exempt
def search_post(request, resource_type: str):
    """`POST [base]/[type]/_search` with form-encoded parameters (GET also answers)."""
    if request.method == "GET":
        return _search(request, resource_type, _items(request.GET))
    if request.method != "POST":
        return _not_allowed("GET", "POST")
    if request.content_type not in FORM_TYPES and request.body:
        return outcome_response(
            415, "not-supported", "Send the search as application/x-www-form-urlencoded."
        )
    return _search(request, resource_type, _items(request.GET, request.POST))


@csrf_exempt
def read(request, resource_type: str, resource_id: str):
    """`GET [base]/[type]/[id]`."""
    if request.method != "GET":
        return _not_allowed("GET")
    rtype = TYPES[resource_type]

    def answer(reader):
        resource = search.read(rtype, resource_id, reader)
        return resource, (0 if resource is None else 1)

    return _serve(request, resource_type, "r", f"{resource_type} read", answer)


@csrf_exempt
def everything(request, resource_id: str | None = None):
    """`GET [base]/Patient/$everything` and `[base]/Patient/[id]/$everything`: the record,
    paged, as far as the token's scopes reach."""
    if request.method != "GET":
        return _not_allowed("GET")
    path = "Patient/$everything" if resource_id is None else f"Patient/{resource_id}/$everything"

    def answer(reader):
        if resource_id is not None and resource_id != str(reader.patient.public_id):
            return None, 0
        parsed = search.parse(_items(request.GET), reader, rtype=None, lenient=_lenient(request))
        page = search.everything(parsed, reader)
        data = bundles.searchset(page, path=path, params=parsed.echo, cursor=parsed.cursor_text)
        return data, len(page.matches)

    return _serve(request, "Patient", "r", "Patient $everything", answer)


@csrf_exempt
def unknown(request, *args, **kwargs):
    """Anything else under the base: not a type or interaction this server has."""
    return outcome_response(
        404,
        "not-supported",
        "This server has no such resource type or interaction (see /metadata).",
    )
