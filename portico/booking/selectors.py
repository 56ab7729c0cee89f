"""Reads of online profiles and appointment requests (SPEC §8.1–8.6). Every query is scoped: by
practice for staff, to public profiles for visitors, to the chart for a patient."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.booking.models import AppointmentRequest, ProviderProfile, RequestStatus
from portico.booking.npi import is_valid_npi
from portico.practices.models import (
    MESSAGING_CREDENTIALS,
    CancellationApproval,
    Membership,
    Role,
)
from portico.scheduling.models import VisitType

# The credentials an online profile needs (SPEC §8.2): MD/DO, NP/PA, as for messaging.
PROFILE_CREDENTIALS = MESSAGING_CREDENTIALS


def _membership_qualifies() -> Exists:
    return Exists(
        Membership.objects.filter(
            practice=OuterRef("practice"),
            user=OuterRef("provider"),
            is_active=True,
            role=Role.PROVIDER,
            credential__in=PROFILE_CREDENTIALS,
        )
    )


def _offers_online() -> Exists:
    return Exists(VisitType.objects.filter(online_profiles=OuterRef("pk"), is_active=True))


# A profile the public sees: On, and every condition of the checklist holds. (The NPI's check
# digit is verified when it is saved and again when attested, so the database need not.)
PUBLIC = Q(is_on=True, npi_attested_at__isnull=False, provider__is_active=True)


def public_profiles() -> QuerySet[ProviderProfile]:
    """Every profile the public may see, with its practice and provider."""
    return (
        ProviderProfile.objects.filter(PUBLIC)
        .filter(_membership_qualifies(), _offers_online())
        .select_related("practice", "provider")
    )


# Titles before a name that its address leaves out.
NAME_TITLES = frozenset({"dr", "doctor", "prof"})


def profile_slug(profile: ProviderProfile, credential: str) -> str:
    """first-last[-credential]-12345: the name part follows renames; the number never changes."""
    # slugify keeps underscores, which the profile's URL pattern does not take.
    # Never the email address: it is not for the public.
    name = slugify(profile.provider.full_name)
    words = [part for part in re.split(r"[-_]+", name) if part]
    # "Dr. Priya Shah" is priya-shah: the title is the address's /doctor/ already.
    while words[:1] and words[0] in NAME_TITLES:
        words = words[1:]
    name = "-".join(words)
    parts = [name or "provider"]
    # "Paula Provider, MD" with the credential MD: the credential is not written twice.
    if credential and not name.endswith(f"-{credential.lower()}"):
        parts.append(credential.lower())
    parts.append(profile.number)
    return "-".join(parts)


# The height of the booking page's frame in the snippet a practice pastes into its website.
FRAME_HEIGHT = 900


def booking_links(profile: ProviderProfile, credential: str) -> dict[str, str]:
    """The absolute addresses of a profile's public pages (profile, booking page, embed), and
    the <iframe> code a practice pastes into its website to show the booking page there (plain
    text, escaped once for that website)."""
    base = settings.PORTICO_BASE_URL
    slug = profile_slug(profile, credential)
    embed_url = base + reverse("booking:embed", kwargs={"booking_id": profile.booking_id})
    title = gettext("Book an appointment with %(name)s") % {"name": profile.provider.display_name}
    return {
        "profile_url": base + reverse("booking:profile", kwargs={"slug": slug}),
        "book_url": base + reverse("booking:book", kwargs={"slug": slug}),
        "embed_url": embed_url,
        "snippet": (
            f'<iframe src="{escape(embed_url)}" title="{escape(title)}" width="100%" '
            f'height="{FRAME_HEIGHT}" loading="lazy"></iframe>'
        ),
    }


def public_profile_by_number(number: str) -> ProviderProfile | None:
    return public_profiles().filter(number=number).first()


def public_profile_by_booking_id(booking_id) -> ProviderProfile | None:
    return public_profiles().filter(booking_id=booking_id).first()


def profile_was_public(number: str) -> bool:
    """Whether a profile with this number was public once (a 410 then, not a 404)."""
    return ProviderProfile.objects.filter(number=number, first_public_at__isnull=False).exists()


def profile_of(practice, provider) -> ProviderProfile | None:
    return (
        ProviderProfile.objects.filter(practice=practice, provider=provider)
        .select_related("practice", "provider")
        .first()
    )


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str
    done: bool


def checklist(profile: ProviderProfile, membership: Membership | None) -> list[ChecklistItem]:
    """What a profile needs before it can be On ("Why don't I appear in search results?")."""
    credential_ok = (
        membership is not None
        and membership.is_active
        and membership.role == Role.PROVIDER
        and membership.credential in PROFILE_CREDENTIALS
    )
    npi_ok = bool(profile.npi) and is_valid_npi(profile.npi)
    return [
        ChecklistItem(
            "credential",
            str(_("Your credential is MD, DO, NP or PA (set by an administrator in Users).")),
            credential_ok,
        ),
        ChecklistItem("npi", str(_("Your NPI is a valid 10-digit number.")), npi_ok),
        ChecklistItem(
            "attested",
            str(_("An administrator has attested your NPI.")),
            npi_ok and profile.npi_attested,
        ),
        ChecklistItem(
            "visit_types",
            str(_("At least one visit type is offered online.")),
            profile.pk is not None and profile.online_visit_types.filter(is_active=True).exists(),
        ),
    ]


def qualifies(profile: ProviderProfile, membership: Membership | None) -> bool:
    return all(item.done for item in checklist(profile, membership))


def is_public(profile: ProviderProfile) -> bool:
    return public_profiles().filter(pk=profile.pk).exists()


# --- Requests --------------------------------------------------------------------------------


def requests_of(practice) -> QuerySet[AppointmentRequest]:
    """The practice's appointment requests, with what the request list shows."""
    return AppointmentRequest.objects.filter(practice=practice).select_related(
        "provider", "visit_type", "patient", "original", "appointment"
    )


def open_requests(practice) -> QuerySet[AppointmentRequest]:
    """The requests waiting for staff (pending), oldest first."""
    return requests_of(practice).filter(status=RequestStatus.PENDING).order_by("created_at", "id")


def request_of(practice, public_id) -> AppointmentRequest | None:
    try:
        return requests_of(practice).filter(public_id=public_id).first()
    except (ValueError, TypeError, ValidationError):  # not a UUID: Django raises ValidationError
        return None


def patient_requests(patient) -> QuerySet[AppointmentRequest]:
    """A chart's requests (the portal's Appointments tab), newest first."""
    return (
        AppointmentRequest.objects.filter(patient=patient)
        .select_related("provider", "visit_type", "original", "appointment", "practice")
        .order_by("-created_at", "-id")
    )


# --- Cancellation policy ---------------------------------------------------------------------


def _calendar_days_before(practice, start_at: dt.datetime, now: dt.datetime) -> int:
    """Calendar days from today to the appointment's day, in the practice's time zone (the
    appointment's own day is 0, the next day 1). "Within N calendar days" means at most N:
    with N = 1, cancelling on the day or the day before."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    return (start_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def cancellation_needs_approval(practice, start_at: dt.datetime, now=None) -> bool:
    """Whether the practice must approve a patient's cancellation of a visit at `start_at`."""
    now = now or timezone.now()
    if practice.cancellation_approval == CancellationApproval.ALL:
        return True
    if practice.cancellation_approval == CancellationApproval.WITHIN:
        days = practice.cancellation_approval_days or 0
        return _calendar_days_before(practice, start_at, now) <= days
    return False


def charge_notice_applies(practice, start_at: dt.datetime, now=None) -> bool:
    """Whether the patient is told they may be charged for cancelling a visit at `start_at`."""
    if practice.cancellation_notice_days is None:
        return False
    now = now or timezone.now()
    return _calendar_days_before(practice, start_at, now) <= practice.cancellation_notice_days
