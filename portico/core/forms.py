"""Form helpers shared by every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    """The platform's date picker; it submits ISO dates."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TelInput(forms.TextInput):
    input_type = "tel"


def new_password_field(label: str, *, with_help: bool = True) -> forms.CharField:
    """A field for choosing a password; the rules themselves are checked by the service."""
    return forms.CharField(
        label=label,
        strip=False,
        max_length=128,
        help_text=(
            _("At least 8 characters. A long phrase is easy to remember and hard to guess.")
            if with_help
            else ""
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def require_same_passwords(form: forms.Form, first: str, second: str) -> None:
    """Add an error to `second` when the two typed passwords differ."""
    data = form.cleaned_data
    if data.get(first) and data.get(first) != data.get(second):
        form.add_error(second, _("The two passwords are not the same."))


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the matching fields of a form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
