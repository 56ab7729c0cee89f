"""The patient's "Connected apps" (SPEC §11.1): the apps the account allowed to read a record
through SMART on FHIR — which record each reads, what it may read, when it was connected and
when it last read — and "Disconnect", which revokes the app's tokens at once
(fhir.services.disconnect).

The page belongs to the account, not to one record: it lists the apps connected to any of the
account's records, its own and those it represents. Another account's connection is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portico.fhir import scopes, selectors, services
from portico.fhir.models import AppConnection
from portico.portal import representation


@dataclass(frozen=True)
class ConnectedApp:
    """One app of the Connected apps page."""

    connection: AppConnection
    # Whose record it reads ("Your record at Riverside Clinic"); only the practice's name when
    # the access it read through has ended (the portal home shows no more of such a record).
    record: str
    reads: list[str]
    live: bool


def _connected_app(connection: AppConnection) -> ConnectedApp:
    access = connection.access
    live = services.connection_is_live(connection, access)
    return ConnectedApp(
        connection=connection,
        record=representation.record_label(access) if live else connection.practice.name,
        reads=scopes.consent_lines(connection.scopes),
        live=live,
    )


@login_required
@never_cache
def connected_apps(request):
    """The account's connected apps, newest first, each with a "Disconnect" button."""
    connections = selectors.connections_of(request.user)
    services.connections_listed(request.user, connections=connections)
    return render(
        request,
        "fhir/connected_apps.html",
        {"apps": [_connected_app(c) for c in connections]},
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def disconnect(request, connection_id):
    """The confirm step (GET) and the disconnect itself (POST): the app's tokens stop working
    at once. Another account's connection, or one already disconnected, is a 404."""
    connection = selectors.connection_of_account(request.user, connection_id)
    if connection is None:
        raise Http404
    if request.method == "POST":
        services.disconnect(request.user, connection)
        messages.success(
            request,
            gettext("“%(app)s” is disconnected. It can no longer read the record.")
            % {"app": connection.application.name},
        )
        return redirect("fhir_portal:connected_apps")
    services.connections_listed(request.user, connections=[connection], page="disconnect app")
    return render(request, "fhir/disconnect_confirm.html", {"app": _connected_app(connection)})
