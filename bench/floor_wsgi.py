"""Portico's WSGI application plus one page for bench/record_pages.py: the least a patient's
record page can do under the rules, and nothing else.

`/bench-floor/<access id>/` is answered through the same middleware as every page (session,
account, staff memberships, session timeout, second factor) and the same access check as every
record page (`records.views.patient_record_view`: the account's portal accesses are read, so a
revoke takes effect on the next request), writes the read's audit event, and answers "ok" with
no template. Its throughput is the ceiling for any record page on the same server: what a page
shows can only cost more.

Loaded by gunicorn only for the benchmark (`--pythonpath bench floor_wsgi:application`); the
route is appended after Portico's own, so no other page resolves differently.
"""

from django.http import HttpResponse
from django.urls import clear_url_caches, path

from portico.wsgi import application  # noqa: F401 (sets Django up; gunicorn serves it)

import portico.urls  # isort: skip
from portico.records import services as records  # isort: skip
from portico.records.views import patient_record_view  # isort: skip


@patient_record_view
def record_floor(request, access, _accesses):
    """The record pages' own access check (patient_record_view), their audit row, no page."""
    records.record_viewed(request.user, access=access, page="home")
    return HttpResponse("ok", content_type="text/plain")


portico.urls.urlpatterns.append(path("bench-floor/<uuid:access_id>/", record_floor))
clear_url_caches()
