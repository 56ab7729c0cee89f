"""Reads of app connections (which connection a token reads through, an account's apps) and
of registered apps (a practice's, the operator's)."""

from __future__ import annotations

from oauth2_provider.models import Application

from portico.fhir.models import AppConnection

# The connection's app and chart, and the access it reads through with what deciding whether
# it is active reads (the current invitation) and what naming the record reads (the practice).
_ACCESS_RELATED = (
    "application",
    "account",
    "patient__practice",
    "practice",
    "own_access__practice",
    "own_access__current_invitation",
    "representative__patient__practice",
    "representative__practice",
    "representative__current_invitation",
)


def connection_of_token(access_token) -> AppConnection | None:
    """The connection an access token was issued for, with its app, account, chart and the
    portal access it reads through (read anew on every request: a revoke acts at once).

    Every FHIR request reads it, so it costs two short queries: the connection with its app,
    account, chart and practice, then the access by its key. (Joining the access's two
    nullable keys too made PostgreSQL spend 3 ms planning each request, against 0.5 ms.) The
    connection's practice and the access's chart and practice are the connection's chart and
    its practice (one chart per connection), so they are not read again."""
    connection = (
        AppConnection.objects.filter(credentials__access_token=access_token)
        .select_related("application", "account", "patient__practice")
        .order_by()
        .first()
    )
    if connection is not None:
        practice = connection.patient.practice
        if connection.practice_id == practice.pk:
            connection.practice = practice
        access = connection.access  # the second query
        if access.patient_id == connection.patient_id:
            access.patient = connection.patient
        if access.practice_id == practice.pk:
            access.practice = practice
    return connection


def connections_of(account) -> list[AppConnection]:
    """The account's connected apps (not disconnected), newest first, with their records."""
    return list(
        AppConnection.objects.filter(account=account, ended_at__isnull=True)
        .select_related(*_ACCESS_RELATED)
        .order_by("-created_at", "-id")
    )


def connection_of_account(account, public_id) -> AppConnection | None:
    """One of the account's live connections by its public id; None for anyone else's."""
    return (
        AppConnection.objects.filter(account=account, public_id=public_id, ended_at__isnull=True)
        .select_related(*_ACCESS_RELATED)
        .first()
    )


def apps_of_practice(practice) -> list[Application]:
    """The apps a practice registered (EHR Settings > Patient apps), by name."""
    return list(
        Application.objects.filter(registration__practice=practice)
        .select_related("registration__registered_by")
        .order_by("name", "id")
    )


def app_of_practice(practice, client_id: str) -> Application | None:
    """One of the apps a practice registered, by its client id; None for anyone else's."""
    return Application.objects.filter(registration__practice=practice, client_id=client_id).first()


def operator_apps() -> list[Application]:
    """The apps the deployment's operator registered (`portico fhir_app`): every patient of
    every practice may connect them."""
    return list(Application.objects.filter(registration__practice__isnull=True).order_by("name"))


def all_apps() -> list[Application]:
    """Every registered app, with who registered it (`portico fhir_app list`)."""
    return list(Application.objects.select_related("registration__practice").order_by("name", "id"))
