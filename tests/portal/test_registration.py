"""SPEC §3.5: registration through the emailed link, and every way it is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.portal import registration, tokens
from portico.portal import selectors as portal_selectors
from portico.portal import services as portal
from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess
from tests.factories import PASSWORD, enroll, invite, make_user

WRONG_DOB = dt.date(1979, 4, 21)
EXPIRED = "This registration link has expired. Please ask your practice to enroll you"


def token_of(invitation: Invitation) -> str:
    return tokens.link_token(invitation.link_nonce)


def verify(invitation: Invitation, *, dob: dt.date | None = None, code: str | None = None):
    return registration.registration_verify(
        token=token_of(invitation),
        date_of_birth=invitation.patient.date_of_birth if dob is None else dob,
        access_code=invitation.access_code if code is None else code,
    )


def wrong_code_for(invitation: Invitation) -> str:
    """A code from the right alphabet that is not this invitation's."""
    return "".join("A" if ch != "A" else "B" for ch in invitation.access_code)


def refused(call) -> registration.RegistrationError:
    with pytest.raises(registration.RegistrationError) as caught:
        call()
    return caught.value


def create_account(invitation: Invitation, email: str = "robin@example.test", password=PASSWORD):
    return registration.registration_create_account(
        invitation_id=str(invitation.public_id), email=email, password=password
    )


@pytest.fixture
def invitation(admin, patient):
    return invite(admin, patient)


# ---------------------------------------------------------------------------
# Wrong answers and the lock


def test_wrong_access_code_is_refused_and_counted(invitation):
    error = refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    assert error.code == "wrong_code"
    assert error.message == (
        "The date of birth or access code does not match. You have 4 tries left."
    )
    invitation.refresh_from_db()
    assert invitation.failed_attempts == 1
    assert invitation.status == InvitationStatus.PENDING


def test_wrong_date_of_birth_is_refused_and_counted(invitation):
    error = refused(lambda: verify(invitation, dob=WRONG_DOB))

    assert error.code == "wrong_code"
    invitation.refresh_from_db()
    assert invitation.failed_attempts == 1


def test_missing_date_of_birth_is_refused_and_counted(invitation):
    error = refused(
        lambda: registration.registration_verify(
            token=token_of(invitation), date_of_birth=None, access_code=invitation.access_code
        )
    )

    assert error.code == "wrong_code"
    invitation.refresh_from_db()
    assert invitation.failed_attempts == 1


def test_refusal_never_says_whether_the_code_or_the_date_was_wrong(admin, practice):
    from tests.factories import make_patient

    answers = []
    for wrong in ("code", "dob", "both"):
        inv = invite(admin, make_patient(practice))
        code = wrong_code_for(inv) if wrong in ("code", "both") else None
        dob = WRONG_DOB if wrong in ("dob", "both") else None
        error = refused(lambda inv=inv, code=code, dob=dob: verify(inv, code=code, dob=dob))
        answers.append((error.code, error.message))

    assert answers[0] == answers[1] == answers[2]


def test_tries_left_count_down(invitation):
    messages = [
        refused(lambda: verify(invitation, code=wrong_code_for(invitation))).message
        for _ in range(4)
    ]

    assert [m.rsplit("You have ", 1)[1] for m in messages] == [
        "4 tries left.",
        "3 tries left.",
        "2 tries left.",
        "1 try left.",
    ]


def test_five_wrong_codes_lock_the_invitation_even_for_the_right_code(invitation):
    for _ in range(4):
        assert refused(lambda: verify(invitation, code=wrong_code_for(invitation))).code == (
            "wrong_code"
        )
    fifth = refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    assert fifth.code == "locked"
    assert "locked" in fifth.message
    invitation.refresh_from_db()
    assert invitation.locked_at is not None
    assert refused(lambda: verify(invitation)).code == "locked"
    assert refused(lambda: registration.invitation_for_link(token_of(invitation))).code == "locked"
    assert refused(lambda: create_account(invitation)).code == "locked"
    assert not User.objects.filter(email="robin@example.test").exists()


def test_lock_threshold_comes_from_setting(invitation, settings):
    settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS = 2

    refused(lambda: verify(invitation, code=wrong_code_for(invitation)))
    error = refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    assert error.code == "locked"


def test_staff_resend_after_a_lock_issues_a_new_working_invitation(admin, patient, invitation):
    for _ in range(5):
        refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    new = portal.invitation_resend(admin, patient=patient)

    assert new.failed_attempts == 0
    assert new.locked_at is None
    assert verify(new) == new
    assert refused(lambda: verify(invitation)).code == "expired_link"
    create_account(new)
    assert PortalAccess.objects.get(patient=patient).state == AccessState.ACTIVE


def test_right_answer_after_wrong_ones_still_works_before_the_lock(invitation):
    for _ in range(4):
        refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    assert verify(invitation) == invitation


# ---------------------------------------------------------------------------
# Links that no longer work


def test_unknown_link_is_answered_as_expired(invitation):
    error = refused(lambda: registration.invitation_for_link("not-a-token"))

    assert error.code == "expired_link"
    assert error.message.startswith(EXPIRED)
    assert refused(lambda: registration.invitation_for_link("")).code == "expired_link"


def test_expired_link_is_refused(invitation, time_machine):
    time_machine.move_to(invitation.expires_at + dt.timedelta(seconds=1))

    assert refused(lambda: verify(invitation)).code == "expired_link"
    assert refused(lambda: create_account(invitation)).code == "expired_link"
    assert not User.objects.filter(email="robin@example.test").exists()


def test_link_expiring_between_verify_and_account_creation_is_refused(invitation, time_machine):
    verify(invitation)
    time_machine.move_to(invitation.expires_at + dt.timedelta(minutes=1))

    assert refused(lambda: create_account(invitation)).code == "expired_link"
    assert PortalAccess.objects.get(patient=invitation.patient).state == AccessState.INVITED


def test_used_link_is_single_use(invitation):
    verify(invitation)
    create_account(invitation)

    assert refused(lambda: verify(invitation)).code == "expired_link"
    error = refused(lambda: create_account(invitation, email="second@example.test"))
    assert error.code == "expired_link"
    assert not User.objects.filter(email="second@example.test").exists()
    other = make_user()
    error = refused(
        lambda: registration.registration_link_account(
            other, invitation_id=str(invitation.public_id)
        )
    )
    assert error.code == "expired_link"
    assert PortalAccess.objects.get(patient=invitation.patient).account.email == (
        "robin@example.test"
    )


def test_superseded_link_is_answered_as_expired(admin, patient, invitation):
    portal.invitation_resend(admin, patient=patient)

    error = refused(lambda: verify(invitation))

    assert error.code == "expired_link"
    assert error.message.startswith(EXPIRED)
    assert refused(lambda: create_account(invitation)).code == "expired_link"


def test_cancelled_link_is_answered_as_expired(admin, patient, invitation):
    portal.invitation_cancel(admin, patient=patient)

    assert refused(lambda: verify(invitation)).code == "expired_link"
    assert refused(lambda: create_account(invitation)).code == "expired_link"
    assert PortalAccess.objects.get(patient=patient).state == AccessState.CANCELLED


def test_link_of_revoked_registration_stays_dead(admin, patient):
    account = enroll(admin, patient)
    used = Invitation.objects.get(patient=patient)
    portal.access_revoke(admin, patient=patient)

    assert refused(lambda: verify(used)).code == "expired_link"
    error = refused(
        lambda: registration.registration_link_account(account, invitation_id=str(used.public_id))
    )
    assert error.code == "expired_link"
    assert PortalAccess.objects.get(patient=patient).state == AccessState.REVOKED


def test_refused_link_does_not_count_attempts(admin, patient, invitation):
    portal.invitation_cancel(admin, patient=patient)

    refused(lambda: verify(invitation, code=wrong_code_for(invitation)))

    invitation.refresh_from_db()
    assert invitation.failed_attempts == 0


# ---------------------------------------------------------------------------
# Finishing registration


@pytest.mark.parametrize(
    "typed", ["{code}", "{lower}", "{first}-{rest}", " {first} {rest} ", "{lower_first}-{rest}"]
)
def test_access_code_is_accepted_in_any_case_and_with_spaces_or_dashes(typed, invitation):
    code = invitation.access_code
    entered = typed.format(
        code=code,
        lower=code.lower(),
        first=code[:4],
        rest=code[4:],
        lower_first=code[:4].lower(),
    )

    assert verify(invitation, code=entered) == invitation


def test_create_account_enrolls_with_email_as_username(invitation):
    verify(invitation)

    account = create_account(invitation, email="  Robin@Example.TEST ")

    assert account.email == "robin@example.test"
    assert account.check_password(PASSWORD)
    [access] = portal_selectors.patient_access_list(account)
    assert access.patient == invitation.patient
    assert access.effective_state == AccessState.ACTIVE


def test_link_existing_account_enrolls_it(invitation):
    existing = make_user(email="robin@example.test")
    verify(invitation)

    access = registration.registration_link_account(
        existing, invitation_id=str(invitation.public_id)
    )

    assert access.account == existing
    assert access.effective_state == AccessState.ACTIVE
    assert User.objects.filter(email="robin@example.test").count() == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.USED
    assert invitation.used_at is not None


@pytest.mark.parametrize(
    ("password", "message_part"),
    [
        ("short", "too short"),
        ("password", "too common"),
        ("", "too short"),
    ],
)
def test_weak_or_common_password_is_refused_and_nothing_changes(password, message_part, invitation):
    with pytest.raises(ValidationError) as caught:
        create_account(invitation, password=password)

    assert any(message_part in m for m in caught.value.message_dict["password"])
    assert not User.objects.filter(email="robin@example.test").exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert PortalAccess.objects.get(patient=invitation.patient).state == AccessState.INVITED


def test_password_like_the_email_is_refused(invitation):
    with pytest.raises(ValidationError) as caught:
        create_account(invitation, email="robinsparrow@example.test", password="robinsparrow")

    assert "password" in caught.value.message_dict


@pytest.mark.parametrize("email", ["", "robin", "robin@", "@example.test"])
def test_invalid_account_email_is_refused(email, invitation):
    users_before = User.objects.count()

    with pytest.raises(ValidationError) as caught:
        create_account(invitation, email=email)

    assert caught.value.message_dict["email"] == ["Enter a valid email address."]
    assert User.objects.count() == users_before
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


@pytest.mark.parametrize("typed", ["robin@example.test", "ROBIN@example.test"])
def test_duplicate_email_is_refused_and_points_to_signing_in(typed, invitation):
    make_user(email="robin@example.test")

    with pytest.raises(ValidationError) as caught:
        create_account(invitation, email=typed)

    [message] = caught.value.message_dict["email"]
    assert "already a Portico account" in message
    assert User.objects.filter(email__iexact="robin@example.test").count() == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_refused_registration_writes_no_register_event(invitation):
    with pytest.raises(ValidationError):
        create_account(invitation, password="short")

    assert not AuditEvent.objects.filter(action="portal.register").exists()


def test_verify_does_not_use_up_the_link(invitation):
    verify(invitation)
    verify(invitation)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.failed_attempts == 0
    assert invitation.expires_at > timezone.now()
