"""The rules of online profiles under the pages (SPEC §8.1–8.2): one profile per provider with a
stable number, what a save accepts, the NPI and its attestation, the checklist that guards
"On", and which profiles the public sees."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.booking import selectors, services
from portico.booking.models import ProviderProfile
from portico.practices.models import Membership, Role
from portico.scheduling import services as scheduling
from tests import factories
from tests.booking.conftest import VALID_NPI
from tests.booking.service_helpers import counts

pytestmark = pytest.mark.django_db

# Another valid NPI (Luhn over 80840 + the first nine digits).
OTHER_VALID_NPI = "1245319599"


def _qualified_off_profile(admin, practice, provider, follow_up):
    """Everything the checklist asks for, still Off."""
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(admin, profile=profile, online_visit_types=[follow_up], npi=VALID_NPI)
    services.npi_attest(admin, profile=profile, attested=True)
    profile.refresh_from_db()
    return profile


# --- profile_ensure ----------------------------------------------------------------------------


def test_the_first_ask_creates_an_off_profile_with_five_digits_and_the_second_returns_it(
    admin, practice, provider
):
    first = services.profile_ensure(admin, practice=practice, provider=provider)
    assert not first.is_on and first.first_public_at is None
    assert len(first.number) == 5 and first.number.isdigit() and first.number[0] != "0"
    again = services.profile_ensure(provider, practice=practice, provider=provider)
    assert (again.pk, again.number) == (first.pk, first.number)
    assert ProviderProfile.objects.count() == 1


def test_every_provider_gets_a_different_number(admin, practice):
    providers = [
        factories.make_staff(practice, role=Role.PROVIDER, credential="MD") for _ in range(30)
    ]
    numbers = {
        services.profile_ensure(admin, practice=practice, provider=p).number for p in providers
    }
    assert len(numbers) == 30


def test_a_number_already_taken_is_drawn_again(admin, practice, provider, monkeypatch):
    other = factories.make_staff(practice, role=Role.PROVIDER, credential="DO")
    taken = services.profile_ensure(admin, practice=practice, provider=other).number
    draws = iter([taken, "54321"])
    monkeypatch.setattr(services, "_new_number", lambda: next(draws))
    assert services.profile_ensure(admin, practice=practice, provider=provider).number == "54321"


def test_the_number_survives_renames_and_saves(admin, practice, provider, follow_up):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    provider.full_name = "Dr. Paula Newname"
    provider.save()
    services.profile_save(admin, profile=profile, biography="Hello", online_visit_types=[follow_up])
    assert services.profile_ensure(admin, practice=practice, provider=provider).number == (
        profile.number
    )


def test_only_a_provider_of_the_practice_gets_a_profile(
    admin, staff, practice, other_practice, outsider
):
    elsewhere = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    for who in (staff, elsewhere):
        with pytest.raises(ValidationError) as refused:
            services.profile_ensure(admin, practice=practice, provider=who)
        assert "provider" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.profile_ensure(outsider, practice=practice, provider=elsewhere)
    assert not ProviderProfile.objects.exists()


# --- profile_save ------------------------------------------------------------------------------


def _foreign_location(other_practice):
    other_admin = factories.make_admin(other_practice)
    return scheduling.location_save(other_admin, practice=other_practice, name="Hilltop")


def _foreign_visit_type(other_practice):
    other_admin = factories.make_admin(other_practice)
    return scheduling.visit_type_save(
        other_admin, practice=other_practice, name="Consult", duration_minutes=30
    )


BAD_SAVES = {
    "unknown specialty": ("specialties", lambda o: {"specialties": ["astrology"]}),
    "unknown language": ("languages", lambda o: {"languages": ["en", "xx"]}),
    "another practice's location": ("locations", lambda o: {"locations": [_foreign_location(o)]}),
    "another practice's visit type": (
        "online_visit_types",
        lambda o: {"online_visit_types": [_foreign_visit_type(o)]},
    ),
    "control character in the biography": ("biography", lambda o: {"biography": "Hi\x00there"}),
    "control character in insurance": (
        "insurance_accepted",
        lambda o: {"insurance_accepted": "A\x07"},
    ),
    "biography too long": ("biography", lambda o: {"biography": "x" * 2001}),
    "insurance too long": ("insurance_accepted", lambda o: {"insurance_accepted": "x" * 2001}),
    "NPI too short": ("npi", lambda o: {"npi": "123456789"}),
    "NPI with letters": ("npi", lambda o: {"npi": "12345678ab"}),
    "NPI check digit wrong": ("npi", lambda o: {"npi": "1234567890"}),
    "NPI with another prefix": ("npi", lambda o: {"npi": "3234567891"}),
}


@pytest.mark.parametrize("case", BAD_SAVES, ids=list(BAD_SAVES))
def test_a_bad_value_is_refused_naming_its_field_and_changes_nothing(
    case, profile, admin, other_practice
):
    field, bad = BAD_SAVES[case]
    values = bad(other_practice)
    before = counts()
    kept = {
        "row": ProviderProfile.objects.filter(pk=profile.pk).values().get(),
        "specialties": list(profile.specialties.values_list("code", flat=True)),
        "languages": list(profile.languages.values_list("code", flat=True)),
        "locations": list(profile.locations.all()),
        "types": list(profile.online_visit_types.all()),
    }
    good = {
        "specialties": ["cardiology"],
        "languages": ["fr"],
        "biography": "Changed",
        "insurance_accepted": "Cigna",
        "npi": OTHER_VALID_NPI,
    }
    with pytest.raises(ValidationError) as refused:
        services.profile_save(admin, profile=profile, **{**good, **values})
    assert list(refused.value.message_dict) == [field]
    assert counts() == before
    assert kept == {
        "row": ProviderProfile.objects.filter(pk=profile.pk).values().get(),
        "specialties": list(profile.specialties.values_list("code", flat=True)),
        "languages": list(profile.languages.values_list("code", flat=True)),
        "locations": list(profile.locations.all()),
        "types": list(profile.online_visit_types.all()),
    }


def test_a_retired_visit_type_or_location_cannot_be_offered(admin, practice, profile, follow_up):
    retired = scheduling.visit_type_save(
        admin, practice=practice, name="Old", duration_minutes=30, is_active=False
    )
    closed = scheduling.location_save(admin, practice=practice, name="Closed", is_active=False)
    with pytest.raises(ValidationError) as refused:
        services.profile_save(
            admin,
            profile=profile,
            online_visit_types=[follow_up, retired],
            locations=[closed],
            npi=VALID_NPI,
        )
    assert set(refused.value.message_dict) == {"online_visit_types", "locations"}
    assert list(profile.online_visit_types.all()) == [follow_up]


def test_a_save_names_the_fields_it_changed_and_a_same_save_changes_nothing(
    admin, practice, provider, follow_up
):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    values = {
        "specialties": ["pediatrics", "pediatrics", "family-medicine"],
        "languages": ["es"],
        "biography": "  Children's doctor.  ",
        "online_visit_types": [follow_up],
        "npi": "123-456-7893",
    }
    changed = services.profile_save(provider, profile=profile, **values)
    assert sorted(changed) == [
        "biography",
        "languages",
        "npi",
        "online_visit_types",
        "specialties",
    ]
    profile.refresh_from_db()
    assert profile.biography == "Children's doctor." and profile.npi == VALID_NPI
    assert sorted(profile.specialties.values_list("code", flat=True)) == [
        "family-medicine",
        "pediatrics",
    ]
    audits = AuditEvent.objects.filter(action="online_profile.update").count()
    assert services.profile_save(provider, profile=profile, **values) == []
    assert AuditEvent.objects.filter(action="online_profile.update").count() == audits


def test_only_the_provider_or_an_administrator_edits_the_profile(
    profile, staff, outsider, practice
):
    colleague = factories.make_staff(practice, role=Role.PROVIDER, credential="MD")
    for who in (staff, colleague, outsider):
        with pytest.raises(PermissionDenied):
            services.profile_save(who, profile=profile, biography="Hacked", npi=VALID_NPI)
        with pytest.raises(PermissionDenied):
            services.profile_status_set(who, profile=profile, on=False)
    profile.refresh_from_db()
    assert profile.biography == "Family doctor." and profile.is_on


# --- NPI and attestation -----------------------------------------------------------------------


def test_a_changed_npi_clears_the_attestation_and_the_profile_leaves_the_public(
    profile, provider, follow_up
):
    assert profile.npi_attested
    services.profile_save(
        provider, profile=profile, online_visit_types=[follow_up], npi=OTHER_VALID_NPI
    )
    profile.refresh_from_db()
    assert profile.npi == OTHER_VALID_NPI
    assert not profile.npi_attested and profile.npi_attested_by is None
    assert not selectors.is_public(profile)


def test_the_same_npi_typed_with_spaces_keeps_the_attestation(profile, provider, follow_up):
    services.profile_save(
        provider, profile=profile, online_visit_types=[follow_up], npi=" 1234 567 893 "
    )
    profile.refresh_from_db()
    assert profile.npi_attested and selectors.is_public(profile)


def test_only_an_administrator_attests_an_npi(
    admin, staff, practice, provider, follow_up, outsider
):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(provider, profile=profile, online_visit_types=[follow_up], npi=VALID_NPI)
    for who in (provider, staff, outsider):
        with pytest.raises(PermissionDenied):
            services.npi_attest(who, profile=profile, attested=True)
    profile.refresh_from_db()
    assert not profile.npi_attested
    assert services.npi_attest(admin, profile=profile, attested=True) is True
    profile.refresh_from_db()
    assert profile.npi_attested_by == admin
    assert AuditEvent.objects.filter(action="online_profile.npi_attest", actor=admin).exists()


@pytest.mark.parametrize("stored", ["", "1234567890", "12345"])
def test_only_a_valid_npi_can_be_attested(stored, admin, practice, provider):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    ProviderProfile.objects.filter(pk=profile.pk).update(npi=stored)  # e.g. an old import
    profile.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.npi_attest(admin, profile=profile, attested=True)
    assert "npi" in refused.value.message_dict
    profile.refresh_from_db()
    assert not profile.npi_attested


def test_withdrawing_the_attestation_takes_the_profile_off_the_public(profile, admin):
    assert services.npi_attest(admin, profile=profile, attested=False) is True
    profile.refresh_from_db()
    assert not profile.npi_attested and not selectors.is_public(profile)
    assert services.npi_attest(admin, profile=profile, attested=False) is False


# --- profile_status_set and the checklist ------------------------------------------------------

LABELS = {
    "credential": "Your credential is MD, DO, NP or PA",
    "npi": "Your NPI is a valid 10-digit number.",
    "attested": "An administrator has attested your NPI.",
    "visit_types": "At least one visit type is offered online.",
}


def test_on_is_refused_naming_every_missing_item(admin, practice):
    bare = factories.make_staff(practice, role=Role.PROVIDER, credential="")
    profile = services.profile_ensure(admin, practice=practice, provider=bare)
    with pytest.raises(ValidationError) as refused:
        services.profile_status_set(admin, profile=profile, on=True)
    message = " ".join(refused.value.message_dict["is_on"])
    for label in LABELS.values():
        assert label in message
    profile.refresh_from_db()
    assert not profile.is_on and profile.first_public_at is None


def _no_credential(profile, admin):
    Membership.objects.filter(user=profile.provider, practice=profile.practice).update(
        credential=""
    )


def _not_attested(profile, admin):
    services.npi_attest(admin, profile=profile, attested=False)


def _invalid_npi(profile, admin):
    ProviderProfile.objects.filter(pk=profile.pk).update(npi="1234567890")


def _no_visit_type(profile, admin):
    services.profile_save(admin, profile=profile, npi=profile.npi)


def _retired_visit_type(profile, admin):
    follow_up = profile.online_visit_types.get()
    scheduling.visit_type_save(
        admin,
        practice=profile.practice,
        name=follow_up.name,
        duration_minutes=follow_up.duration_minutes,
        visit_type=follow_up,
        is_active=False,
    )


MISSING = {
    "credential": _no_credential,
    "attested": _not_attested,
    "npi": _invalid_npi,
    "visit_types": _no_visit_type,
    "retired visit type": _retired_visit_type,
}


@pytest.mark.parametrize("case", MISSING, ids=list(MISSING))
def test_on_is_refused_naming_only_the_item_that_is_missing(
    case, admin, practice, provider, follow_up
):
    profile = _qualified_off_profile(admin, practice, provider, follow_up)
    MISSING[case](profile, admin)
    profile.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.profile_status_set(provider, profile=profile, on=True)
    message = " ".join(refused.value.message_dict["is_on"])
    missing = {"retired visit type": "visit_types"}.get(case, case)
    expected = {missing, "attested"} if missing == "npi" else {missing}
    assert {code for code, label in LABELS.items() if label in message} == expected
    profile.refresh_from_db()
    assert not profile.is_on


def test_a_qualified_provider_turns_the_profile_on_themselves(admin, practice, provider, follow_up):
    profile = _qualified_off_profile(admin, practice, provider, follow_up)
    membership = Membership.objects.get(user=provider, practice=practice)
    assert selectors.qualifies(profile, membership)
    assert services.profile_status_set(provider, profile=profile, on=True) is True
    assert services.profile_status_set(provider, profile=profile, on=True) is False
    assert selectors.is_public(profile)
    assert AuditEvent.objects.filter(action="online_profile.on").count() == 1


def test_first_public_at_is_set_the_first_time_only(admin, practice, provider, follow_up, now):
    profile = _qualified_off_profile(admin, practice, provider, follow_up)
    assert not selectors.profile_was_public(profile.number)
    services.profile_status_set(admin, profile=profile, on=True)
    profile.refresh_from_db()
    first = profile.first_public_at
    assert first == now
    with time_machine.travel(now + dt.timedelta(days=3), tick=False):
        services.profile_status_set(admin, profile=profile, on=False)
        services.profile_status_set(admin, profile=profile, on=True)
        services.profile_status_set(admin, profile=profile, on=False)
    profile.refresh_from_db()
    assert profile.first_public_at == first and not profile.is_on
    assert selectors.profile_was_public(profile.number)


def test_off_needs_no_checklist(profile, provider):
    _no_credential(profile, None)
    assert services.profile_status_set(provider, profile=profile, on=False) is True
    profile.refresh_from_db()
    assert not profile.is_on


# --- public_profiles ---------------------------------------------------------------------------


def _off(profile, admin):
    services.profile_status_set(admin, profile=profile, on=False)


def _membership_deactivated(profile, admin):
    Membership.objects.filter(user=profile.provider, practice=profile.practice).update(
        is_active=False
    )


def _account_inactive(profile, admin):
    profile.provider.is_active = False
    profile.provider.save(update_fields=["is_active"])


def _not_a_provider_any_more(profile, admin):
    Membership.objects.filter(user=profile.provider, practice=profile.practice).update(
        role=Role.STAFF
    )


HIDDEN = {
    "off": _off,
    "unattested": _not_attested,
    "no visit type offered online": _no_visit_type,
    "the only visit type offered online retired": _retired_visit_type,
    "credential removed": _no_credential,
    "membership deactivated": _membership_deactivated,
    "provider account inactive": _account_inactive,
    "role changed to staff": _not_a_provider_any_more,
}


@pytest.mark.parametrize("case", HIDDEN, ids=list(HIDDEN))
def test_the_public_does_not_see_a_profile_that_no_longer_qualifies(case, profile, admin):
    assert list(selectors.public_profiles()) == [profile]
    HIDDEN[case](profile, admin)
    profile.refresh_from_db()
    assert list(selectors.public_profiles()) == []
    assert not selectors.is_public(profile)
    assert selectors.public_profile_by_number(profile.number) is None
    assert selectors.public_profile_by_booking_id(profile.booking_id) is None
    assert selectors.profile_was_public(profile.number)


def test_a_profile_of_another_practice_of_the_same_provider_is_its_own(
    profile, provider, other_practice
):
    other_admin = factories.make_admin(other_practice)
    Membership.objects.create(
        user=provider, practice=other_practice, role=Role.PROVIDER, credential="MD"
    )
    there = services.profile_ensure(other_admin, practice=other_practice, provider=provider)
    assert there.pk != profile.pk and there.number != profile.number
    assert list(selectors.public_profiles()) == [profile]


# --- profile_slug ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_name", "credential", "name_part"),
    [
        ("Paula Provider", "MD", "paula-provider-md"),
        ("José Núñez-García", "DO", "jose-nunez-garcia-do"),
        ("Zoë O'Brien", "", "zoe-obrien"),
        ("Anh Nguyễn", "NP", "anh-nguyen-np"),
        # A credential already written after the name is not repeated.
        ("Paula Provider, MD", "MD", "paula-provider-md"),
        ("Paula Provider MD", "MD", "paula-provider-md"),
        ("Paula Provider, MD", "DO", "paula-provider-md-do"),
        ("李明", "MD", "provider-md"),
    ],
)
def test_the_address_is_the_name_and_credential_without_accents_then_the_number(
    full_name, credential, name_part, admin, practice, provider
):
    provider.full_name = full_name
    provider.save()
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    assert selectors.profile_slug(profile, credential) == f"{name_part}-{profile.number}"


def test_a_provider_without_a_name_is_provider_in_the_address_never_their_email(admin, practice):
    nameless = factories.make_staff(
        practice, role=Role.PROVIDER, email="dr.kim@example.test", full_name=""
    )
    profile = services.profile_ensure(admin, practice=practice, provider=nameless)
    assert selectors.profile_slug(profile, "") == f"provider-{profile.number}"


def test_a_title_before_the_name_is_left_out_of_the_address(admin, practice, provider):
    provider.full_name = "Dr. Priya Shah"
    provider.save()
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    assert selectors.profile_slug(profile, "MD") == f"priya-shah-md-{profile.number}"
