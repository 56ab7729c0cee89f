"""EHR Settings > Users: administrators add people to the practice and take them off."""

import re

from portico.accounts.services import api_token_create
from portico.audit.models import AuditEvent
from portico.practices.models import Membership
from tests.factories import make_staff, sign_in

USERS = "/ehr/settings/users/"


def _remove_url(user):
    return f"/ehr/settings/users/{user.public_id}/remove/"


def _add(client, **fields):
    data = {
        "email": "new.nurse@riverside.example",
        "full_name": "Nia Nurse",
        "role": "staff",
        "credential": "",
    }
    data.update(fields)
    return client.post(USERS, data)


def test_non_administrators_cannot_see_or_change_users(client, staff, admin):
    sign_in(client, staff)
    assert client.get(USERS).status_code == 403
    assert _add(client).status_code == 403
    assert client.post(_remove_url(admin)).status_code == 403
    assert Membership.objects.get(user=admin).is_active
    assert not Membership.objects.filter(user__email="new.nurse@riverside.example").exists()


def test_staff_of_another_practice_cannot_remove_this_practices_people(client, outsider, staff):
    sign_in(client, outsider)
    assert client.post(_remove_url(staff)).status_code == 404
    assert Membership.objects.get(user=staff).is_active


def test_adding_a_new_person_shows_their_initial_password_once(client, admin, practice):
    sign_in(client, admin)
    response = _add(client, role="provider", credential="NP")
    html = response.content.decode()
    password = re.search(r'<code class="token">([^<]+)</code>', html).group(1)
    membership = Membership.objects.get(user__email="new.nurse@riverside.example")
    assert (membership.practice, membership.role, membership.credential) == (
        practice,
        "provider",
        "NP",
    )
    assert membership.user.check_password(password)
    assert password not in client.get(USERS).content.decode()
    assert AuditEvent.objects.filter(actor=admin, action="practice.staff_add").exists()

    newcomer = client.__class__()
    signed_in = newcomer.post(
        "/accounts/sign-in/", {"email": "new.nurse@riverside.example", "password": password}
    )
    # The password works; the next step is setting up an authenticator app.
    assert signed_in["Location"] == "/accounts/verify/"
    assert newcomer.get("/accounts/verify/")["Location"] == "/accounts/authenticator/"


def test_bad_input_is_explained_and_adds_nobody(client, admin):
    sign_in(client, admin)
    before = Membership.objects.count()
    html = _add(client, email="not an email").content.decode()
    assert "Enter a valid email address." in html
    html = _add(client, role="superuser").content.decode()
    assert "Select a valid choice." in html
    html = _add(client, email=admin.email).content.decode()
    assert "already works at the practice" in html
    assert Membership.objects.count() == before


def test_removed_person_loses_pages_and_api_at_once(client, admin, practice):
    nurse = make_staff(practice, full_name="Nia Nurse")
    _token, key = api_token_create(nurse, practice=practice, name="sync")
    nurse_browser = client.__class__()
    sign_in(nurse_browser, nurse)
    assert nurse_browser.get("/ehr/").status_code == 200

    sign_in(client, admin)
    response = client.post(_remove_url(nurse), follow=True)
    assert "no longer works here" in response.content.decode()

    assert nurse_browser.get("/ehr/").status_code == 403
    api = client.__class__().get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 401
    assert AuditEvent.objects.filter(action="practice.staff_remove").exists()
    assert "Nia Nurse" not in client.get(USERS).content.decode()


def test_an_administrator_cannot_remove_themselves(client, admin):
    sign_in(client, admin)
    response = client.post(_remove_url(admin), follow=True)
    assert "You cannot remove yourself" in response.content.decode()
    assert Membership.objects.get(user=admin).is_active


def test_a_person_who_comes_back_is_active_again_with_the_new_role(client, admin, practice):
    nurse = make_staff(practice, may_invite=False)
    sign_in(client, admin)
    client.post(_remove_url(nurse))
    _add(client, email=nurse.email, role="provider", credential="PA")
    membership = Membership.objects.get(user=nurse)
    assert membership.is_active and membership.role == "provider"
    assert membership.may_invite_patients  # the default right, as for anyone new
