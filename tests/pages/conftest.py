"""Shared helpers for the server-rendered page tests."""

import pytest
from django.urls import reverse

from portico.portal import tokens
from tests import factories
from tests.factories import sign_in


def chart_url(patient, **query) -> str:
    url = reverse("charts:chart", args=[patient.public_id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def action_url(patient, action: str) -> str:
    return reverse("charts:portal_action", args=[patient.public_id, action])


def register_url(invitation) -> str:
    """The path of the emailed "Access your records" link."""
    return reverse("portal:register", args=[tokens.link_token(invitation.link_nonce)])


def account_url(invitation) -> str:
    return reverse("portal:register_account", args=[tokens.link_token(invitation.link_nonce)])


def verify(client, invitation, *, dob=None, code=None):
    """Post the "Access your records" form; right answers unless told otherwise."""
    dob = invitation.patient.date_of_birth.isoformat() if dob is None else dob
    code = invitation.access_code if code is None else code
    return client.post(register_url(invitation), {"date_of_birth": dob, "access_code": code})


@pytest.fixture
def invited(admin, patient):
    """The patient, invited; returns the invitation."""
    return factories.invite(admin, patient)


@pytest.fixture
def enrolled(admin, patient):
    """The patient, registered with a new account; returns the account."""
    return factories.enroll(admin, patient)


@pytest.fixture
def staff_client(client, staff):
    sign_in(client, staff)
    return client


@pytest.fixture
def admin_client(client, admin):
    sign_in(client, admin)
    return client
