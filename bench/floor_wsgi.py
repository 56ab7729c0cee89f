"""Portico's WSGI application plus the benches' routes: the least a patient's
record page can do under the rules, and which code the server runs.

`/bench-floor/<access id>/` is answered through the same middleware as every page (session,
account, staff memberships, session timeout, second factor) and the same access check as every
record page (`records.views.patient_record_view`: the account's portal accesses are read, so a
revoke takes effect on the next request), writes the read's audit event, and answers "ok" with
no template. Its throughput is the ceiling for any record page on the same server: what a page
shows can only cost more.

`/bench-public-floor/<5 digits>/` (bench/booking.py) is the least a public profile page can do:
the same middleware, then the public profile with that number looked up through the booking
selectors (one ORM query: On, attested, qualifying membership, a visit type offered online),
and "ok" with no template. No page that shows the profile can cost less; a whole-page cache
that had to ask the database whether its copy is still current would cost about this much.

`/bench-one-row/<5 digits>/` (bench/booking.py) reads even less: one profile row by its number
(a unique index), no public conditions, and "ok". It is the least any page that reads anything
from the database can cost, for comparing with the bare view (middleware and "ok" only).

`/bench-fhir-floor/` (bench/fhir_api.py) is the least a patient app's read can do under the rules:
the same middleware, the bearer token checked as every FHIR request checks it
(`fhir.auth.authenticate`: django-oauth-toolkit's lookup of the token by its checksum, its
expiry, the app connection it was issued for and the portal access that connection reads
through, so a disconnect or a revoke acts on the next request), the token's scopes asked for
an Observation search, the read's audit row with the app's name (`fhir.services.app_read`),
and "ok" with no resource. It is the rules floor with token authentication instead of the
session: no FHIR answer can cost less.

`/bench-code/` answers the folder the server's `portico` package was imported from, so the
bench can check that `--code-dir` serves the code it names.

With BENCH_TRACEMALLOC=1 in its environment (bench/messaging_pages.py's upload test only), the
worker traces Python's allocations from its start, and `/bench-memory/` answers the current
and peak traced sizes in bytes ("current peak") since the previous call, then resets the peak.

Loaded by gunicorn only for the benchmark (`--pythonpath bench floor_wsgi:application`); the
routes are appended after Portico's own, so no other page resolves differently. The names that
moved between Portico versions come through bench/compat.py.
"""

import os
import tracemalloc
from pathlib import Path

from django.http import HttpResponse
from django.urls import clear_url_caches, path

from portico.wsgi import application  # noqa: F401 (sets Django up; gunicorn serves it)

import compat  # isort: skip
import portico  # isort: skip
import portico.urls  # isort: skip

record_viewed = compat.record_viewed()
patient_record_view = compat.patient_record_view()


@patient_record_view
def record_floor(request, access, _accesses):
    """The record pages' own access check (patient_record_view), their audit row, no page."""
    record_viewed(request.user, access=access, page="home")
    return HttpResponse("ok", content_type="text/plain")


def public_floor(_request, number):
    """The public profile's own lookup (booking.selectors), no page."""
    from django.http import Http404

    from portico.booking import selectors

    if selectors.public_profiles().filter(number=number).values_list("pk").first() is None:
        raise Http404
    return HttpResponse("ok", content_type="text/plain")


def one_row(_request, number):
    """One row by a unique index: the least a page that reads the database can do."""
    from django.http import Http404

    from portico.booking.models import ProviderProfile

    if ProviderProfile.objects.filter(number=number).values_list("pk").first() is None:
        raise Http404
    return HttpResponse("ok", content_type="text/plain")


def fhir_floor(request):
    """The FHIR server's own bearer check, scope check and audit row, no resource."""
    from portico.fhir import scopes
    from portico.fhir.auth import authenticate, outcome_response
    from portico.fhir.services import app_read

    caller = authenticate(request)
    if isinstance(caller, HttpResponse):
        return caller
    if not scopes.allowed(caller.scopes, "Observation", "s"):
        return outcome_response(403, "forbidden", "The app may not search Observations.")
    app_read(caller.connection, what="Observation search", count=0)
    return HttpResponse("ok", content_type="text/plain")


def code_location(_request):
    return HttpResponse(
        str(Path(portico.__file__).resolve().parent.parent), content_type="text/plain"
    )


def traced_memory(_request):
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    return HttpResponse(f"{current} {peak}", content_type="text/plain")


portico.urls.urlpatterns += [
    path("bench-floor/<uuid:access_id>/", record_floor),
    path("bench-code/", code_location),
    path("bench-public-floor/<str:number>/", public_floor),
    path("bench-one-row/<str:number>/", one_row),
    path("bench-fhir-floor/", fhir_floor),
]
if os.environ.get("BENCH_TRACEMALLOC") == "1":
    tracemalloc.start()
    portico.urls.urlpatterns.append(path("bench-memory/", traced_memory))
clear_url_caches()
