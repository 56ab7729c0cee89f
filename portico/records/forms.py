from django import forms


class SendLinkForm(forms.Form):
    email = forms.CharField(
        label="Email address to send the link to",
        max_length=254,
        help_text="The email says only that a record was shared and carries the link; it does "
        "not name you or include any health information.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
