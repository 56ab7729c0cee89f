from django import forms

from portico.charts.models import Patient
from portico.charts.services import DEMOGRAPHIC_FIELDS
from portico.core.forms import DateInput, TelInput


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by name or date of birth",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, or 04/21/1980"}),
    )


class DemographicsForm(forms.ModelForm):
    """Shape and widgets only; the rules live in charts.services."""

    class Meta:
        model = Patient
        fields = list(DEMOGRAPHIC_FIELDS)
        labels = {
            "legal_first_name": "Legal first name",
            "legal_last_name": "Legal last name",
            "date_of_birth": "Date of birth",
            "mobile_phone": "Mobile phone",
            "address_line1": "Address",
            "address_line2": "Address line 2",
            "postal_code": "ZIP code",
        }
        widgets = {
            "date_of_birth": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "mobile_phone": TelInput(),
        }

    def _post_clean(self):
        # Validation happens in the service; skip the ModelForm's model validation here.
        pass
