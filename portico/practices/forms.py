from django import forms

from portico.practices.models import ProviderCredential, Role


class StaffAddForm(forms.Form):
    email = forms.EmailField(label="Email (their username)", max_length=254)
    full_name = forms.CharField(label="Full name", max_length=200)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.STAFF)
    credential = forms.ChoiceField(
        label="Provider credential",
        choices=ProviderCredential.choices,
        required=False,
        help_text="For providers: MD, DO, NP or PA.",
    )
