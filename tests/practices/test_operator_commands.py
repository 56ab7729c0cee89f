"""An operator adds practices and staff from the command line."""

import io

import pytest
from django.core.management import CommandError, call_command

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.practices.models import Membership, Practice, Role


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_practice_makes_the_practice_and_its_first_administrator(db):
    output = _run(
        "create_practice",
        "Lakeside Pediatrics",
        "--slug",
        "lakeside",
        "--time-zone",
        "America/Chicago",
        "--admin-email",
        "Boss@Lakeside.example",
    )

    practice = Practice.objects.get(slug="lakeside")
    assert practice.time_zone == "America/Chicago"
    membership = Membership.objects.get(practice=practice)
    assert membership.role == Role.ADMINISTRATOR
    assert membership.user.email == "boss@lakeside.example"
    password = output.split("initial password ")[1].strip()
    assert membership.user.check_password(password)
    assert password not in membership.user.password
    assert AuditEvent.objects.filter(practice=practice, action="practice.create").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "has spaces", "--admin-email", "a@b.example"], "letters, numbers"),
        (["--slug", "ok", "--admin-email", "not-an-email"], "valid email"),
        (
            ["--slug", "ok", "--time-zone", "Mars/Olympus", "--admin-email", "a@b.example"],
            "time zone",
        ),
    ],
)
def test_create_practice_refuses_bad_input_and_creates_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        _run("create_practice", "Bad Practice", *args)
    assert not Practice.objects.exists()
    assert not User.objects.exists()


def test_add_staff_gives_an_existing_account_a_second_practice(db, practice, admin):
    other = Practice.objects.create(name="Second", slug="second")
    output = _run("add_staff", "second", admin.email, "--role", "provider", "--credential", "NP")
    assert "Initial password" not in output  # the account existed already
    membership = Membership.objects.get(user=admin, practice=other)
    assert (membership.role, membership.credential) == ("provider", "NP")


def test_add_staff_refuses_an_unknown_practice_and_a_duplicate(db, practice, admin):
    with pytest.raises(CommandError, match="No practice"):
        _run("add_staff", "nowhere", "x@y.example")
    with pytest.raises(CommandError, match="already works"):
        _run("add_staff", practice.slug, admin.email)
