"""The form of EHR Settings > Patient apps (staff pages stay English; marked all the same)."""

from django import forms
from django.utils.translation import gettext_lazy as _

PUBLIC = "public"
CONFIDENTIAL = "confidential"


class FirstChoiceRadios(forms.RadioSelect):
    """Radios whose field points at the first radio (the error summary links to it)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class AppRegisterForm(forms.Form):
    name = forms.CharField(
        label=_("App name"),
        max_length=255,
        help_text=_("Patients see it when they connect the app and on their Connected apps page."),
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3, "autocapitalize": "off", "spellcheck": "false"}),
        help_text=_(
            "One per line, exactly as the app sends them: https, or http on 127.0.0.1 or "
            "localhost for an app on the patient's own device."
        ),
    )
    client_type = forms.ChoiceField(
        label=_("Client type"),
        choices=[
            (
                PUBLIC,
                _("Public: an app on the patient's phone or in their browser (no secret)"),
            ),
            (CONFIDENTIAL, _("Confidential: an app with its own server, which keeps a secret")),
        ],
        initial=PUBLIC,
        widget=FirstChoiceRadios,
    )
