"""A representative's prescription renewal form never offers a medication marked confidential
from representatives, and a renewal naming one is refused (SPEC §9.3); the patient still
renews it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portico.messaging import services
from portico.messaging.models import Thread
from portico.portal.models import PortalAccess
from tests.factories import enroll, enroll_representative, sign_in
from tests.records import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def medications(patient):
    open_one = builders.medication(patient, display="Lisinopril 10 mg tablet")
    private = builders.medication(patient, display="Sertraline 50 mg tablet")
    private.confidential_from_representatives = True
    private.save()
    return open_one, private


def renewal_page(client, access) -> str:
    url = reverse("messaging:patient_renewal", kwargs={"access_id": access.public_id})
    return client.get(url).content.decode()


def test_a_caregivers_renewal_form_leaves_out_a_confidential_medication(
    client, admin, patient, provider, messaging_on, medications
):
    account, caregiver = enroll_representative(admin, patient, relationship="caregiver")
    sign_in(client, account)
    page = renewal_page(client, caregiver)
    assert "Lisinopril 10 mg tablet" in page
    assert "Sertraline" not in page


def test_a_renewal_a_representative_sends_naming_a_confidential_medication_is_refused(
    admin, patient, provider, messaging_on, medications
):
    account, caregiver = enroll_representative(admin, patient, relationship="caregiver")
    _open_one, private = medications
    with pytest.raises(ValidationError) as refused:
        services.thread_start(
            account,
            access=caregiver,
            provider=provider.public_id,
            kind="renewal",
            subject="Prescription renewal",
            body="",
            medications=[str(private.public_id)],
            pharmacy="Main Street Pharmacy",
        )
    assert "medications" in refused.value.message_dict
    assert not Thread.objects.exists()


def test_the_patient_still_renews_their_confidential_medication(
    client, admin, patient, provider, messaging_on, medications
):
    account = enroll(admin, patient)
    sign_in(client, account)
    assert "Sertraline 50 mg tablet" in renewal_page(
        client, PortalAccess.objects.get(patient=patient)
    )


def test_the_patients_renewal_of_a_confidential_medication_never_reaches_a_representative(
    client, admin, patient, provider, messaging_on, medications
):
    _open_one, private = medications
    patient_account = enroll(admin, patient)
    own = PortalAccess.objects.get(patient=patient)
    renewal = services.thread_start(
        patient_account,
        access=own,
        provider=provider.public_id,
        kind="renewal",
        subject="Prescription renewal",
        body="",
        medications=[str(private.public_id)],
        pharmacy="Main Street Pharmacy",
    )
    general = services.thread_start(
        patient_account,
        access=own,
        provider=provider.public_id,
        kind="general",
        subject="Parking",
        body="Where do I park?",
    )
    account, caregiver = enroll_representative(admin, patient, relationship="caregiver")
    sign_in(client, account)
    listing = client.get(
        reverse("messaging:patient_list", kwargs={"access_id": caregiver.public_id})
    ).content.decode()
    assert "Parking" in listing and "Prescription renewal" not in listing
    hidden = reverse("messaging:patient_thread", args=[caregiver.public_id, renewal.public_id])
    assert client.get(hidden).status_code == 404
    shown = reverse("messaging:patient_thread", args=[caregiver.public_id, general.public_id])
    assert client.get(shown).status_code == 200
    # The patient still sees both.
    sign_in(client, patient_account)
    own_listing = client.get(
        reverse("messaging:patient_list", kwargs={"access_id": own.public_id})
    ).content.decode()
    assert "Parking" in own_listing and "Prescription renewal" in own_listing
