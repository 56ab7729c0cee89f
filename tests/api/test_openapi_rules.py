"""The rules the OpenAPI description states for input values are the services' rules, checked
here value by value (tests/api/test_openapi_fuzz.py checks them through the API)."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from portico.api.schemas import (
    EMAIL_PATTERN,
    NAME_PATTERN,
    PHONE_PATTERN,
    TEXT_PATTERN,
    date_of_birth_pattern,
)
from portico.charts.validation import has_control_characters, normalize_phone
from portico.core.validation import clean_email


@pytest.fixture
def schema(client, db):
    return client.get("/api/v1/openapi.json").json()["components"]["schemas"]


def test_openapi_states_the_rules_of_a_new_chart(schema):
    patient = schema["PatientIn"]
    fields = patient["properties"]
    assert patient["additionalProperties"] is False
    assert set(patient["required"]) == {"legal_first_name", "legal_last_name", "date_of_birth"}
    for name in ("legal_first_name", "legal_last_name"):
        assert fields[name]["minLength"] == 1 and fields[name]["pattern"] == NAME_PATTERN
    for name in ("preferred_name", "address_line1", "city", "postal_code"):
        assert fields[name]["pattern"] == TEXT_PATTERN
    assert fields["date_of_birth"]["format"] == "date"
    assert re.fullmatch(fields["date_of_birth"]["pattern"], "1900-01-01")
    email = fields["email"]["anyOf"][1]
    assert email["format"] == "email" and email["maxLength"] == 254
    assert fields["mobile_phone"]["anyOf"][1]["pattern"] == PHONE_PATTERN
    assert schema["Sex"]["enum"] == ["female", "male", "other", "unknown"]


def test_openapi_states_the_rules_of_an_invitation_contact(schema):
    invite = schema["InviteIn"]
    assert invite["additionalProperties"] is False
    assert "required" not in invite  # both omitted: the chart's own
    email_branches = invite["properties"]["email"]["anyOf"]
    assert {"type": "null"} in email_branches
    # An empty email is refused: the enrollment email needs an address.
    assert all(b.get("format") == "email" for b in email_branches if b != {"type": "null"})


@pytest.mark.parametrize(
    "today",
    [dt.date(2026, 11, 30), dt.date(2030, 1, 1), dt.date(2028, 2, 29), dt.date(2099, 12, 31)],
)
def test_date_of_birth_pattern_admits_exactly_1900_to_today(today):
    pattern = re.compile(date_of_birth_pattern(today))
    day = dt.date(1898, 1, 1)
    while day <= today + dt.timedelta(days=400):
        admitted = pattern.fullmatch(day.isoformat()) is not None
        assert admitted == (day.year >= 1900 and day <= today), day
        day += dt.timedelta(days=1)


def test_name_and_text_patterns_are_the_services_rules_for_every_character():
    name, text = re.compile(NAME_PATTERN), re.compile(TEXT_PATTERN)
    for code in [*range(0x3100), 0xFEFF, 0x1F600, 0x10FFFD]:
        char = chr(code)
        allowed = not has_control_characters(char)
        assert (text.fullmatch(char) is not None) == allowed, code
        assert (name.fullmatch(char) is not None) == (allowed and bool(char.strip())), code
    assert name.fullmatch(" \u00a0Ann\t") and not name.fullmatch(" \u3000\t")


@settings(max_examples=200, derandomize=True)
@given(st.from_regex(PHONE_PATTERN, fullmatch=True))
def test_every_phone_number_the_pattern_admits_is_valid(phone):
    normalize_phone(phone)  # raises ValidationError when libphonenumber finds it invalid


@settings(max_examples=100, derandomize=True)
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda e: len(e) <= 254))
def test_every_email_address_the_pattern_admits_is_valid(email):
    errors: dict = {}
    clean_email(email, errors)
    assert errors == {}


def test_the_phone_pattern_is_a_part_of_the_rule_that_the_description_names():
    # Valid as typed and accepted by the API, though outside the pattern (see its description).
    assert not re.fullmatch(PHONE_PATTERN, "(202) 555-0123")
    assert normalize_phone("(202) 555-0123") == "+12025550123"
    with pytest.raises(ValidationError):
        normalize_phone("+1 555 201 3344")
