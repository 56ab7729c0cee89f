"""The staff's intake forms: shape only; the rules live in intake.services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def appointment_label(appointment, zone) -> str:
    local = timezone.localtime(appointment.start_at, zone)
    parts = [local.strftime("%a %m/%d/%Y %I:%M %p").replace(" 0", " ")]
    if appointment.visit_type:
        parts.append(appointment.visit_type)
    if appointment.provider_id and appointment.provider is not None:
        parts.append(appointment.provider.display_name)
    return " · ".join(parts)


class ChartSendForm(forms.Form):
    """Send a form from the chart: one of the chart's upcoming appointments and a template."""

    appointment = forms.ChoiceField(label=_("Appointment"))
    template = forms.ChoiceField(label=_("Form"))

    def __init__(self, *args, appointments=(), templates=(), zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointments = {str(a.public_id): a for a in appointments}
        self.templates = {str(t.public_id): t for t in templates}
        self.fields["appointment"].choices = [
            (key, appointment_label(a, zone)) for key, a in self.appointments.items()
        ]
        self.fields["template"].choices = [("", _("Choose a form"))] + [
            (key, t.name) for key, t in self.templates.items()
        ]
        self.fields["appointment"].error_messages["invalid_choice"] = _(
            "Choose one of the chart's upcoming appointments."
        )
        self.fields["template"].error_messages["invalid_choice"] = _(
            "Choose one of the practice's forms."
        )
        self.fields["template"].error_messages["required"] = _("Choose a form to send.")

    def chosen(self):
        """(appointment, template) of a valid form."""
        data = self.cleaned_data
        return self.appointments[data["appointment"]], self.templates[data["template"]]
