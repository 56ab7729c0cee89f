"""SPEC §8.4: the websites (origins) allowed to show the practice's booking pages in a frame.
Each line is an https origin without a path (http only for localhost, to test); anything else
is refused with a message naming the line, and nothing changes. Administrators only, audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico.audit.models import AuditEvent
from portico.practices.services import embed_origins_set

pytestmark = pytest.mark.django_db


def saved(practice) -> list[str]:
    practice.refresh_from_db()
    return practice.embed_origins


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.example.org", ["https://www.example.org"]),
        ("  HTTPS://WWW.Example.ORG/  ", ["https://www.example.org"]),
        ("https://clinic.example.org:8443", ["https://clinic.example.org:8443"]),
        ("http://localhost", ["http://localhost"]),
        (
            "http://localhost:8000\nhttp://127.0.0.1:5500",
            ["http://localhost:8000", "http://127.0.0.1:5500"],
        ),
        ("https://xn--bcher-kva.example", ["https://xn--bcher-kva.example"]),
        (
            "https://a.example\r\n\r\nhttps://b.example\nhttps://a.example",
            ["https://a.example", "https://b.example"],
        ),
        ("", []),
        ("\n  \n", []),
    ],
)
def test_origins_are_saved_as_browsers_send_them(admin, practice, typed, stored):
    embed_origins_set(admin, practice=practice, origins=typed)

    assert saved(practice) == stored


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("www.example.org", "Start with https://"),
        ("ftp://www.example.org", "Start with https://"),
        ("https://", "Start with https://"),
        ("http://www.example.org", "Use https://. Only http://localhost is allowed"),
        ("https://www.example.org/booking", "without a path"),
        ("https://www.example.org/?a=1", "without a path"),
        ("https://www.example.org#top", "without a path"),
        ("https://user:pw@www.example.org", "without a user name or password"),
        ("https://www.example.org:99999", "port must be a number"),
        ("https://www.example.org:", "port must be a number"),
        ("https://*.example.org", "full host name"),
        ("https://example", "full host name"),
        ("https://exa_mple.org", "full host name"),
        ("https://10.0.0.1", "not an IP address"),
        ("https://www.example.org https://b.org", "no spaces"),
        ("https://bücher.example", "only plain letters"),
        ("https://" + "a" * 200 + ".org", "at most 200 characters"),
        ("null", "Start with https://"),
    ],
)
def test_a_bad_line_is_refused_with_its_reason_and_nothing_changes(admin, practice, line, message):
    embed_origins_set(admin, practice=practice, origins="https://kept.example.org")

    with pytest.raises(ValidationError) as refused:
        embed_origins_set(admin, practice=practice, origins=f"https://fine.example.org\n{line}")

    (problem,) = refused.value.message_dict["origins"]
    assert message in problem
    assert saved(practice) == ["https://kept.example.org"]
    assert AuditEvent.objects.filter(action="settings.booking_embed_origins").count() == 1


def test_every_bad_line_is_named(admin, practice):
    with pytest.raises(ValidationError) as refused:
        embed_origins_set(admin, practice=practice, origins="http://a.example\nb.example")

    problems = refused.value.message_dict["origins"]
    assert problems[0].startswith("“http://a.example”:")
    assert problems[1].startswith("“b.example”:")


def test_at_most_twenty_websites(admin, practice):
    many = "\n".join(f"https://site{n}.example" for n in range(21))

    with pytest.raises(ValidationError):
        embed_origins_set(admin, practice=practice, origins=many)

    assert saved(practice) == []


def test_saving_is_audited_once_and_the_same_list_changes_nothing(admin, practice):
    assert embed_origins_set(admin, practice=practice, origins="https://www.example.org")
    assert not embed_origins_set(admin, practice=practice, origins="https://www.example.org/\n")

    (event,) = AuditEvent.objects.filter(action="settings.booking_embed_origins")
    assert event.actor == admin and event.details == {"origins": ["https://www.example.org"]}


def test_only_an_administrator_of_the_practice_sets_them(practice, staff, provider, outsider):
    for user in (staff, provider, outsider):
        with pytest.raises(PermissionDenied):
            embed_origins_set(user, practice=practice, origins="https://evil.example")
    assert saved(practice) == []
