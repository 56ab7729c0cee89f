from django import forms
from django.utils.translation import gettext_lazy as _

from portico.charts.validation import normalize_phone
from portico.core.forms import DateInput, TelInput, new_password_field, require_same_passwords
from portico.portal import tokens


class PortalContactForm(forms.Form):
    """Enrollment email and phone in the "Patient portal access" window.

    The phone is checked here with the shared rule too, so a bad number is shown next to
    the field before the confirmation step rather than after it; the service checks again.
    """

    email = forms.EmailField(
        label=_("Enrollment email"),
        max_length=254,
        error_messages={"required": _("An email address is needed to send the enrollment email.")},
    )
    phone = forms.CharField(
        label=_("Mobile phone"), required=False, max_length=40, widget=TelInput()
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class VerifyIdentityForm(forms.Form):
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    access_code = forms.CharField(
        label=_("Access code"),
        max_length=20,
        help_text=_("The 8-character code your practice gave you, for example ABCD-EFGH."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


class CreateAccountForm(forms.Form):
    email = forms.EmailField(label=_("Email (your username)"), max_length=254)
    password = new_password_field(_("Password"))
    password_again = new_password_field(_("Password again"), with_help=False)

    def clean(self):
        data = super().clean()
        require_same_passwords(self, "password", "password_again")
        return data


class LinkAccountForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PhoneVerifyForm(forms.Form):
    """The phone route, step 1: date of birth and the mobile phone the practice has on file."""

    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=40,
        widget=TelInput(attrs={"autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class SecurityCodeForm(forms.Form):
    """The phone route, step 2: the code texted to the phone."""

    security_code = forms.CharField(
        label=_("Security code"),
        max_length=20,
        help_text=_("The 6-digit code in the text message, for example 123456."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_security_code(self) -> str:
        value = self.cleaned_data["security_code"]
        digits = tokens.normalize_security_code(value)
        leftover = "".join(ch for ch in value if ch not in "0123456789 -")
        if leftover or len(digits) != tokens.SECURITY_CODE_LENGTH:
            raise forms.ValidationError(_("Enter the 6 digits from the text message."))
        return digits
