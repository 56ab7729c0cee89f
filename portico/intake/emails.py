"""The email telling a patient that a check-in form waits for them (SPEC §10.2).

It says only that the practice asks them to fill in a form before their appointment on a given
day, that they can save and come back, and where: the form's own link for a patient without
portal access (the date of birth opens it), or the chart's check-in page in the portal. Never
the patient's name, the visit type, the reason for visit or anything clinical: an email is read
on shared screens and kept by mail providers.

Written in the language chosen when it was queued (the patient's), and rendered at send time:
skipped (None) once the form is no longer open (submitted or withdrawn), and always with the
form's newest link.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from portico.intake import services
from portico.intake.models import IntakeForm
from portico.notifications.rendering import RenderedEmail, from_templates
from portico.portal.selectors import enrolled_access
from portico.scheduling.emails import when_text

TEMPLATE = "intake/email/form"


def _url(name: str, **kwargs) -> str:
    return settings.PORTICO_BASE_URL + reverse(name, kwargs=kwargs)


def form_url(form: IntakeForm) -> str | None:
    """Where the email sends the patient: the form's check-in link, or the chart's check-in
    page in the portal; None when neither works (the email then says to call)."""
    if form.link_token_hash:
        return _url("intake:link", token=services.link_of(form))
    access = enrolled_access(form.patient)
    if access is not None:
        return _url("intake:patient_forms", access_id=access.public_id)
    return None


def render_form(email) -> RenderedEmail | None:
    form = (
        IntakeForm.objects.select_related(
            "practice", "patient", "appointment", "appointment__practice"
        )
        .filter(public_id=email.subject_id)
        .first()
    )
    if form is None or not form.is_open:
        return None
    practice = form.practice
    url = form_url(form)
    subject = gettext("Check in for your appointment")
    values = {"practice": practice.name, "when": when_text(form.appointment)}
    if practice.phone:
        call = gettext("Questions? Please call %(practice)s at %(phone)s.") % {
            "practice": practice.name,
            "phone": practice.phone,
        }
    else:
        call = gettext("Questions? Please contact %(practice)s.") % {"practice": practice.name}
    return from_templates(
        subject,
        TEMPLATE,
        {
            "subject": subject,
            "practice": practice,
            "url": url,
            "by_link": bool(form.link_token_hash),
            "intro": gettext(
                "%(practice)s asks you to fill in a form before your appointment on %(when)s."
            )
            % values,
            "call": call,
        },
        sender=practice.name,
    )
