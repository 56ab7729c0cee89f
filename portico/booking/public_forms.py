"""The forms of the public pages: the provider search and the appointment request. They check
the shape of what was typed; the rules (an open time, a provider taking new patients, a real
date of birth) are the service's, whose messages the views put next to the same fields."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.booking.models import AppointmentRequest, PatientKind
from portico.booking.public import SearchCriteria
from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.core.forms import DateInput, TelInput
from portico.core.validation import max_length_of

# The field people never see (and assistive technology never announces): a program that fills
# in every field it finds fills this one too. See templates/booking/public/_honeypot.html.
HONEYPOT = "website"


class Radios(forms.RadioSelect):
    """Radio buttons whose field, as a whole, is pointed at through its first button (the
    error summary's link goes there)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class SearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    specialty = forms.ChoiceField(
        label=_("Specialty"),
        required=False,
        choices=[("", _("Any specialty")), *Specialty.choices],
    )
    place = forms.CharField(
        label=_("City or ZIP code"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Any language")), *SpokenLanguage.choices],
    )
    new_patients = forms.BooleanField(label=_("Accepts new patients"), required=False)

    def criteria(self) -> SearchCriteria:
        data = self.cleaned_data
        return SearchCriteria(
            name=data["name"],
            specialty=data["specialty"],
            place=data["place"],
            language=data["language"],
            new_patients=data["new_patients"],
        )


def _max(field: str) -> int:
    return max_length_of(AppointmentRequest, field) or 0


class RequestForm(forms.Form):
    """The requester's details. The visit type and the time travel beside it (hidden inputs,
    or radio buttons when the time chosen was taken meanwhile)."""

    patient_kind = forms.ChoiceField(
        label=_("Have you been seen at this practice before?"),
        choices=PatientKind.choices,
        widget=Radios,
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=_max("first_name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=_max("last_name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=_max("email"),
        help_text=_("The practice confirms your appointment at this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=_max("phone"),
        required=False,
        widget=TelInput(attrs={"autocomplete": "tel"}),
    )
    reason = forms.CharField(
        label=_("Reason for visit"),
        max_length=_max("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, accepts_new_patients: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not accepts_new_patients:
            # Only patients the practice already knows can ask for a time.
            kind = cast(forms.ChoiceField, self.fields["patient_kind"])
            kind.choices = [(PatientKind.EXISTING, PatientKind.EXISTING.label)]
