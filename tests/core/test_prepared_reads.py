"""The reads every signed-in request makes are built once (core.prepared) and must answer
exactly as the ORM queries they replace: same instances, same scoping, same ordering, and an
expired session or a deactivated account is still signed out."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.audit.services import audit_read, audit_record
from portico.charts import selectors
from portico.core import prepared
from portico.portal.models import PortalAccess
from portico.portal.services import patient_access_list, registration_link_account
from portico.practices import permissions
from portico.practices.models import Membership
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


def columns(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_an_account_read_by_prepared_sql_equals_the_orm_one(admin):
    admin.last_login = timezone.now()
    admin.save()
    assert columns(prepared.fetch_one(User, "id", admin.pk)) == columns(
        User.objects.get(pk=admin.pk)
    )
    assert prepared.fetch_one(User, "id", 999_999) is None


def test_a_prepared_instance_behaves_as_a_loaded_one_when_saved(admin):
    account = prepared.fetch_one(User, "id", admin.pk)

    assert account == User.objects.get(pk=admin.pk)
    assert (account._state.adding, account._state.db) == (False, "default")
    account.full_name = "Renamed Admin"
    account.save(update_fields=["full_name"])  # an UPDATE of the row, not a new account
    assert User.objects.filter(full_name="Renamed Admin").count() == 1
    assert User.objects.count() == 1


def test_a_session_past_its_expiry_is_signed_out(client, admin):
    sign_in(client, admin)
    assert client.get(reverse("charts:patient_list")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    response = client.get(reverse("charts:patient_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign_in"))


def test_a_deactivated_account_is_signed_out_on_its_next_request(client, admin):
    sign_in(client, admin)
    User.objects.filter(pk=admin.pk).update(is_active=False)

    response = client.get(reverse("charts:patient_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign_in"))


def test_memberships_list_is_the_active_ones_in_practice_name_order_with_practices(practice):
    user = factories.make_user()
    zulu = factories.make_practice("Zulu Clinic")
    alpha = factories.make_practice("Alpha Clinic")
    gone = factories.make_practice("Gone Clinic")
    for p in (practice, zulu, alpha, gone):
        Membership.objects.create(user=user, practice=p)
    Membership.objects.filter(practice=gone).update(is_active=False)

    with CaptureQueriesContext(connection) as queries:
        memberships = permissions.active_memberships_list(user)
        names = [m.practice.name for m in memberships]

    assert len(queries) == 1
    assert names == ["Alpha Clinic", practice.name, "Zulu Clinic"]
    assert [columns(m) for m in memberships] == [
        columns(m) for m in permissions.active_memberships(user)
    ]


def test_access_list_orders_by_practice_then_last_name_and_reads_once(admin, practice):
    other = factories.make_practice("Aardvark Family Care")
    other_admin = factories.make_admin(other)
    email = "family@example.test"
    young = factories.make_patient(practice, legal_last_name="Young", email=email)
    baker = factories.make_patient(practice, legal_last_name="Baker", email=email)
    far = factories.make_patient(other, legal_last_name="Zimmer", email=email)
    account = factories.enroll(admin, young, email=email)
    for actor, patient in ((admin, baker), (other_admin, far)):  # one account, three charts
        invitation = factories.invite(actor, patient)
        registration_link_account(account, invitation_id=str(invitation.public_id))

    with CaptureQueriesContext(connection) as queries:
        accesses = patient_access_list(account)
        shown = [(a.practice.name, a.patient.legal_last_name, a.effective_state) for a in accesses]

    assert len(queries) == 1
    assert shown == [
        ("Aardvark Family Care", "Zimmer", "active"),
        (practice.name, "Baker", "active"),
        (practice.name, "Young", "active"),
    ]
    assert [columns(a) for a in accesses] == [
        columns(PortalAccess.objects.get(pk=a.pk)) for a in accesses
    ]


def test_a_chart_is_found_only_in_its_own_practice(practice, other_practice, patient):
    assert selectors.chart_with_portal(practice, patient.public_id) == patient
    assert selectors.chart_with_portal(other_practice, patient.public_id) is None


def test_a_chart_without_portal_access_says_so_without_another_query(practice, patient):
    found = selectors.chart_with_portal(practice, patient.public_id)

    with CaptureQueriesContext(connection) as queries:
        assert not hasattr(found, "portal_access")
        assert found.practice == practice
    assert len(queries) == 0


def test_a_chart_with_portal_access_carries_its_invitation(admin, practice, patient):
    factories.invite(admin, patient)
    found = selectors.chart_with_portal(practice, patient.public_id)

    with CaptureQueriesContext(connection) as queries:
        access = found.portal_access
        state = access.effective_state
        invitation = access.current_invitation
    assert len(queries) == 0
    assert state == "invited"
    assert columns(invitation) == columns(PortalAccess.objects.get(pk=access.pk).current_invitation)


def test_audit_of_a_read_stores_what_audit_record_stores(provider, patient):
    audit_record(
        provider, action="chart.view", practice=patient.practice, patient=patient,
        details={"page": "x"},
    )  # fmt: skip
    audit_read(provider, action="chart.view", patient=patient, details={"page": "x"})

    first, second = AuditEvent.objects.filter(patient=patient).order_by("id")
    skip = {"id", "created_at"}
    assert {k: v for k, v in columns(first).items() if k not in skip} == {
        k: v for k, v in columns(second).items() if k not in skip
    }
    assert abs(second.created_at - first.created_at) < dt.timedelta(seconds=5)


def test_a_remembered_session_gives_each_reader_its_own_contents():
    from portico.accounts.session_store import SessionStore

    store = SessionStore()
    text = store.encode({"portal": {"invitation": "abc"}, "seen": 10})
    first = store.decode(text)
    first["portal"]["invitation"] = "changed"
    first["seen"] = 11

    assert store.decode(text) == {"portal": {"invitation": "abc"}, "seen": 10}


def test_altered_session_text_is_rejected_after_the_genuine_text_was_read():
    from portico.accounts.session_store import SessionStore

    store = SessionStore()
    text = store.encode({"seen": 10})
    assert store.decode(text) == {"seen": 10}
    altered = text.replace(":", ":x", 1)

    assert store.decode(altered) == {}
