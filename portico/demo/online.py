"""Demo online booking (SPEC §8.1–8.6): Dr. Shah's public online profile (On), Maya Collins
NP's (Off: her NPI is not attested yet, so her checklist shows what is missing), the websites
that may frame the practice's booking pages, the cancellation policy, and two requests waiting
in Schedule > Appointment Requests (a new patient from the online profile, an existing patient
from the practice's website). Everything goes through the services staff and visitors use.

Deterministic for a given day: the requests ask for the first open times from a few days on.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from portico.booking import selectors as booking_selectors
from portico.booking import services as booking
from portico.booking.models import AppointmentRequest, PatientKind, ProviderProfile, RequestSource
from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.practices import services as practice_services
from portico.practices.models import CancellationApproval
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.models import Location, VisitType, WorkingHours

# Valid NPIs (Luhn check digit over 80840 + the first nine digits); demo data, not real people.
SHAH_NPI = "1234567893"
COLLINS_NPI = "1345678902"


@dataclass(frozen=True)
class DemoProfile:
    specialties: Sequence[str]
    languages: Sequence[str]
    visit_types: Sequence[str]
    biography: str
    insurance: Sequence[str]
    npi: str
    attested: bool
    on: bool
    accepts_new_patients: bool = True


INSURANCE = (
    "Aetna",
    "Blue Cross Blue Shield of Illinois",
    "Cigna",
    "Humana",
    "Illinois Medicaid",
    "Medicare",
    "UnitedHealthcare",
)

SHAH = DemoProfile(
    specialties=(Specialty.FAMILY_MEDICINE, Specialty.INTERNAL_MEDICINE),
    languages=(SpokenLanguage.ENGLISH, SpokenLanguage.SPANISH),
    visit_types=("New patient", "Follow-up"),
    biography=(
        "Dr. Priya Shah is a family physician who has cared for Springfield families since "
        "2012. She sees patients of every age, from check-ups and vaccines to diabetes, high "
        "blood pressure and thyroid care, and takes time to explain the choices. She speaks "
        "English and Spanish."
    ),
    insurance=INSURANCE,
    npi=SHAH_NPI,
    attested=True,
    on=True,
)
COLLINS = DemoProfile(
    specialties=(Specialty.FAMILY_MEDICINE, Specialty.PEDIATRICS),
    languages=(SpokenLanguage.ENGLISH,),
    visit_types=("Follow-up", "Telehealth"),
    biography=(
        "Maya Collins is a family nurse practitioner who sees children and adults at the "
        "practice and at the Westside Clinic, with evening hours on Tuesdays and Thursdays."
    ),
    insurance=INSURANCE,
    npi=COLLINS_NPI,
    attested=False,
    on=False,
)

# The websites that may frame the practice's booking pages: a page on this computer (try the
# embed with any local web server on port 8000, or on the demo's PORT).
DEFAULT_PORT = 8000

# The practice's cancellation policy: a cancellation on the day or the day before needs the
# practice's approval; patients are told they may be charged within two days of the visit.
APPROVAL_DAYS = 1
NOTICE_DAYS = 2

# Requests ask for times from this many days ahead, so they stay in the future for a while.
REQUESTS_FROM_DAYS = 3

NEW_PATIENT_REQUEST = {
    "first_name": "Taylor",
    "last_name": "Brooks",
    "date_of_birth": dt.date(1991, 8, 14),
    "email": "taylor.brooks@example.com",
    "phone": "(217) 555-0142",
    "reason": "New patient: establish care and a check-up",
}
EXISTING_PATIENT_REASON = "Follow-up on blood pressure readings at home"


def embed_origins(port: int | str | None = None) -> list[str]:
    """http://localhost:8000 and, when the demo runs on another port, http://localhost:PORT."""
    port = port or os.environ.get("PORT") or DEFAULT_PORT
    origins = [f"http://localhost:{DEFAULT_PORT}"]
    if str(port) != str(DEFAULT_PORT):
        origins.append(f"http://localhost:{port}")
    return origins


def _work_locations(practice, provider) -> list[Location]:
    """The practice's locations where the provider has working hours (hours without a
    location are at the practice's own address, which the profile shows anyway)."""
    ids = WorkingHours.objects.filter(
        practice=practice, provider=provider, location__isnull=False
    ).values("location")
    return list(Location.objects.filter(pk__in=ids, is_active=True))


def give_demo_profile(admin, *, practice, provider, demo: DemoProfile) -> ProviderProfile:
    """The provider's online profile, filled, NPI attested (or not) and On (or Off)."""
    types = {v.name: v for v in VisitType.objects.filter(practice=practice, is_active=True)}
    profile = booking.profile_ensure(admin, practice=practice, provider=provider)
    booking.profile_save(
        admin,
        profile=profile,
        specialties=demo.specialties,
        languages=demo.languages,
        locations=_work_locations(practice, provider),
        insurance_accepted="\n".join(demo.insurance),
        biography=demo.biography,
        accepts_new_patients=demo.accepts_new_patients,
        online_visit_types=[types[name] for name in demo.visit_types],
        npi=demo.npi,
    )
    if demo.attested:
        booking.npi_attest(admin, profile=profile, attested=True)
        profile.refresh_from_db()  # npi_attest saves the stored profile, not this copy
    if demo.on:
        booking.profile_status_set(admin, profile=profile, on=True)
    profile.refresh_from_db()
    return profile


def _open_time(profile: ProviderProfile, visit_type: VisitType, *, skip_days: int, now):
    """The first open time of the profile's provider `skip_days` days from today or later."""
    zone = zoneinfo.ZoneInfo(profile.practice.time_zone)
    first_day = now.astimezone(zone).date() + dt.timedelta(days=skip_days)
    times = scheduling_selectors.open_times(
        profile.practice,
        profile.provider,
        visit_type,
        first_day=first_day,
        days=booking.BOOKING_DAYS - skip_days,
        now=now,
    )
    return times[0].start if times else None


def give_demo_requests(profile: ProviderProfile, *, existing, now=None) -> list[AppointmentRequest]:
    """Two requests waiting for staff: a new patient asking for a "New patient" visit on the
    online profile, and `existing` (a chart of the practice, typed as they would) asking for a
    "Follow-up" on the practice's website."""
    now = now or timezone.now()
    types = {v.name: v for v in profile.online_visit_types.all()}
    made = []
    new_at = _open_time(profile, types["New patient"], skip_days=REQUESTS_FROM_DAYS, now=now)
    if new_at is not None:
        made.append(
            booking.request_submit(
                profile=profile,
                visit_type=types["New patient"],
                start_at=new_at,
                patient_kind=PatientKind.NEW,
                source=RequestSource.PUBLIC,
                language="en",
                **NEW_PATIENT_REQUEST,
            )
        )
    follow_up_at = _open_time(
        profile, types["Follow-up"], skip_days=REQUESTS_FROM_DAYS + 1, now=now
    )
    if follow_up_at is not None:
        made.append(
            booking.request_submit(
                profile=profile,
                visit_type=types["Follow-up"],
                start_at=follow_up_at,
                patient_kind=PatientKind.EXISTING,
                first_name=existing.legal_first_name,
                last_name=existing.legal_last_name,
                date_of_birth=existing.date_of_birth,
                email=existing.email,
                phone=existing.mobile_phone,
                reason=EXISTING_PATIENT_REASON,
                source=RequestSource.EMBED,
                language="en",
            )
        )
    return made


def give_demo_online_booking(
    admin, *, practice, provider, second_provider, existing, now=None
) -> ProviderProfile:
    """The practice's online booking (see the module's docstring). Returns Dr. Shah's profile."""
    practice_services.embed_origins_set(
        admin, practice=practice, origins="\n".join(embed_origins())
    )
    practice_services.cancellation_policy_set(
        admin,
        practice=practice,
        approval=CancellationApproval.WITHIN,
        approval_days=APPROVAL_DAYS,
        notice_days=NOTICE_DAYS,
    )
    profile = give_demo_profile(admin, practice=practice, provider=provider, demo=SHAH)
    give_demo_profile(admin, practice=practice, provider=second_provider, demo=COLLINS)
    give_demo_requests(profile, existing=existing, now=now)
    return profile


def demo_public_profile(practice) -> ProviderProfile | None:
    """The demo practice's first public profile (for the welcome banner)."""
    return booking_selectors.public_profiles().filter(practice=practice).order_by("pk").first()
