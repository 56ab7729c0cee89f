"""Password rules per NIST SP 800-63B (SPEC §4.1): length 8 to 128, any characters, not common
or breached, not built from the email address; no composition rules."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from portico.accounts.models import User

pytestmark = pytest.mark.django_db

ACCOUNT = User(email="jane.doe@example.org")


def problems(password, user=ACCOUNT) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.parametrize(
    "password",
    [
        "plainlowercase",  # no composition rules
        "eight ch",  # exactly 8, with a space
        "пароль-из-слов",  # any Unicode
        "天気がいい日に散歩",
        "x" * 20 + " " * 5 + "🙂" * 3,
        "z" * 128,  # long passwords are welcome
        "jane.doe went hiking on a sunny day",  # a long phrase may contain the name
    ],
)
def test_acceptable_passwords(password):
    assert problems(password) == []


@pytest.mark.parametrize(
    ("password", "message_part"),
    [
        ("short1!", "too short"),
        ("password", "too common"),
        ("iloveyou", "too common"),
        ("z" * 129, "at most 128"),
        ("jane.doe2024", "email address"),
        ("JaneDoe!!", "email address"),
        ("portico123", "name of this service"),
    ],
)
def test_refused_passwords_say_why(password, message_part):
    assert any(message_part in message for message in problems(password))


def test_every_place_that_sets_a_password_applies_the_rules(client, admin, practice):
    from django.urls import reverse

    from tests import factories

    factories.sign_in(client, admin)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "current_password": factories.PASSWORD,
            "new_password": "password",
            "new_password_again": "password",
        },
    )
    assert "too common" in response.content.decode()
