from django import forms
from django.utils.translation import gettext_lazy as _

from portico.practices.models import ProviderCredential, Role


class StaffAddForm(forms.Form):
    email = forms.EmailField(label=_("Email (their username)"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)
    credential = forms.ChoiceField(
        label=_("Provider credential"),
        choices=ProviderCredential.choices,
        required=False,
        help_text=_("For providers: MD, DO, NP or PA."),
    )
