from django import forms
from django.utils.translation import gettext_lazy as _

from portico.practices.models import CancellationApproval, ProviderCredential, Role


class StaffAddForm(forms.Form):
    email = forms.EmailField(label=_("Email (their username)"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)
    credential = forms.ChoiceField(
        label=_("Provider credential"),
        choices=ProviderCredential.choices,
        required=False,
        help_text=_("For providers: MD, DO, NP or PA."),
    )


# The two answers of the patient-notice part of the cancellation policy.
NOTICE_NONE = "none"
NOTICE_WITHIN = "within"
NOTICE_CHOICES = (
    (NOTICE_NONE, _("Practice doesn't have policy")),
    (
        NOTICE_WITHIN,
        _(
            "Alert patients about possible charges for appointments cancelled within N "
            "calendar days"
        ),
    ),
)


class FirstChoiceRadios(forms.RadioSelect):
    """Radios whose field points at the first radio (the error summary links to it)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class DaysField(forms.CharField):
    """A number of calendar days typed in the box after a choice (N), passed on as typed: the
    service reads and checks it, so every box's problem shows at once, with the same message
    from the page and the API."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            widget=forms.NumberInput(attrs={"min": 1, "max": 90, "inputmode": "numeric"}),
            **kwargs,
        )


class CancellationPolicyForm(forms.Form):
    """EHR Settings > Appointment reminders: the cancellation policy (SPEC §8.6)."""

    approval = forms.ChoiceField(
        label=_("Cancellation requests from patients"),
        choices=CancellationApproval.choices,
        widget=FirstChoiceRadios,
        error_messages={
            "required": _("Choose one of the approval policies."),
            "invalid_choice": _("Choose one of the approval policies."),
        },
    )
    approval_days = DaysField(label=_("Number of calendar days (N) that need approval"))
    notice = forms.ChoiceField(
        label=_("Cancellation charges"),
        choices=NOTICE_CHOICES,
        widget=FirstChoiceRadios,
        error_messages={
            "required": _("Choose whether patients are alerted about charges."),
            "invalid_choice": _("Choose whether patients are alerted about charges."),
        },
    )
    notice_days = DaysField(label=_("Number of calendar days (N) with the charges alert"))


class AgeField(forms.CharField):
    """A patient's age in years, passed on as typed: the service reads and checks it, so both
    boxes' problems show at once, with the same messages from the page and the API."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            widget=forms.NumberInput(attrs={"min": 10, "max": 21, "inputmode": "numeric"}),
            **kwargs,
        )


class RepresentativeAgesForm(forms.Form):
    """EHR Settings > PHR invite: the ages of a parent's or guardian's access (SPEC §9.3)."""

    narrow_age = AgeField(
        label=_("Age from which a parent's access narrows"),
        help_text=_(
            "From this birthday a parent or legal guardian no longer sees the patient's "
            "messages or the patient's own reads in the access log."
        ),
    )
    end_age = AgeField(
        label=_("Age at which a parent's access ends"),
        help_text=_(
            "On this birthday a parent's or legal guardian's access ends, unless the now adult "
            "patient renews it."
        ),
    )
