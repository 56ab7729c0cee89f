"""Reads of app connections: which connection a token reads through, and an account's apps."""

from __future__ import annotations

from portico.fhir.models import AppConnection

_ACCESS_RELATED = (
    "application",
    "account",
    "patient__practice",
    "practice",
    "own_access",
    "representative__patient__practice",
    "representative__practice",
)


def connection_of_token(access_token) -> AppConnection | None:
    """The connection an access token was issued for, with its app, account, chart and the
    portal access it reads through (read anew on every request: a revoke acts at once)."""
    return (
        AppConnection.objects.filter(credentials__access_token=access_token)
        .select_related(*_ACCESS_RELATED)
        .first()
    )


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
