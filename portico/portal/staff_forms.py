"""Staff forms of the chart's "Patient portal access" window for representatives (SPEC §9.1).

Kept apart from portal.forms, whose words patients read (and which are translated): staff
pages stay English. The forms check what they can next to the field; the services check every
rule again (an end date in the past, a relationship that is not one of the choices) with the
same messages.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.charts.validation import normalize_phone
from portico.core.forms import DateInput, TelInput
from portico.portal.forms import PortalContactForm
from portico.portal.models import Relationship
from portico.portal.services import NAME_MAX_LENGTH

NAME_REQUIRED = _("Enter the representative's name.")
RELATIONSHIP_REQUIRED = _("Choose the representative's relationship.")


class RepresentativeDetailsForm(forms.Form):
    """Who the representative is: name, relationship and an optional last day."""

    name = forms.CharField(
        label=_("Representative's name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": NAME_REQUIRED},
    )
    relationship = forms.ChoiceField(
        label=_("Relationship to the patient"),
        choices=[("", _("Choose…")), *Relationship.choices],
        error_messages={"required": RELATIONSHIP_REQUIRED, "invalid_choice": RELATIONSHIP_REQUIRED},
    )
    ends_on = forms.DateField(
        label=_("End date (optional)"),
        required=False,
        widget=DateInput(),
        help_text=_("Their access ends after this day. Leave it empty for no end date."),
        error_messages={"invalid": _("Enter a real date.")},
    )


class RepresentativeContactForm(PortalContactForm):
    """A representative's enrollment email and phone (resend, invite again): labelled apart
    from the patient's own fields, which share the same window."""

    email = forms.EmailField(
        label=_("Representative's email"),
        max_length=254,
        error_messages={"required": _("An email address is needed to send the enrollment email.")},
    )
    phone = forms.CharField(
        label=_("Representative's mobile phone"), required=False, max_length=40, widget=TelInput()
    )


class RepresentativeInviteForm(RepresentativeDetailsForm):
    """ "Invite a representative": who they are and where their enrollment email goes."""

    email = forms.EmailField(
        label=_("Representative's email"),
        max_length=254,
        error_messages={"required": _("An email address is needed to send the enrollment email.")},
    )
    phone = forms.CharField(
        label=_("Representative's mobile phone"),
        required=False,
        max_length=40,
        widget=TelInput(),
        help_text=_("Optional: the representative's own, for a security code by text message."),
    )

    field_order = ["name", "relationship", "email", "phone", "ends_on"]

    def clean_email(self) -> str:
        # As the service stores it, so the confirmation shows what will be used.
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])
