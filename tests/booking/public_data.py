"""Builders for the public pages' tests: more public profiles beside the conftest's one."""

from __future__ import annotations

from django.utils import timezone

from portico.booking import services
from portico.booking.models import ProfileLanguage, ProfileSpecialty, ProviderProfile
from portico.practices.models import Role
from portico.scheduling.services import location_save
from tests import factories
from tests.booking.conftest import VALID_NPI


def public_profile(
    admin,
    practice,
    visit_type,
    *,
    full_name: str,
    credential: str = "MD",
    specialties=(),
    languages=(),
    locations=(),
    accepts_new_patients: bool = True,
) -> ProviderProfile:
    """A provider of the practice with a public online profile, made through the services."""
    provider = factories.make_staff(
        practice, role=Role.PROVIDER, credential=credential, full_name=full_name
    )
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(
        admin,
        profile=profile,
        specialties=specialties,
        languages=languages,
        locations=locations,
        accepts_new_patients=accepts_new_patients,
        online_visit_types=[visit_type],
        npi=VALID_NPI,
    )
    services.npi_attest(admin, profile=profile, attested=True)
    services.profile_status_set(admin, profile=profile, on=True)
    profile.refresh_from_db()
    return profile


def many_public_profiles(practice, visit_type, count: int, location, *, start: int = 0) -> None:
    """`count` public profiles, each with two specialties, two languages and a location (built
    directly: only their number matters to the test that uses them)."""
    for n in range(start, start + count):
        provider = factories.make_staff(
            practice, role=Role.PROVIDER, credential="MD", full_name=f"Doctor Number{n}"
        )
        profile = ProviderProfile.objects.create(
            practice=practice,
            provider=provider,
            number=f"{20000 + n}",
            is_on=True,
            first_public_at=timezone.now(),
            npi=VALID_NPI,
            npi_attested_at=timezone.now(),
        )
        profile.online_visit_types.add(visit_type)
        profile.locations.add(location)
        ProfileSpecialty.objects.bulk_create(
            ProfileSpecialty(profile=profile, code=code) for code in ("cardiology", "urology")
        )
        ProfileLanguage.objects.bulk_create(
            ProfileLanguage(profile=profile, code=code) for code in ("en", "fr")
        )


def location(admin, practice, name: str, **address) -> object:
    return location_save(admin, practice=practice, name=name, **address)
