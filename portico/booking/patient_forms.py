"""Forms of the portal's Appointments tab (SPEC §8.6). They read what the page sends; the rules
(an open time, a reason, the practice's policy) are the services' (booking.services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from portico.scheduling.page_input import parse_instant

OTHER = "other"
# The reasons a patient picks from, stored in English for the practice (the patient reads them
# in their own language); "Other" takes the patient's own words.
CANCEL_REASONS = {
    "better": gettext_noop("I feel better"),
    "time": gettext_noop("I cannot come at this time"),
    "elsewhere": gettext_noop("I will see another provider"),
}


class FirstChoiceRadios(forms.RadioSelect):
    """Radio buttons whose field "label" is the first button: the error summary's link to the
    field then lands on it (Django points it nowhere, the group having no single input)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you cancel?"),
        choices=[(code, _(text)) for code, text in CANCEL_REASONS.items()] + [(OTHER, _("Other"))],
        widget=FirstChoiceRadios,
        error_messages={"required": _("Choose why you cancel.")},
    )
    other_reason = forms.CharField(
        label=_("Other reason"),
        required=False,
        max_length=300,
        help_text=_("If you chose Other: tell the practice why."),
        error_messages={"max_length": _("This is too long.")},
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("reason") == OTHER and not data.get("other_reason", "").strip():
            self.add_error("other_reason", _("Say why you cancel."))
        return data

    def reason_text(self) -> str:
        """The reason as the practice reads it."""
        code = self.cleaned_data["reason"]
        if code == OTHER:
            return self.cleaned_data["other_reason"].strip()
        return CANCEL_REASONS[code]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Anything the practice should know (optional)"),
        required=False,
        max_length=300,
        error_messages={"max_length": _("This is too long.")},
    )


class RescheduleForm(forms.Form):
    # One of the open times, as the value of its radio button (the page draws them by day).
    start_at = forms.CharField(
        label=_("New time"),
        error_messages={"required": _("Choose one of the open times.")},
    )
    note = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Anything the practice should know about this change (optional)."),
        error_messages={"max_length": _("This is too long.")},
    )

    def clean_start_at(self):
        moment = parse_instant(self.cleaned_data["start_at"])
        if moment is None:
            raise forms.ValidationError(_("Choose one of the open times."))
        return moment
