"""The appointment book's pieces of other apps' pages (charts' profile page loads this library,
so charts never imports scheduling)."""

from django import template

from portico.scheduling.models import ReminderOptOut

register = template.Library()


@register.inclusion_tag("scheduling/_reminders_switch.html", takes_context=True)
def appointment_reminders_switch(context, patient):
    """The chart's "Appointment reminders: On/Off" switch, with who turned them off and when,
    and a note when the practice sends no reminders at all (one query)."""
    opt_out = ReminderOptOut.objects.filter(patient=patient).first()
    return {
        "patient": patient,
        "opt_out": opt_out,
        "practice_sends": patient.practice.reminders_enabled,
        # The form's {% csrf_token %} reads the page's token from here.
        "csrf_token": context.get("csrf_token"),
        "is_administrator": getattr(context.get("current_membership"), "is_administrator", False),
    }
