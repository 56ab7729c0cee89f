from django import forms

EMAIL_CODE_LABEL = "6-digit code from the email"


def code_field(label: str, *, numeric: bool) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
    if numeric:
        attrs["inputmode"] = "numeric"
    return forms.CharField(label=label, max_length=20, widget=forms.TextInput(attrs=attrs))


class SecondFactorForm(forms.Form):
    remember = forms.BooleanField(label="Remember this device for 30 days", required=False)

    def __init__(self, *args, method: str, **kwargs):
        super().__init__(*args, **kwargs)
        if method == "totp":
            self.fields["code"] = code_field("Code from your authenticator app", numeric=False)
            self.fields["code"].help_text = "Lost your phone? Type one of your recovery codes."
        else:
            self.fields["code"] = code_field(EMAIL_CODE_LABEL, numeric=True)
        self.order_fields(["code", "remember"])


class EnrollForm(forms.Form):
    code = code_field("6-digit code from your app", numeric=True)


class EmailCodeForm(forms.Form):
    """The emailed code that comes before a first authenticator app."""

    code = code_field(EMAIL_CODE_LABEL, numeric=True)
