"""A message a representative writes says who wrote it and for whom (SPEC §9: every action
says who acted for whom), to the practice and on the patient's side; the patient's own
messages are signed with the patient's name as before."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portico.messaging import services
from portico.messaging.models import Message
from portico.portal.models import PortalAccess
from tests.factories import enroll, enroll_representative, sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def _start(account, access, provider, body):
    return services.thread_start(
        account,
        access=access,
        provider=provider.public_id,
        kind="general",
        subject="Question",
        body=body,
    )


def test_a_caregivers_message_is_signed_with_their_name_and_for_whom(
    client, admin, patient, provider, messaging_on
):
    account, caregiver = enroll_representative(
        admin, patient, relationship="caregiver", name="Casey Carer"
    )
    thread = _start(account, caregiver, provider, "Is the appointment still on?")
    message = Message.objects.get(thread=thread)
    assert (message.sender_label, message.sent_as) == ("Casey Carer", "caregiver")

    sign_in(client, provider)
    staff_page = client.get(reverse("messaging:staff_thread", args=[thread.public_id]))
    assert f"Casey Carer (caregiver, for {patient.full_name})" in " ".join(
        parse(staff_page).one("ol", class_="msg-list").text.split()
    )
    sign_in(client, account)
    url = reverse("messaging:patient_thread", args=[caregiver.public_id, thread.public_id])
    assert "(caregiver, for" in client.get(url).content.decode()


def test_the_patients_own_message_is_signed_with_the_patients_name(
    admin, patient, provider, messaging_on
):
    account = enroll(admin, patient)
    thread = _start(account, PortalAccess.objects.get(patient=patient), provider, "Hello")
    message = Message.objects.get(thread=thread)
    assert (message.sender_label, message.sent_as) == (patient.full_name, "")
