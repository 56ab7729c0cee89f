"""django-oauth-toolkit's validator, told which record each code and token reads.

The consent page (portico.fhir.authorize_views) makes the AppConnection and hands its id to
the authorization server with the patient's answer; every code and token issued from then on is
tied to that connection (`ConnectionCredential`), refreshes included. A code or refresh token
whose connection has ended (the patient disconnected the app) is refused. The token response of
a `launch/patient` grant names the patient (SMART App Launch), and the ID token's `fhirUser` is
the patient's own Patient resource when the account is the patient.
"""

from __future__ import annotations

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator

from portico.fhir.models import AppConnection, ConnectionCredential


def _connection_of(**credential) -> AppConnection | None:
    return (
        AppConnection.objects.filter(ended_at__isnull=True, **credential)
        .select_related("patient")
        .first()
    )


class PorticoValidator(OAuth2Validator):
    # Claims of the ID token and the scope that brings each (oidc_claim_scope of the toolkit).
    oidc_claim_scope = {"sub": "openid", "fhirUser": "fhirUser"}

    # -- the authorization code ---------------------------------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        connection_id = getattr(request, "portico_connection", None)
        if connection_id is None:
            raise ValueError("an authorization code is issued only for a connection")
        grant = self._create_authorization_code(request, code)
        ConnectionCredential.objects.create(connection_id=connection_id, grant=grant)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        connection = _connection_of(
            credentials__grant__code=code, credentials__grant__application=client
        )
        if connection is None:
            return False
        request.portico_connection = connection
        return True

    # -- refreshing ---------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        connection = _connection_of(credentials__refresh_token=request.refresh_token_instance)
        if connection is None:
            return False
        request.portico_connection = connection
        return True

    # -- issuing tokens -----------------------------------------------------------------------

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        ConnectionCredential.objects.create(
            connection=request.portico_connection, access_token=access_token
        )
        return access_token

    def _create_refresh_token(
        self, request, refresh_token_code, access_token, previous_refresh_token
    ):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        ConnectionCredential.objects.create(
            connection=request.portico_connection, refresh_token=refresh_token
        )
        return refresh_token

    def save_bearer_token(self, token, request, *args, **kwargs):
        # SMART: a refresh token only with offline_access (oauthlib makes one for every grant).
        if "offline_access" not in request.scopes:
            token.pop("refresh_token", None)
        result = super().save_bearer_token(token, request, *args, **kwargs)
        # The token response is this dictionary: SMART's launch context goes in it.
        if "launch/patient" in request.scopes:
            token["patient"] = str(request.portico_connection.patient.public_id)
        return result

    # -- OpenID Connect -----------------------------------------------------------------------

    def get_claim_dict(self, request):
        # The account's public id, never its database key.
        claims = {"sub": str(request.user.public_id)}
        connection = getattr(request, "portico_connection", None)
        if connection is not None and connection.own_access_id:
            patient_id = connection.patient.public_id
            claims["fhirUser"] = f"{settings.PORTICO_FHIR_BASE_URL}/Patient/{patient_id}"
        return claims
