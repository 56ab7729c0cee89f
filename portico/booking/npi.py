"""The National Provider Identifier's check (SPEC §8.2): ten digits whose last is a Luhn check
digit computed over the number prefixed with 80840 (the health-industry prefix of ISO 7812)."""

from __future__ import annotations

from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

PREFIX = "80840"


def npi_problem(value: str) -> str | None:
    """None for a valid NPI, else a short machine reason: "length", "digits" or "check"."""
    if not value.isascii() or not value.isdigit():
        return "digits"
    if len(value) != 10:
        return "length"
    if value[0] not in "12":
        # NPIs are issued starting with 1 or 2 (the NPPES numbering plan).
        return "check"
    try:
        luhn.validate(PREFIX + value)
    except StdnumError:
        return "check"
    return None


def is_valid_npi(value: str) -> bool:
    return npi_problem(value) is None
