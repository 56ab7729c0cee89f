"""Sending intake forms by hand (SPEC §10.2): from the Intake list, the appointment page and the
chart's Intake tab; resending and withdrawing. The patient is emailed; a past or cancelled
appointment is refused with a clear message; sending again is a resend; staff of another
practice get a 404, someone who is not staff a 403."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.intake.models import FormStatus, IntakeForm
from portico.notifications.models import OutboundEmail
from portico.scheduling.services import appointment_cancel
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

LIST = "/ehr/intake/?date=2026-12-09"


def emails_of(patient):
    return OutboundEmail.objects.filter(kind="intake.form", patient=patient)


def send(client, appointment, template, next_url=LIST):
    return client.post(
        reverse("intake:send", args=[appointment.public_id]),
        {"template": str(template.public_id), "next": next_url},
        follow=True,
    )


def test_staff_send_a_form_from_the_list_and_the_patient_is_emailed(
    client, staff, patient, appointment, new_patient_template
):
    sign_in(client, staff)
    response = send(client, appointment, new_patient_template)
    assert response.redirect_chain[-1][0] == LIST
    assert "New patient was sent." in response.content.decode()
    form = IntakeForm.objects.get(appointment=appointment)
    assert form.status == FormStatus.SENT and form.sent_by == staff and form.sent_how == "staff"
    assert emails_of(patient).count() == 1
    assert AuditEvent.objects.filter(action="intake.form_send", patient=patient).exists()
    # The list now shows it waiting, with Resend and Withdraw.
    page = response.content.decode()
    assert 'data-bucket="waiting"' in page and "Withdraw" in page


def test_sending_the_same_form_again_is_a_resend(
    client, staff, patient, appointment, new_patient_template
):
    sign_in(client, staff)
    send(client, appointment, new_patient_template)
    response = send(client, appointment, new_patient_template)
    assert "New patient was sent again." in response.content.decode()
    assert IntakeForm.objects.filter(appointment=appointment).count() == 1
    assert emails_of(patient).count() == 2
    assert AuditEvent.objects.filter(action="intake.form_resend", patient=patient).count() == 1


def test_a_form_is_not_sent_for_a_past_appointment(
    client, staff, patient, appointment, new_patient_template
):
    with time_machine.travel(dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), tick=False):
        sign_in(client, staff)
        response = send(client, appointment, new_patient_template)
    assert "Forms can be sent only for appointments still to come." in response.content.decode()
    assert not IntakeForm.objects.exists() and not emails_of(patient).exists()


def test_a_form_is_not_sent_for_a_cancelled_appointment(
    client, staff, patient, appointment, new_patient_template
):
    appointment_cancel(staff, appointment=appointment, reason="Patient called")
    sign_in(client, staff)
    response = send(client, appointment, new_patient_template)
    assert "Forms can be sent only for appointments still to come." in response.content.decode()
    assert not IntakeForm.objects.exists()


def test_an_unknown_template_is_refused_with_a_message(client, staff, appointment, now):
    sign_in(client, staff)
    response = client.post(
        reverse("intake:send", args=[appointment.public_id]),
        {"template": "not-a-uuid", "next": LIST},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose one of the practice&#x27;s forms to send." in response.content.decode()
    assert not IntakeForm.objects.exists()


def test_next_must_be_a_page_of_this_site(client, staff, appointment, new_patient_template):
    sign_in(client, staff)
    response = client.post(
        reverse("intake:send", args=[appointment.public_id]),
        {"template": str(new_patient_template.public_id), "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("scheduling:appointment", args=[appointment.public_id])


def test_staff_withdraw_a_waiting_form(client, staff, patient, form):
    sign_in(client, staff)
    response = client.post(
        reverse("intake:withdraw", args=[form.public_id]), {"next": LIST}, follow=True
    )
    assert "New patient was withdrawn" in response.content.decode()
    form.refresh_from_db()
    assert form.status == FormStatus.CANCELLED and not form.link_token_hash
    assert AuditEvent.objects.filter(action="intake.form_cancel", patient=patient).exists()
    # The appointment is back in "To send".
    assert 'data-bucket="to_send"' in response.content.decode()


def test_staff_resend_a_waiting_form(client, staff, patient, form):
    old_link = form.link_token_hash
    sign_in(client, staff)
    response = client.post(reverse("intake:resend", args=[form.public_id]), follow=True)
    assert "New patient was sent again." in response.content.decode()
    form.refresh_from_db()
    assert form.link_token_hash != old_link  # the old link no longer works
    assert emails_of(patient).count() == 2


def test_a_submitted_form_cannot_be_withdrawn(client, staff, form):
    IntakeForm.objects.filter(pk=form.pk).update(status=FormStatus.SUBMITTED)
    sign_in(client, staff)
    response = client.post(reverse("intake:withdraw", args=[form.public_id]), follow=True)
    assert "A submitted form cannot be withdrawn." in response.content.decode()
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED


def test_the_appointment_page_shows_its_forms_and_sends_one(
    client, staff, patient, appointment, new_patient_template, follow_up_template
):
    sign_in(client, staff)
    url = reverse("scheduling:appointment", args=[appointment.public_id])
    page = client.get(url).content.decode()
    assert "No intake form was sent for this appointment." in page
    assert "Send intake form" in page
    response = send(client, appointment, follow_up_template, next_url=url)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == url
    assert "Follow-up visit was sent." in page
    assert "Follow-up visit</span>" in page and "Waiting for the patient" in page


def test_the_charts_intake_tab_lists_its_forms_and_sends_one(
    client, staff, patient, appointment, form, follow_up_template
):
    sign_in(client, staff)
    url = reverse("intake:chart_forms", args=[patient.public_id])
    page = client.get(url).content.decode()
    assert 'aria-current="page">Intake</a>' in page
    assert "New patient" in page and "Waiting for the patient" in page
    event = AuditEvent.objects.filter(action="chart.view", patient=patient).latest("id")
    assert event.details == {"page": "intake forms"}
    response = client.post(
        url,
        {"appointment": str(appointment.public_id), "template": str(follow_up_template.public_id)},
        follow=True,
    )
    assert "Follow-up visit was sent." in response.content.decode()
    assert IntakeForm.objects.filter(appointment=appointment).count() == 2


def test_the_chart_lists_withdrawn_forms_too(client, staff, patient, form):
    from portico.intake import services

    services.form_cancel(staff, form=form)
    sign_in(client, staff)
    page = client.get(reverse("intake:chart_forms", args=[patient.public_id])).content.decode()
    assert "Withdrawn" in page


def test_the_chart_refuses_an_appointment_or_template_not_offered(
    client, staff, patient, appointment, other_practice, new_patient_template
):
    other = factories.make_patient(other_practice)
    sign_in(client, staff)
    response = client.post(
        reverse("intake:chart_forms", args=[patient.public_id]),
        {"appointment": str(other.public_id), "template": ""},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose one of the chart&#x27;s upcoming appointments." in page
    assert "Choose a form to send." in page
    assert not IntakeForm.objects.exists()


def test_the_chart_tab_links_to_intake(client, staff, patient, now):
    sign_in(client, staff)
    page = client.get(reverse("charts:chart", args=[patient.public_id])).content.decode()
    assert reverse("intake:chart_forms", args=[patient.public_id]) in page


@pytest.mark.parametrize("name", ["send"])
def test_sending_for_another_practices_appointment_is_not_found(
    client, outsider, appointment, new_patient_template, name
):
    sign_in(client, outsider)
    response = send(client, appointment, new_patient_template)
    assert response.status_code == 404
    assert not IntakeForm.objects.exists()


@pytest.mark.parametrize("name", ["intake:resend", "intake:withdraw"])
def test_another_practices_form_is_not_found(client, outsider, form, name):
    sign_in(client, outsider)
    assert client.post(reverse(name, args=[form.public_id])).status_code == 404
    form.refresh_from_db()
    assert form.status == FormStatus.SENT


def test_another_practices_chart_is_not_found(client, outsider, patient, now):
    sign_in(client, outsider)
    url = reverse("intake:chart_forms", args=[patient.public_id])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", ["intake:resend", "intake:withdraw", "intake:send"])
def test_actions_are_for_members_only(client, form, appointment, name):
    sign_in(client, factories.make_user())
    target = appointment.public_id if name == "intake:send" else form.public_id
    assert client.post(reverse(name, args=[target])).status_code == 403
    assert (
        client.get(reverse("intake:chart_forms", args=[form.patient.public_id])).status_code == 403
    )


@pytest.mark.parametrize("name", ["intake:resend", "intake:withdraw", "intake:send"])
def test_actions_refuse_a_get(client, staff, form, appointment, name):
    sign_in(client, staff)
    target = appointment.public_id if name == "intake:send" else form.public_id
    assert client.get(reverse(name, args=[target])).status_code == 405
