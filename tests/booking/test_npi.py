"""SPEC §8.2: an NPI is ten digits whose last is a Luhn check digit computed over the number
prefixed with 80840; the online profile refuses any other number with a message saying why."""

import pytest
from django.core.exceptions import ValidationError

from portico.booking import services
from portico.booking.npi import is_valid_npi, npi_problem
from tests.booking.conftest import VALID_NPI

# Valid by the plain Luhn check of its ten digits, but not with the 80840 prefix.
PLAIN_LUHN_ONLY = "1234567897"


def test_a_number_with_the_right_check_digit_is_valid():
    assert npi_problem(VALID_NPI) is None
    assert is_valid_npi(VALID_NPI)
    # The CMS example NPI.
    assert is_valid_npi("1245319599")


def test_a_wrong_check_digit_is_refused():
    assert npi_problem("1234567894") == "check"
    assert not is_valid_npi("1234567890")


def test_the_check_digit_counts_the_80840_prefix_not_the_plain_luhn_check():
    from stdnum import luhn

    assert luhn.is_valid(PLAIN_LUHN_ONLY)
    assert npi_problem(PLAIN_LUHN_ONLY) == "check"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("123456789", "length"),
        ("12345678931", "length"),
        ("", "digits"),
        ("12345678a3", "digits"),
        ("NPI1234567", "digits"),
        ("１２３４５６７８９３", "digits"),  # full-width digits are not ASCII digits
        ("-123456789", "digits"),
    ],
)
def test_wrong_length_or_anything_but_digits_is_refused(value, problem):
    assert npi_problem(value) == problem
    assert not is_valid_npi(value)


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567894", "This is not a valid NPI: check the digits."),
        (PLAIN_LUHN_ONLY, "This is not a valid NPI: check the digits."),
        ("123456789", "An NPI is 10 digits."),
        ("12345abcde", "An NPI is 10 digits."),
    ],
)
def test_the_profile_refuses_a_bad_npi_with_a_message_and_keeps_the_old_one(
    admin, practice, provider, npi, message
):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)
    services.profile_save(admin, profile=profile, npi=VALID_NPI)

    with pytest.raises(ValidationError) as refused:
        services.profile_save(admin, profile=profile, npi=npi)

    assert refused.value.message_dict == {"npi": [message]}
    profile.refresh_from_db()
    assert profile.npi == VALID_NPI


def test_spaces_and_hyphens_in_a_typed_npi_are_ignored(admin, practice, provider):
    profile = services.profile_ensure(admin, practice=practice, provider=provider)

    services.profile_save(admin, profile=profile, npi=" 1234-567 893 ")

    profile.refresh_from_db()
    assert profile.npi == VALID_NPI
