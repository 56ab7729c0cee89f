"""Portal access of a chart and its invitations (SPEC §3, DESIGN "Portal access")."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessState(models.TextChoices):
    NOT_INVITED = "not_invited", _("Not invited")
    INVITED = "invited", _("Invite pending")
    ACTIVE = "active", _("Enrolled")
    CANCELLED = "cancelled", _("Invite cancelled")
    EXPIRED = "expired", _("Invite expired")
    REVOKED = "revoked", _("Access revoked")
    # A representative's only: the patient ended it, its end date passed, or the patient came
    # of age (SPEC §9.3–9.4).
    ENDED = "ended", _("Access ended")


# Which staff actions each state allows (SPEC §3.2). Expired is derived from time.
ACTIONS_BY_STATE = {
    AccessState.NOT_INVITED: ("invite",),
    AccessState.INVITED: ("resend", "cancel"),
    AccessState.ACTIVE: ("revoke",),
    AccessState.CANCELLED: ("invite",),
    AccessState.EXPIRED: ("invite",),
    AccessState.REVOKED: ("invite",),
    AccessState.ENDED: ("invite",),
}


def allowed_actions(access: PortalAccess | Representative | None) -> tuple[str, ...]:
    """The staff actions the chart's portal window offers now (SPEC §3.2)."""
    state = access.effective_state if access else AccessState.NOT_INVITED
    return ACTIONS_BY_STATE[AccessState(state)]


# The portal window's timeline (SPEC §3.9): what each audited action of a chart's portal access
# is called there.
TIMELINE_LABELS = {
    "portal.invite": _("Invited to the patient portal"),
    "portal.resend": _("Invite resent (new access code)"),
    "portal.cancel": _("Invite cancelled"),
    "portal.revoke": _("Access revoked"),
    "portal.register": _("Patient registered"),
    "portal.verified": _("Patient verified date of birth and access code"),
    "portal.verify_failed": _("Wrong date of birth or access code entered"),
    "portal.invitation_locked": _("Invitation locked after too many wrong codes"),
    "portal.expired": _("Invite expired"),
    "portal.security_code_requested": _("Patient asked for a security code by text message"),
    "portal.security_code_sent": _("Security code texted"),
    "portal.security_code_failed": _("The security code text message could not be sent"),
    "portal.reset": _("Portal account reset: a new invitation replaces the old access"),
    "account.unlocked": _("Account unlocked"),
    # A representative's (SPEC §9): the window names which one (portal.selectors).
    "portal.representative_invite": _("Representative invited"),
    "portal.representative_resend": _("Representative's invite resent (new access code)"),
    "portal.representative_cancel": _("Representative's invite cancelled"),
    "portal.representative_revoke": _("Representative's access revoked"),
    "portal.representative_update": _("Representative's details changed"),
    "portal.representative_register": _("Representative registered"),
    "portal.representative_ended": _("Patient ended a representative's access"),
    "portal.representative_renewed": _("Patient renewed a representative's access"),
}


class AccessStateMixin:
    """What the patient's own access and a representative's share: the state as of now."""

    state: str
    current_invitation: Invitation | None

    @property
    def effective_state(self) -> str:
        """The state as of now: a pending invitation past its expiry counts as expired."""
        # The invitation is read only for a pending one (an active access needs no query).
        if self.state == AccessState.INVITED:
            invitation = self.current_invitation
            if invitation is not None and invitation.is_expired:
                return AccessState.EXPIRED
        return self.state

    @property
    def effective_state_label(self) -> str:
        return AccessState(self.effective_state).label


class PortalAccess(AccessStateMixin, models.Model):
    """The one portal state of a chart: the patient's own access. No row means "not invited".
    The people who see the chart on the patient's behalf have a Representative each."""

    is_representative = False

    patient = models.OneToOneField(
        "charts.Patient", on_delete=models.CASCADE, related_name="portal_access"
    )
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="portal_accesses"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(
        max_length=16, choices=AccessState.choices, default=AccessState.NOT_INVITED
    )
    # The account that registered; kept after revocation for the record.
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_accesses",
    )
    current_invitation = models.ForeignKey(
        "portal.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["account", "state"])]

    def __str__(self) -> str:
        return f"portal access {self.public_id} ({self.state})"


class Relationship(models.TextChoices):
    """Who a representative is to the patient (SPEC §9.1)."""

    PARENT = "parent", _("Parent")
    GUARDIAN = "guardian", _("Legal guardian")
    SPOUSE = "spouse", _("Spouse or partner")
    ADULT_CHILD = "adult_child", _("Adult child")
    CAREGIVER = "caregiver", _("Caregiver")
    OTHER = "other", _("Other")


# The relationships whose access narrows when the patient grows up (SPEC §9.3).
PARENTAL = frozenset({Relationship.PARENT, Relationship.GUARDIAN})


class Representative(AccessStateMixin, models.Model):
    """A person who sees a chart's record on the patient's behalf (SPEC §9): invited by staff,
    registered with their own enrollment email and access code like a patient, in the same
    states, each with its own invitations. Never more than the patient could see; a parent's
    or guardian's access narrows and ends as the patient grows up (portal.representation)."""

    is_representative = True

    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="representatives"
    )
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="representatives"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    # Staff may set a last day; the access ends after it (in the practice's time zone).
    ends_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=AccessState.choices, default=AccessState.NOT_INVITED
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="representations",
    )
    current_invitation = models.ForeignKey(
        "portal.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    # The adult patient renewed a parent's or guardian's access after coming of age.
    renewed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the access was given: the first invitation, or the last "invite again".
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["account", "state"]),
            models.Index(fields=["patient", "state"]),
        ]

    def __str__(self) -> str:
        return f"representative {self.public_id} ({self.state})"

    @property
    def effective_state(self) -> str:
        """As for a patient, and "ended" once past its end date or the patient's coming of
        age (portal.representation)."""
        from portico.portal.representation import has_ended

        state = super().effective_state
        if state == AccessState.ACTIVE and has_ended(self):
            return AccessState.ENDED
        return state


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    USED = "used", _("Used")
    CANCELLED = "cancelled", _("Cancelled")
    SUPERSEDED = "superseded", _("Replaced by a newer invitation")
    REVOKED = "revoked", _("Access revoked")
    EXPIRED = "expired", _("Expired")


class InvitationOrigin(models.TextChoices):
    STAFF = "staff", _("Invited by staff")
    AUTO = "auto", _("Auto-invite")
    BULK = "bulk", _("Bulk invite")


class Invitation(models.Model):
    """One enrollment invitation: an access code and a single-use registration link.

    Only the newest invitation of a chart's own access, or of one representative, ever works.
    The link's token is derived from `link_nonce` with the deployment's secret key (see
    portal.tokens); only its hash is stored, so the database alone never yields a working link.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="invitations"
    )
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="invitations"
    )
    # A representative's invitation; None for the patient's own.
    representative = models.ForeignKey(
        Representative,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField()
    phone = models.CharField(max_length=20, blank=True)
    # Staff read it to the patient, so it is kept readable; it dies with the invitation.
    access_code = models.CharField(max_length=8)
    link_nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Auto-invited patients get no printed code; they verify with an SMS security code.
    origin = models.CharField(
        max_length=8, choices=InvitationOrigin.choices, default=InvitationOrigin.STAFF
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"invitation {self.public_id} ({self.status})"

    @property
    def is_expired(self) -> bool:
        """Past its expiry: stored as expired by the expiry job, or pending and past its time
        before the job has run."""
        if self.status == InvitationStatus.EXPIRED:
            return True
        return self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_usable(self) -> bool:
        """Can this invitation still be used to register?"""
        pending = self.status == InvitationStatus.PENDING
        return pending and not self.is_expired and not self.is_locked

    @property
    def access_code_display(self) -> str:
        """The code in two groups of four, easier to read over the phone."""
        return f"{self.access_code[:4]}-{self.access_code[4:]}"


class SecurityCode(models.Model):
    """A security code texted to the phone on file (SPEC §3.5, the phone route).

    Like the registration link, the code is derived from `nonce` with the deployment's
    secret key (see portal.tokens), so the database alone never yields a working code.
    A request whose date of birth or phone did not match still gets a row (`matched`
    false, never texted, never accepted), so that the answer and the resend limits are the
    same either way. Only the newest row of an invitation counts; it expires after minutes.
    """

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="security_codes"
    )
    nonce = models.CharField(max_length=32, unique=True)
    matched = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["invitation", "created_at"])]

    def __str__(self) -> str:
        return f"security code {self.pk} of invitation {self.invitation_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
