"""People change their own password (e.g. the initial one an operator handed over)."""

from portico.audit.models import AuditEvent
from tests.factories import PASSWORD, sign_in

URL = "/accounts/profile/password/"


def _post(client, current, new, again=None):
    return client.post(
        URL,
        {
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )


def test_wrong_current_password_changes_nothing(client, staff):
    sign_in(client, staff)
    response = _post(client, "not my password", "a brand new long passphrase")
    assert "Your current password is not right." in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_common_or_mismatched_new_password_is_refused(client, staff):
    sign_in(client, staff)
    assert "too common" in _post(client, PASSWORD, "password123").content.decode()
    assert (
        "not the same"
        in _post(client, PASSWORD, "long passphrase one", "long passphrase two").content.decode()
    )
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_password_change_keeps_this_session_and_is_audited(client, staff):
    sign_in(client, staff)
    response = _post(client, PASSWORD, "a brand new long passphrase")
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("a brand new long passphrase")
    assert client.get("/accounts/profile/").status_code == 200  # still signed in
    assert AuditEvent.objects.filter(actor=staff, action="account.password_change").exists()


def test_other_sessions_end_when_the_password_changes(client, staff, django_user_model):
    from django.test import Client

    other_browser = Client()
    sign_in(other_browser, staff)
    sign_in(client, staff)
    _post(client, PASSWORD, "a brand new long passphrase")
    assert other_browser.get("/accounts/profile/").status_code == 302  # sent to sign in
