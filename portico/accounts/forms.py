from django import forms
from django.utils.translation import gettext_lazy as _

from portico.core.forms import new_password_field, require_same_passwords


class SignInForm(forms.Form):
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Which system will use it, e.g. “Scheduling sync”."),
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = new_password_field(_("New password"))
    new_password_again = new_password_field(_("New password again"), with_help=False)

    def clean(self):
        data = super().clean()
        require_same_passwords(self, "new_password", "new_password_again")
        return data


class RecoveryEmailForm(forms.Form):
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        help_text=_("The email address you use for Portico."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordResetForm(forms.Form):
    new_password = new_password_field(_("New password"))
    new_password_again = new_password_field(_("New password again"), with_help=False)

    def clean(self):
        data = super().clean()
        require_same_passwords(self, "new_password", "new_password_again")
        return data
