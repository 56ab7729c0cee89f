"""`portico create_api_token EMAIL --name NAME` prints a working token once; only its hash is
stored."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portico.accounts.models import ApiToken
from portico.audit.models import AuditEvent
from portico.practices.models import Membership
from tests.api.conftest import ApiClient
from tests.factories import make_patient, make_practice, make_user


def create_token(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_unknown_user_is_refused(db):
    with pytest.raises(CommandError, match="No user with the email nobody@example.test"):
        create_token("nobody@example.test", "--name", "sync")
    assert not ApiToken.objects.exists()


def test_user_who_is_not_staff_is_refused(db):
    patient_account = make_user("patient@example.test")
    with pytest.raises(CommandError, match="not active staff at any practice"):
        create_token(patient_account.email, "--name", "sync")
    assert not ApiToken.objects.exists()


def test_user_whose_membership_was_deactivated_is_refused(staff, practice):
    Membership.objects.filter(user=staff).update(is_active=False)
    with pytest.raises(CommandError, match="not active staff"):
        create_token(staff.email, "--name", "sync")
    assert not ApiToken.objects.exists()


def test_deactivated_user_is_refused(staff):
    staff.is_active = False
    staff.save()
    with pytest.raises(CommandError, match="deactivated"):
        create_token(staff.email, "--name", "sync")
    assert not ApiToken.objects.exists()


def test_blank_name_is_refused(staff):
    with pytest.raises(CommandError, match="Give the token a name"):
        create_token(staff.email, "--name", "  ")
    assert not ApiToken.objects.exists()


def test_user_at_several_practices_must_choose_one(client, staff, practice, other_practice):
    Membership.objects.create(user=staff, practice=other_practice, role="staff")
    with pytest.raises(CommandError, match=f"pass --practice .*{other_practice.slug}"):
        create_token(staff.email, "--name", "sync")
    with pytest.raises(CommandError, match="not active staff at the practice nowhere"):
        create_token(staff.email, "--name", "sync", "--practice", "nowhere")

    key = create_token(staff.email, "--name", "sync", "--practice", other_practice.slug)

    assert ApiToken.objects.get().practice == other_practice
    theirs = make_patient(other_practice)
    make_patient(practice)
    listed = ApiClient(client, key).get("/patients").json()["items"]
    assert [p["id"] for p in listed] == [str(theirs.public_id)]


def test_printed_token_works_for_the_api(client, staff, practice):
    patient = make_patient(practice)
    make_patient(make_practice())

    key = create_token(staff.email.upper(), "--name", "billing sync")

    assert key.startswith("pt_")
    response = ApiClient(client, key).get("/patients")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [str(patient.public_id)]
    token = ApiToken.objects.get()
    assert (token.user, token.practice, token.name) == (staff, practice, "billing sync")
    assert AuditEvent.objects.filter(action="api_token.create", actor=staff).count() == 1


def test_only_the_hash_of_the_token_is_stored(staff):
    key = create_token(staff.email, "--name", "sync")

    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(key in value for value in stored)
    # The visible prefix helps tell tokens apart but is far too short to use.
    assert key.startswith(token.prefix) and len(token.prefix) <= 12 < len(key)
    audit = [str(e.details) for e in AuditEvent.objects.all()]
    assert not any(key in d or key[len(token.prefix) :] in d for d in audit)
