"""A practice whose provider has a public online profile: a working week (Monday to Friday
9–12 and 13–17, New York), a "Follow-up" visit type offered online, an attested NPI, On; and an
enrolled patient of the practice. Time stands still on Monday 2026-12-07 07:30 New York."""

import pytest

from portico.booking import services
from portico.portal.models import PortalAccess
from tests import factories

# The schedule's fixtures, shared (pytest finds fixtures imported into a conftest).
from tests.scheduling.conftest import (  # noqa: F401
    NEW_YORK,
    NOW,
    at,
    follow_up,
    hours,
    new_patient_visit,
    now,
    weekdays,
)

# A valid NPI (its Luhn check digit over 80840 + the first nine digits is right).
VALID_NPI = "1234567893"


@pytest.fixture
def profile(now, admin, practice, provider, hours, follow_up):  # noqa: F811
    """The provider's online profile, On and public."""
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(
        admin,
        profile=profile,
        specialties=["family-medicine"],
        languages=["en", "es"],
        insurance_accepted="Aetna\nMedicare",
        biography="Family doctor.",
        online_visit_types=[follow_up],
        npi=VALID_NPI,
    )
    services.npi_attest(admin, profile=profile, attested=True)
    services.profile_status_set(admin, profile=profile, on=True)
    profile.refresh_from_db()
    return profile


@pytest.fixture
def enrolled(admin, patient):
    """The chart's portal account (the patient registered)."""
    return factories.enroll(admin, patient)


@pytest.fixture
def access(enrolled, patient):
    return PortalAccess.objects.select_related("patient", "account", "practice").get(
        patient=patient
    )
