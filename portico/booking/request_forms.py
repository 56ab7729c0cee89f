"""Forms of Schedule > Appointment Requests (SPEC §8.5).

They only parse what was typed; the rules (a reason is required, the time must be free, a new
chart needs names and a date of birth) are the services' (booking.services, charts.services,
scheduling.services), whose errors are shown next to these fields, so the pages and the API
give the same messages.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portico.booking.models import RequestKind
from portico.booking.request_selectors import ANSWERED, PENDING
from portico.core.forms import DateInput, TelInput
from portico.scheduling.forms import TimeInput, member_choices

# The value of the patient choice that adds a new chart.
NEW_PATIENT = "new"
ALL = ""


class _PageForm(forms.Form):
    """A form of a page that shows several: each has ids of its own."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class RequestFilterForm(_PageForm):
    """The list's filters: waiting or answered, the provider, the kind of request."""

    id_prefix = "filter"
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            (PENDING, _("Waiting for the practice")),
            (ANSWERED, _("Answered in the last 30 days")),
        ],
    )
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    kind = forms.ChoiceField(
        label=_("Request type"),
        required=False,
        choices=[(ALL, _("All request types")), *RequestKind.choices],
    )

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(ALL, _("All providers")), *member_choices(providers)]


class _ChartChoice(_PageForm):
    """The chart a new-appointment request is booked on ("Change patient"): a matching chart
    (its public id), or a new chart ("new") with the details the requester typed, as
    corrected here."""

    patient = forms.CharField(label=_("Patient"), required=False, max_length=64)
    legal_first_name = forms.CharField(label=_("First name"), required=False, max_length=200)
    legal_last_name = forms.CharField(label=_("Last name"), required=False, max_length=200)
    # Read only when a new chart is chosen (new_patient()): a date typed wrong does not stand
    # in the way of booking on an existing chart.
    date_of_birth = forms.CharField(label=_("Date of birth"), required=False, widget=DateInput)
    email = forms.CharField(
        label=_("Email"),
        required=False,
        max_length=400,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    mobile_phone = forms.CharField(
        label=_("Mobile phone"), required=False, max_length=40, widget=TelInput
    )

    def new_patient(self) -> dict | None:
        """The new chart's details as corrected here (each as the service expects it); None,
        with the message next to the field, when the date of birth is not a date."""
        data = self.cleaned_data
        try:
            born = forms.DateField(required=False).clean(data.get("date_of_birth") or "")
        except ValidationError as exc:
            self.add_error("date_of_birth", exc)
            return None
        return {
            "legal_first_name": data.get("legal_first_name") or "",
            "legal_last_name": data.get("legal_last_name") or "",
            "date_of_birth": born,
            "email": data.get("email") or "",
            "mobile_phone": data.get("mobile_phone") or "",
        }


class ApproveForm(_ChartChoice):
    """Approve: the time asked is booked (a new appointment, on the chart chosen), the
    appointment moved (a reschedule) or cancelled (a cancellation)."""

    id_prefix = "approve"


class DenyForm(_PageForm):
    id_prefix = "deny"
    # Required by the service, which gives the message.
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        help_text=_("Kept for the practice; the email to the patient does not say it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    message = forms.CharField(
        label=_("Message to the patient (optional)"),
        required=False,
        help_text=_("Sent in the email. Do not write health information in it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProposeForm(_ChartChoice):
    """Propose another time ("Reschedule"): one of the provider's open times, or a date and a
    time typed; a reason (required) and an optional message to the patient."""

    id_prefix = "propose"
    start_at = forms.CharField(label=_("When"), required=False, max_length=64)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    time = forms.TimeField(label=_("Time"), required=False, widget=TimeInput)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        help_text=_("Kept for the practice; the email to the patient does not say it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    message = forms.CharField(
        label=_("Message to the patient (optional)"),
        required=False,
        help_text=_("Sent in the email. Do not write health information in it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
