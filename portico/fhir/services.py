"""Connecting, reading through and disconnecting patient apps; registering apps (SPEC §11.1).

The authorization server (django-oauth-toolkit, portico.fhir.oauth) issues codes and tokens;
what a patient agrees to, what an app reads and what ends its access live here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from portico.audit import context as audit_context
from portico.audit.services import audit_read, audit_record
from portico.fhir.models import AppConnection, AppRegistration
from portico.portal import representation
from portico.practices import permissions
from portico.practices.selectors import membership_for

# How stale "last read" may get before a read writes it again: the Connected apps page shows
# it to the minute, and a write per read would double what a read costs.
LAST_READ_PRECISION = dt.timedelta(minutes=1)


class AppInputError(Exception):
    """Bad input for an app: the message says what to change; nothing was changed."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def given_at(access) -> dt.datetime | None:
    """When the access was last given to its account: its registration, or for a
    representative also the last "invite again"."""
    moments = [access.enrolled_at]
    if access.is_representative:
        moments.append(access.created_at)
    return max((m for m in moments if m is not None), default=None)


def connection_is_live(connection: AppConnection, access) -> bool:
    """Whether the app may read through this connection now: not disconnected, and the portal
    access it reads through is active, held by the account that consented, and was given
    before the consent (a new registration after a revoke does not wake old connections)."""
    if connection.ended_at is not None or access is None:
        return False
    if access.account_id != connection.account_id or not representation.is_active(access):
        return False
    since = given_at(access)
    return since is None or since <= connection.created_at


def _audit_as_holder(access):
    """The audit context of reading or changing a chart through `access` (a representative's
    events carry the relationship)."""
    if access.is_representative:
        return audit_context.acting_for(access.patient_id, access.relationship)
    return contextlib.nullcontext()


def _revoke_credentials(connection: AppConnection) -> None:
    """Every code and token of the connection stops working now."""
    AccessToken.objects.filter(connection_credential__connection=connection).delete()
    RefreshToken.objects.filter(
        id__in=connection.credentials.filter(refresh_token__isnull=False).values(
            "refresh_token_id"
        ),
        revoked__isnull=True,
    ).update(revoked=timezone.now())
    Grant.objects.filter(
        id__in=connection.credentials.filter(grant__isnull=False).values("grant_id")
    ).delete()


@transaction.atomic
def connect(account, *, application: Application, access, scopes: list[str]) -> AppConnection:
    """The patient's consent on the consent page: `application` may read the record of
    `access` (the account's own portal access or a representative's) with `scopes`.

    Connecting an app again to the same record replaces the earlier connection (its tokens stop
    working): one connection per app and record, with what was last agreed to."""
    if access.account_id != account.pk:
        raise Http404
    if not representation.is_active(access):
        raise Http404
    access_field = "representative" if access.is_representative else "own_access"
    for earlier in AppConnection.objects.select_for_update().filter(
        account=account, application=application, ended_at__isnull=True, **{access_field: access}
    ):
        _revoke_credentials(earlier)
        earlier.ended_at = timezone.now()
        earlier.save(update_fields=["ended_at"])
    connection = AppConnection.objects.create(
        account=account,
        application=application,
        practice_id=access.practice_id,
        patient_id=access.patient_id,
        scope=" ".join(scopes),
        **{access_field: access},
    )
    with _audit_as_holder(access):
        audit_record(
            account,
            action="fhir.app_connected",
            practice=access.practice,
            patient=access.patient,
            details={
                "app": application.name,
                "client_id": application.client_id,
                "connection": str(connection.public_id),
                "scope": connection.scope,
            },
        )
    return connection


@transaction.atomic
def disconnect(account, connection: AppConnection) -> None:
    """The patient disconnects an app: its tokens are revoked at once."""
    if connection.account_id != account.pk:
        raise Http404
    if connection.ended_at is not None:
        return
    _revoke_credentials(connection)
    connection.ended_at = timezone.now()
    connection.save(update_fields=["ended_at"])
    with _audit_as_holder(connection.access):
        audit_record(
            account,
            action="fhir.app_disconnected",
            practice=connection.practice,
            patient=connection.patient,
            details={"app": connection.application.name, "connection": str(connection.public_id)},
        )


def connections_listed(
    account, *, connections: list[AppConnection], page: str = "connected apps"
) -> None:
    """Audit the Connected apps pages: whose record each app reads is health information too
    (a represented patient's name), so one read event per record listed, as its holder (as for
    the portal home's list of records)."""
    seen = set()
    for connection in connections:
        access = connection.access
        key = (access.is_representative, access.pk)
        if key in seen:
            continue
        seen.add(key)
        with _audit_as_holder(access):
            audit_read(
                account,
                action="phr.view",
                patient=connection.patient,
                details={"page": page},
            )


def app_read(connection: AppConnection, *, what: str, count: int | None = None) -> None:
    """Audit one read an app made through `connection` (the caller checked it is live): the
    app's name goes in the event, so the patient's access log names it.

    `what` names the interaction without PHI ("Observation search", "Patient read",
    "Patient $everything"); `count` is how many resources the answer held."""
    details: dict = {
        "page": "fhir",
        "app": connection.application.name,
        "connection": str(connection.public_id),
        "what": what,
    }
    if count is not None:
        details["count"] = count
    with _audit_as_holder(connection.access):
        audit_read(
            connection.account, action="phr.app_read", patient=connection.patient, details=details
        )
    now = timezone.now()
    if connection.last_read_at is None or now - connection.last_read_at >= LAST_READ_PRECISION:
        AppConnection.objects.filter(pk=connection.pk).update(last_read_at=now)
        connection.last_read_at = now


# -- registering apps ------------------------------------------------------------------------


def _require_settings_admin(actor, practice) -> None:
    """A practice's apps are EHR Settings: its administrators manage them."""
    permissions.require(
        permissions.can_manage_settings(membership_for(actor, practice)),
        _("Only administrators can change EHR Settings."),
    )


@dataclass(frozen=True)
class RegisteredApp:
    application: Application
    # Shown once, to whoever registered a confidential app; only its hash is kept.
    client_secret: str | None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def _redirect_uri_errors(uris: list[str], *, allow_http: bool) -> list[str]:
    errors = []
    if not uris:
        errors.append(_("Enter at least one redirect URI."))
    for uri in uris:
        parts = urlsplit(uri)
        loopback = parts.hostname in LOOPBACK_HOSTS
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
            errors.append(_("“%(uri)s” is not an absolute web address.") % {"uri": uri})
        elif parts.scheme == "http" and not (loopback or allow_http):
            errors.append(
                _("“%(uri)s” must use https (http only for 127.0.0.1 or localhost).") % {"uri": uri}
            )
    return errors


@transaction.atomic
def register_app(
    actor,
    *,
    name: str,
    redirect_uris: str,
    confidential: bool,
    practice=None,
) -> RegisteredApp:
    """Register a patient app: by the deployment's operator (`actor` None, no practice) or a
    practice's administrator (`practice`).

    Redirect URIs are matched exactly; each must be https, or http on a loopback address (a
    native app's, RFC 8252) — in the demo and with DEBUG on, any http address. A
    confidential client gets a secret, returned once and stored hashed."""
    if practice is not None:
        _require_settings_admin(actor, practice)
    name = (name or "").strip()
    uris = (redirect_uris or "").split()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter the app's name.")]
    elif len(name) > 255:
        errors["name"] = [_("Keep the name under 256 characters.")]
    uri_errors = _redirect_uri_errors(uris, allow_http=settings.DEBUG or settings.DEMO)
    if uri_errors:
        errors["redirect_uris"] = uri_errors
    if errors:
        raise AppInputError(errors)
    secret = generate_client_secret() if confidential else None
    application = Application(
        name=name,
        redirect_uris=" ".join(uris),
        client_type=Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
        user=None,  # who registered it: AppRegistration (deleting an account keeps its apps)
    )
    if secret is not None:
        application.client_secret = secret
    else:
        application.client_secret = ""
    application.save()
    AppRegistration.objects.create(application=application, practice=practice, registered_by=actor)
    audit_record(
        actor,
        action="fhir.app_registered",
        practice=practice,
        details={"app": name, "client_id": application.client_id, "confidential": confidential},
        actor_label="" if actor is not None else "operator",
    )
    return RegisteredApp(application=application, client_secret=secret)


@transaction.atomic
def remove_app(actor, application: Application, *, practice=None) -> int:
    """Remove a registered app: by the deployment's operator (`actor` None, no practice), any
    app; by a practice's administrator, only an app that practice registered (another's, or
    the operator's, is a 404). Every connection to it ends with it: its codes and tokens are
    deleted with the app, so the app's next call is refused. Returns how many connections were
    live."""
    registration = AppRegistration.objects.filter(application=application).first()
    if practice is not None:
        _require_settings_admin(actor, practice)
        if registration is None or registration.practice_id != practice.pk:
            raise Http404
    elif actor is not None:
        raise Http404
    live = AppConnection.objects.filter(application=application, ended_at__isnull=True).count()
    audit_record(
        actor,
        action="fhir.app_removed",
        practice=practice,
        details={
            "app": application.name,
            "client_id": application.client_id,
            "connections_ended": live,
        },
        actor_label="" if actor is not None else "operator",
    )
    application.delete()
    return live


def tokens_clear_expired() -> int:
    """The periodic job: delete expired codes and tokens (django-oauth-toolkit's
    `clear_expired`, which keeps revoked refresh tokens as long as reuse detection needs
    them); returns how many were deleted."""
    from oauth2_provider.models import clear_expired

    def stored() -> int:
        return AccessToken.objects.count() + RefreshToken.objects.count()

    before = stored()
    codes, _kinds = Grant.objects.filter(expires__lt=timezone.now()).delete()
    clear_expired()
    return codes + before - stored()
