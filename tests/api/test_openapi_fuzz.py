"""The OpenAPI description states the real rules of the bodies of POST /patients,
…/portal/invite and …/portal/resend, so that a client can learn them from it.

schemathesis generates bodies from the served description and sends them to the app with a
valid staff token and a real chart: every body the description allows is accepted, and every
body it refuses (negative testing) is refused with a 4xx JSON error that changes nothing. The one
allowance: email and phone patterns state what is always accepted, not all that is (see
portico/api/schemas.py), so a contact outside them may be accepted if the service's rule says it
is valid. Bounded and derandomized: the same examples on every run.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from portico.charts.validation import normalize_phone
from portico.core.validation import clean_email
from portico.portal import services as portal_services
from portico.portal.models import AccessState, PortalAccess
from tests.api.conftest import assert_error_body, snapshot, token_key
from tests.factories import invite, make_patient

pytestmark = pytest.mark.django_db

EXAMPLES = 50
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Each example is a request with its database writes; slow generation is not the point.
    suppress_health_check=[HealthCheck.too_slow],
)

# name: (method, path, status of an accepted body)
OPERATIONS = {
    "create": ("POST", "/api/v1/patients", 201),
    "invite": ("POST", "/api/v1/patients/{patient_id}/portal/invite", 200),
    "resend": ("POST", "/api/v1/patients/{patient_id}/portal/resend", 200),
}
# Body fields whose pattern is a part of what the service accepts (SPEC §2.1: libphonenumber).
CONTACT_RULES = {
    "email": lambda value: not clean_email_errors(value),
    "mobile_phone": lambda value: phone_is_valid(value),
    "phone": lambda value: phone_is_valid(value),
}


def clean_email_errors(value) -> dict:
    errors: dict = {}
    clean_email(value, errors)
    return errors


def phone_is_valid(value) -> bool:
    try:
        normalize_phone(value)
    except ValidationError:
        return False
    return True


BLANK_OR_NULL = ({"type": "null"}, {"type": "string", "maxLength": 0})


def every_field_given(schema):
    """The description narrowed to bodies that give every field, none empty or null: a part of
    what it allows (so each is still a body it allows), where the contact rules are exercised on
    every example instead of the few that happen to carry an address or a number."""
    if isinstance(schema, list):
        return [every_field_given(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    narrowed = {key: every_field_given(value) for key, value in schema.items()}
    if "anyOf" in narrowed:
        kept = [b for b in narrowed["anyOf"] if b not in BLANK_OR_NULL]
        narrowed["anyOf"] = kept or narrowed["anyOf"]
    if narrowed.get("type") == "object" and "properties" in narrowed:
        narrowed["required"] = sorted(narrowed["properties"])
    if "requestBody" in narrowed:
        narrowed["requestBody"]["required"] = True
    return narrowed


class Fuzz:
    """The served description, a staff token and a chart to act on, for one operation."""

    def __init__(self, client, admin, practice, name: str, *, narrow: bool = False):
        self.client = client
        self.name = name
        self.method, self.path, self.accepted = OPERATIONS[name]
        self.key = token_key(admin, practice)
        self.admin = admin
        self.chart = make_patient(practice)
        if name == "resend":
            invite(admin, self.chart)
        description = client.get("/api/v1/openapi.json").json()
        if narrow:
            description = every_field_given(description)
        self.operation = schemathesis.openapi.from_dict(description)[self.path][self.method]

    def strategy(self, mode: GenerationMode):
        return self.operation.as_strategy(
            mode,
            path_parameters={"patient_id": str(self.chart.public_id)},
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def make_invitable(self) -> None:
        """Invite answers 409 on a pending invite: cancel it, so each body meets the rules."""
        access = PortalAccess.objects.filter(patient=self.chart).first()
        if access is not None and access.effective_state == AccessState.INVITED:
            portal_services.invitation_cancel(self.admin, patient=self.chart)

    def send(self, case):
        body = case.body
        if body is NOT_SET:
            data = ""
        elif isinstance(body, bytes):  # negative testing: not JSON at all
            data = body
        else:
            data = json.dumps(body)
        return self.client.generic(
            case.method,
            case.formatted_path,
            data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.key}",
        )


@pytest.fixture
def fuzz(client, admin, practice):
    return lambda name, **kwargs: Fuzz(client, admin, practice, name, **kwargs)


def body_mutations(case) -> tuple:
    """How a negative case breaks the description, when it breaks only the body."""
    mutations = case.meta.phase.data.mutations
    if mutations and all(m.parameter_location == ParameterLocation.BODY for m in mutations):
        return mutations
    return ()


def only_contacts_broken(case) -> bool:
    """True when every way the body breaks the description is a contact field's value."""
    fields = {m.path[0] if m.path else None for m in body_mutations(case)}
    return bool(fields) and fields <= CONTACT_RULES.keys() and isinstance(case.body, dict)


@pytest.mark.parametrize("narrow", [False, True], ids=["any-body", "every-field-given"])
@pytest.mark.parametrize("name", OPERATIONS)
def test_every_body_the_description_allows_is_accepted(fuzz, name, narrow):
    f = fuzz(name, narrow=narrow)

    @FUZZ
    @given(case=f.strategy(GenerationMode.POSITIVE))
    def check(case):
        if name == "invite":
            f.make_invitable()
        response = f.send(case)
        assert response.status_code == f.accepted, (case.body, response.content)

    check()


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_body_the_description_refuses_is_refused_and_changes_nothing(fuzz, name):
    f = fuzz(name)

    @FUZZ
    @given(case=f.strategy(GenerationMode.NEGATIVE).filter(body_mutations))
    def check(case):
        if name == "invite":
            f.make_invitable()
        before = snapshot()
        response = f.send(case)
        if response.status_code < 300 and only_contacts_broken(case):
            # Outside the always-accepted pattern, yet a valid address or number.
            for field, is_valid in CONTACT_RULES.items():
                if field in case.body and case.body[field]:
                    assert is_valid(case.body[field]), (case.body, response.content)
            return
        assert 400 <= response.status_code < 500, (case.body, response.content)
        assert_error_body(response, response.status_code)
        assert snapshot() == before

    check()
