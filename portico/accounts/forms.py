from django import forms

from portico.core.forms import new_password_field, require_same_passwords


class SignInForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Which system will use it, e.g. “Scheduling sync”.",
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = new_password_field("New password")
    new_password_again = new_password_field("New password again", with_help=False)

    def clean(self):
        data = super().clean()
        require_same_passwords(self, "new_password", "new_password_again")
        return data


class RecoveryEmailForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        help_text="The email address you use for Portico.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordResetForm(forms.Form):
    new_password = new_password_field("New password")
    new_password_again = new_password_field("New password again", with_help=False)

    def clean(self):
        data = super().clean()
        require_same_passwords(self, "new_password", "new_password_again")
        return data
