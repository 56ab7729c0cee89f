"""The demo's online booking (demo.online): Dr. Shah's public profile, Maya Collins's profile
turned off with her NPI not attested, the websites allowed to frame the booking page, the
cancellation policy and two requests waiting for staff; `make demo` says where to go."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.booking import selectors
from portico.booking.models import (
    AppointmentRequest,
    PatientKind,
    ProviderProfile,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from portico.booking.npi import is_valid_npi
from portico.booking.services import is_open_time
from portico.charts.models import Patient
from portico.demo import online
from portico.demo import seed as demo
from portico.practices.models import CancellationApproval, Membership, Practice


@pytest.fixture
def seeded(db):
    call_command("seed_demo")
    return Practice.objects.get(slug=demo.DEMO_SLUG)


def _profile(practice, email) -> ProviderProfile:
    return ProviderProfile.objects.get(practice=practice, provider__email=email)


def _membership(profile) -> Membership:
    return Membership.objects.get(practice=profile.practice, user=profile.provider)


def test_dr_shah_is_found_by_family_medicine_maya_collins_is_off_and_a_policy_is_set(seeded):
    shah = _profile(seeded, "provider@demo.portico.test")

    assert selectors.is_public(shah)
    assert selectors.qualifies(shah, _membership(shah))
    assert shah.is_on and shah.first_public_at is not None
    assert is_valid_npi(shah.npi) and shah.npi_attested
    assert "family-medicine" in set(shah.specialties.values_list("code", flat=True))
    assert set(shah.languages.values_list("code", flat=True)) == {"en", "es"}
    assert {v.name for v in shah.online_visit_types.all()} == {"New patient", "Follow-up"}
    assert len(shah.insurance_plans) >= 3
    assert "Dr. Priya Shah" in shah.biography
    assert shah.accepts_new_patients
    public = selectors.public_profiles().filter(specialties__code="family-medicine")
    assert list(public) == [shah]

    # Maya Collins is Off, and her checklist says her NPI is not attested yet.
    collins = _profile(seeded, "np@demo.portico.test")

    assert not collins.is_on
    assert not selectors.is_public(collins)
    done = {item.code: item.done for item in selectors.checklist(collins, _membership(collins))}
    assert done == {
        "credential": True,
        "npi": True,
        "attested": False,
        "visit_types": True,
    }
    # She works at the Westside Clinic two days a week: her profile lists it.
    assert [loc.name for loc in collins.locations.all()] == ["Westside Clinic"]

    # The practice's website may frame the booking pages; cancellations follow a policy.
    assert seeded.embed_origins == ["http://localhost:8000"]
    assert seeded.cancellation_approval == CancellationApproval.WITHIN
    assert seeded.cancellation_approval_days == 1
    assert seeded.cancellation_notice_days == 2


def test_the_demo_port_is_listed_too(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    assert online.embed_origins() == ["http://localhost:8000", "http://localhost:8123"]
    monkeypatch.setenv("PORT", "8000")
    assert online.embed_origins() == ["http://localhost:8000"]


def test_two_requests_wait_for_staff_and_the_welcome_says_where_to_go(seeded, capsys, settings):
    shah = _profile(seeded, "provider@demo.portico.test")
    waiting = list(selectors.open_requests(seeded))

    assert len(waiting) == 2
    assert {r.patient_kind for r in waiting} == {PatientKind.NEW, PatientKind.EXISTING}
    assert {r.source for r in waiting} == {RequestSource.PUBLIC, RequestSource.EMBED}
    for request in waiting:
        assert request.kind == RequestKind.NEW and request.status == RequestStatus.PENDING
        assert request.provider == shah.provider
        assert request.patient is None  # nothing in a chart until staff decide
        assert request.start_at > timezone.now() + dt.timedelta(days=2)
        assert is_open_time(shah, request.visit_type, request.start_at)
    existing = next(r for r in waiting if r.patient_kind == PatientKind.EXISTING)
    # Typed as the chart has it, so staff can match it.
    assert Patient.objects.filter(
        practice=seeded,
        legal_first_name=existing.first_name,
        legal_last_name=existing.last_name,
        date_of_birth=existing.date_of_birth,
        email=existing.email,
    ).exists()
    assert AuditEvent.objects.filter(action="booking.request_received").count() == 2

    # `make demo` says where the public pages are.
    settings.DEMO = True
    call_command("demo", setup_only=True)
    printed = capsys.readouterr().out
    assert f"{settings.PORTICO_BASE_URL}{reverse('booking:search')}" in printed
    assert reverse("booking:embed", kwargs={"booking_id": shah.booking_id}) in printed
    assert "http://localhost:8000" in printed
    assert reverse("booking:requests") in printed

    # A demo database seeded before online booking gets it when the demo starts, once.
    ProviderProfile.objects.all().delete()
    AppointmentRequest.objects.all().delete()

    demo.demo_online_booking()
    demo.demo_online_booking()

    assert ProviderProfile.objects.filter(practice=seeded).count() == 2
    assert selectors.open_requests(seeded).count() == 2
