from django import forms
from django.utils.translation import gettext_lazy as _


class SendLinkForm(forms.Form):
    email = forms.CharField(
        label=_("Email address to send the link to"),
        max_length=254,
        help_text=_(
            "The email says only that a record was shared and carries the link; it does "
            "not name you or include any health information."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
