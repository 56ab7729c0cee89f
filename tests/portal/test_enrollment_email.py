"""SPEC §3.3–3.4: the enrollment email."""

from django.core import mail

from portico.portal.emails import registration_url
from tests.factories import invite


def test_invite_sends_enrollment_email_without_access_code(admin, patient, send_email):
    with send_email:
        invitation = invite(admin, patient)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert "Riverside Clinic" in message.subject
    assert message.from_email == "Riverside Clinic <healthrecords@testserver>"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Access your records" in body
        assert registration_url(invitation) in body
        assert invitation.access_code not in body
        assert invitation.access_code_display not in body
        # No names or health data: the patient's name stays out of the email.
        assert patient.legal_last_name not in body


def test_enrollment_sender_comes_from_setting(admin, patient, send_email, settings):
    settings.PORTICO_ENROLLMENT_FROM = "records@riverside.example"
    with send_email:
        invite(admin, patient)
    assert mail.outbox[0].from_email == "Riverside Clinic <records@riverside.example>"
