"""Intake's pieces of the staff's pages of lower apps: the appointment page of the appointment
book shows the appointment's forms and "Send intake form" (scheduling loads this library, so
scheduling never imports intake)."""

from django import template

from portico.intake import selectors
from portico.scheduling.models import UPCOMING_STATUSES

register = template.Library()


@register.inclusion_tag("intake/staff/_appointment_forms.html", takes_context=True)
def appointment_intake(context, appointment):
    """The appointment's forms (withdrawn ones too) with their actions, and a form to send one
    (the visit type's automatic form chosen first) while the appointment is still to come.
    Three queries."""
    from django.utils import timezone

    request = context["request"]
    forms = list(selectors.forms_of_appointment(appointment))
    can_send = appointment.status in UPCOMING_STATUSES and appointment.end_at > timezone.now()
    templates = []
    default_template = None
    if can_send:
        templates = list(selectors.templates_of(appointment.practice, active_only=True))
        rule = selectors.visit_type_rules(appointment.practice).get(appointment.appointment_type_id)
        if rule is not None and rule.template.is_active:
            default_template = rule.template.public_id
    return {
        "appointment": appointment,
        "forms": forms,
        "can_send": can_send,
        "templates": templates,
        "default_template": default_template,
        "next": request.get_full_path(),
        "request": request,
        # The forms' {% csrf_token %} read the page's token from here.
        "csrf_token": context.get("csrf_token"),
    }
