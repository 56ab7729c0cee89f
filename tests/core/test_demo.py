"""The demo data promised by README.md: fixed sign-ins and every portal state."""

from django.core.management import call_command

from portico.accounts.models import User
from portico.charts.models import Patient
from portico.core import demo
from portico.portal.models import AccessState, PortalAccess
from portico.practices.models import Membership


def test_demo_has_the_documented_sign_ins_and_portal_states(db):
    call_command("seed_demo")

    practice = demo.demo_exists() and Membership.objects.first().practice
    for email in (
        "admin@demo.portico.test",
        "provider@demo.portico.test",
        "staff@demo.portico.test",
        "patient@demo.portico.test",
    ):
        assert User.objects.get(email=email).check_password("portico-demo"), email
    roles = {m.user.email: m for m in Membership.objects.select_related("user")}
    assert roles["admin@demo.portico.test"].is_administrator
    assert roles["provider@demo.portico.test"].role == "provider"
    assert roles["staff@demo.portico.test"].may_invite_patients is False
    assert "patient@demo.portico.test" not in roles  # a patient, not staff

    assert 18 <= Patient.objects.filter(practice=practice).count() <= 25
    states = list(PortalAccess.objects.values_list("state", flat=True))
    assert states.count(AccessState.ACTIVE) >= 3
    assert states.count(AccessState.REVOKED) == 1
    assert AccessState.INVITED in states and AccessState.CANCELLED in states
    jordan = PortalAccess.objects.get(account__email="patient@demo.portico.test")
    assert jordan.state == AccessState.ACTIVE


def test_seeding_twice_changes_nothing(db):
    call_command("seed_demo")
    before = Patient.objects.count()
    call_command("seed_demo")
    assert Patient.objects.count() == before
