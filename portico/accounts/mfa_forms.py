from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EMAIL_CODE_LABEL = _("6-digit code from the email")


def code_field(label: str | Promise, *, numeric: bool) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
    if numeric:
        attrs["inputmode"] = "numeric"
    return forms.CharField(label=label, max_length=20, widget=forms.TextInput(attrs=attrs))


class SecondFactorForm(forms.Form):
    remember = forms.BooleanField(label=_("Remember this device for 30 days"), required=False)

    def __init__(self, *args, method: str, **kwargs):
        super().__init__(*args, **kwargs)
        if method == "totp":
            self.fields["code"] = code_field(_("Code from your authenticator app"), numeric=False)
            self.fields["code"].help_text = _("Lost your phone? Type one of your recovery codes.")
        else:
            self.fields["code"] = code_field(EMAIL_CODE_LABEL, numeric=True)
        self.order_fields(["code", "remember"])


class EnrollForm(forms.Form):
    code = code_field(_("6-digit code from your app"), numeric=True)


class EmailCodeForm(forms.Form):
    """The emailed code that comes before a first authenticator app."""

    code = code_field(EMAIL_CODE_LABEL, numeric=True)
