"""Property tests on the registration forms: whatever a visitor types, never a 500, and never
a verified or enrolled registration unless the right date of birth and access code were given."""

import datetime as dt
import string

import pytest
from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portico.accounts.models import User
from portico.portal.models import AccessState, PortalAccess
from portico.portal.tokens import normalize_access_code
from tests import factories
from tests.pages.conftest import account_url, register_url

pytestmark = pytest.mark.django_db

DOB = dt.date(1980, 4, 21)
HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

RIGHT = object()  # stands for "the invitation's real access code"

dob_inputs = st.one_of(
    st.text(max_size=30),
    st.dates().map(dt.date.isoformat),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.just(DOB.isoformat()),
    st.just("04/21/1980"),
    st.just(""),
)
code_inputs = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=string.ascii_uppercase + string.digits + "- ", max_size=12),
    st.just(RIGHT),
)


def _parsed_date(text: str):
    try:
        return forms.DateField().clean(text)
    except ValidationError:
        return None


@HYPOTHESIS
@given(dob=dob_inputs, code=code_inputs, lower=st.booleans())
@example(dob=DOB.isoformat(), code=RIGHT, lower=True)
@example(dob="1980-04-21\x00", code=RIGHT, lower=False)
@example(dob="99999-01-01", code="", lower=False)
def test_verify_form_never_fails_and_lets_only_the_right_answers_through(
    admin, practice, dob, code, lower
):
    cache.clear()  # per-address limits count in the cache; each example starts afresh
    patient = factories.make_patient(practice, date_of_birth=DOB)
    invitation = factories.invite(admin, patient)
    if code is RIGHT:
        code = invitation.access_code_display
    if lower:
        code = code.lower()
    client = Client()

    response = client.post(register_url(invitation), {"date_of_birth": dob, "access_code": code})

    assert response.status_code in (200, 302, 403)
    right = _parsed_date(dob) == DOB and normalize_access_code(code) == invitation.access_code
    assert (response.status_code == 302) == right
    assert ("portal_registration" in client.session) == right
    # Whatever happened, nobody is enrolled by this step alone.
    assert PortalAccess.objects.get(patient=patient).state == AccessState.INVITED


emails = st.one_of(st.emails().map(str), st.text(max_size=40), st.just(""))
passwords = st.one_of(st.text(max_size=40), st.just("correct horse battery staple"))


def _acceptable(email: str, password: str, again: str) -> bool:
    email = email.strip().lower()
    if not email or password != again or not password:
        return False
    if "\x00" in email + password:  # Django's form fields refuse null characters
        return False
    try:
        validate_email(email)
        forms.EmailField(max_length=254).clean(email)
        validate_password(password, user=User(email=email))
    except ValidationError:
        return False
    return len(password) <= 128 and not User.objects.filter(email__iexact=email).exists()


@HYPOTHESIS
@given(
    email=emails,
    password=passwords,
    same=st.booleans(),
    other=st.text(max_size=20),
    verified=st.booleans(),
)
@example(
    email="robin@home.example",
    password="correct horse battery staple",
    same=True,
    other="",
    verified=True,
)
@example(
    email="robin@home.example",
    password="correct horse battery staple",
    same=True,
    other="",
    verified=False,
)
def test_create_account_never_fails_and_enrolls_only_a_verified_valid_registration(
    admin, practice, email, password, same, other, verified
):
    cache.clear()  # per-address limits count in the cache; each example starts afresh
    patient = factories.make_patient(practice, date_of_birth=DOB)
    invitation = factories.invite(admin, patient)
    again = password if same else other
    client = Client()
    if verified:
        client.post(
            register_url(invitation),
            {"date_of_birth": DOB.isoformat(), "access_code": invitation.access_code},
        )
    expected = verified and _acceptable(email, password, again)

    response = client.post(
        account_url(invitation),
        {
            "choice": "create",
            "new-email": email,
            "new-password": password,
            "new-password_again": again,
        },
    )

    assert response.status_code in (200, 302)
    access = PortalAccess.objects.get(patient=patient)
    assert (access.state == AccessState.ACTIVE) == expected
    if expected:
        assert access.account.email == email.strip().lower()
        assert access.account.check_password(password)
