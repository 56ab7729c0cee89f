"""Small builders for test data. Each returns saved objects with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from portico.accounts.models import User
from portico.charts.models import Patient
from portico.portal import registration
from portico.portal import services as portal
from portico.practices.models import Membership, Practice, Role

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_practice(name: str | None = None, **fields) -> Practice:
    n = next(_seq)
    return Practice.objects.create(
        name=name or f"Practice {n}",
        slug=fields.pop("slug", f"practice-{n}"),
        phone=fields.pop("phone", "(217) 555-0100"),
        **fields,
    )


def make_user(email: str | None = None, password: str = PASSWORD, **fields) -> User:
    email = email or f"user{next(_seq)}@example.test"
    return User.objects.create_user(email=email, password=password, **fields)


def make_staff(
    practice: Practice,
    role: str = Role.STAFF,
    may_invite: bool = True,
    email: str | None = None,
    **fields,
) -> User:
    user = make_user(email=email, full_name=fields.pop("full_name", f"Staff {next(_seq)}"))
    Membership.objects.create(
        user=user, practice=practice, role=role, may_invite_patients=may_invite, **fields
    )
    return user


def make_admin(practice: Practice, **fields) -> User:
    return make_staff(practice, role=Role.ADMINISTRATOR, **fields)


def make_patient(practice: Practice, **fields) -> Patient:
    n = next(_seq)
    values = {
        "legal_first_name": "Robin",
        "legal_last_name": f"Tester{n}",
        "date_of_birth": dt.date(1980, 4, 21),
        "sex": "female",
        "email": f"patient{n}@example.test",
        "mobile_phone": "+12025550123",
    }
    values.update(fields)
    return Patient.objects.create(practice=practice, **values)


def invite(actor: User, patient: Patient, **kwargs):
    return portal.invitation_issue(actor, patient=patient, **kwargs)


def enroll(actor: User, patient: Patient, email: str | None = None) -> User:
    """Invite and register the patient with a new account; returns the account."""
    invitation = invite(actor, patient)
    return registration.registration_create_account(
        invitation_id=str(invitation.public_id),
        email=email or patient.email,
        password=PASSWORD,
    )


def invite_representative(actor: User, patient: Patient, **kwargs):
    """Invite a representative of the patient (a parent named Jordan Rivera by default)."""
    values = {
        "name": "Jordan Rivera",
        "relationship": "parent",
        "email": f"rep{next(_seq)}@example.test",
        "phone": "",
    }
    values.update(kwargs)
    return portal.representative_invite(actor, patient=patient, **values)


def enroll_representative(actor: User, patient: Patient, *, account: User | None = None, **kwargs):
    """Invite a representative and register them: with a new account, or linking `account`.
    Returns (account, representative)."""
    representative = invite_representative(actor, patient, **kwargs)
    invitation = representative.current_invitation
    if account is None:
        account = registration.registration_create_account(
            invitation_id=str(invitation.public_id), email=invitation.email, password=PASSWORD
        )
    else:
        registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    representative.refresh_from_db()
    return account, representative


def sign_in(client, user: User) -> None:
    """Sign the test client in as `user`, past every sign-in step (tests use this, never
    `client.force_login`, so a new step such as a second factor is added in one place)."""
    from portico.accounts import mfa, session_timeout

    client.force_login(user)
    session = client.session
    session[mfa.SESSION_VERIFIED] = user.pk
    now = int(timezone.now().timestamp())
    session[session_timeout.SESSION_STARTED] = now
    session[session_timeout.SESSION_SEEN] = now
    session.save()


def give_authenticator(user: User, secret: str | None = None) -> str:
    """Give the account a confirmed authenticator app; returns its TOTP secret (for pyotp)."""
    import pyotp

    from portico.accounts.models import Authenticator

    secret = secret or pyotp.random_base32()
    Authenticator.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": timezone.now(), "last_step": 0}
    )
    return secret
