"""Patient apps connected through SMART on FHIR (SPEC §11.1).

django-oauth-toolkit keeps the registered apps (`oauth2_provider.Application`), the
authorization codes and the tokens (only their SHA-256 checksums: OAUTH2_PROVIDER's
COMPLIANT_BCP_RFC9700_TOKEN_STORAGE). Portico adds what a token reads: the record the
patient picked on the consent page (`AppConnection`, through the account's own portal access
or a representative's), and which code and tokens were issued for that connection
(`ConnectionCredential`), so every FHIR request knows whose record it reads and as whom.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AppRegistration(models.Model):
    """Who registered an app: the deployment's operator (no practice; `portico fhir_app`) or
    a practice's administrator (EHR Settings > Patient apps). Every patient of the deployment
    may connect any registered app; a practice manages only the apps it registered."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="registration"
    )
    practice = models.ForeignKey(
        "practices.Practice",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="registered_apps",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"registration of app {self.application_id}"


class AppConnection(models.Model):
    """A patient's consent to one app reading one record: the account that consented, the
    chart, and the portal access it reads through (the patient's own, or as representative).

    It reads only while it is not ended (the patient disconnected the app) and while that access
    is active and held by the same account since before the connection (a revoked portal access
    ends every app's access on the next request, and a later new registration does not bring
    old connections back)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_connections"
    )
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="connections"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="app_connections"
    )
    own_access = models.ForeignKey(
        "portal.PortalAccess",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="app_connections",
    )
    representative = models.ForeignKey(
        "portal.Representative",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="app_connections",
    )
    # The scopes the patient agreed to (space-separated, as OAuth writes them).
    scope = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    last_read_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "ended_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(own_access__isnull=False) & Q(representative__isnull=True))
                | (Q(own_access__isnull=True) & Q(representative__isnull=False)),
                name="fhir_connection_one_access",
            )
        ]

    def __str__(self) -> str:
        return f"app connection {self.public_id}"

    @property
    def access(self):
        """The portal access the app reads through: PortalAccess or Representative."""
        return self.own_access if self.own_access_id else self.representative

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class ConnectionCredential(models.Model):
    """One authorization code, access token or refresh token issued for a connection. Deleted
    with what it points at (a used code, a rotated or revoked token)."""

    connection = models.ForeignKey(
        AppConnection, on_delete=models.CASCADE, related_name="credentials"
    )
    grant = models.OneToOneField(
        "oauth2_provider.Grant", null=True, on_delete=models.CASCADE, related_name="+"
    )
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken",
        null=True,
        on_delete=models.CASCADE,
        related_name="connection_credential",
    )
    refresh_token = models.OneToOneField(
        "oauth2_provider.RefreshToken", null=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(grant__isnull=False, access_token__isnull=True, refresh_token__isnull=True)
                    | Q(grant__isnull=True, access_token__isnull=False, refresh_token__isnull=True)
                    | Q(grant__isnull=True, access_token__isnull=True, refresh_token__isnull=False)
                ),
                name="fhir_credential_one_kind",
            )
        ]

    def __str__(self) -> str:
        return f"credential of connection {self.connection_id}"
