"""The patient's messaging forms (the practice's are in staff_forms.py).

The forms read what was typed and chosen; the rules themselves (who may be written to, the
limits, what a file may be) are the services' (messaging.services), whose errors land next to
the fields of the same names: provider, kind, subject, body, attachment, medications, pharmacy.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.messaging import attachments
from portico.messaging.models import BODY_MAX, PHARMACY_MAX, SUBJECT_MAX, ThreadKind

# What the file chooser offers; the content decides (messaging.attachments).
ACCEPT = ",".join(
    f".{ext}"
    for kind in attachments.ALLOWED
    for ext in sorted(attachments.NAME_EXTENSIONS.get(kind, {kind}))
)
ONE_FILE_ONLY = _("Attach one file per message. To send more files, send more messages.")
ATTACHMENT_HELP = _(
    "Optional. One file up to 25 MB: PDF, TXT, XML, GIF, JPG, PNG, M4A, WAV, MP3, WMA, AIFF, "
    "MP4 or MOV."
)


def provider_label(membership) -> str:
    """A provider as patients see them in the list: name and credential."""
    name = membership.user.display_name
    return f"{name}, {membership.credential}" if membership.credential else name


def _provider_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("To"), help_text=_("The provider who reads your message."))


def _body_field(*, required: bool, label, help_text="") -> forms.CharField:
    # The limit is checked by the service (its message counts the characters); the browser
    # stops at it too.
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": BODY_MAX}),
    )


def _attachment_field() -> forms.FileField:
    return forms.FileField(
        label=_("Attach a file"),
        required=False,
        help_text=ATTACHMENT_HELP,
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )


class _OneAttachment:
    """A form with one `attachment` field that refuses a second file sent in it."""

    def clean_attachment(self):
        if len(self.files.getlist(self.add_prefix("attachment"))) > 1:
            raise forms.ValidationError(ONE_FILE_ONLY, code="one_file")
        return self.cleaned_data.get("attachment")


class _ProviderChoice:
    def _set_providers(self, providers) -> None:
        self.fields["provider"].choices = [("", _("Choose a provider"))] + [
            (str(m.user.public_id), provider_label(m)) for m in providers
        ]


class MessageForm(_OneAttachment, _ProviderChoice, forms.Form):
    """A new message to one of the practice's providers."""

    provider = _provider_field()
    kind = forms.ChoiceField(
        label=_("Type of message"),
        choices=[("", _("Choose a type"))]
        + [(value, label) for value, label in ThreadKind.choices if value != ThreadKind.RENEWAL],
    )
    subject = forms.CharField(
        label=_("Subject"), widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX})
    )
    body = _body_field(required=True, label=_("Message"))
    attachment = _attachment_field()

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_providers(providers)

    def thread_values(self) -> dict:
        """What services.thread_start takes from this form (once it is valid)."""
        data = self.cleaned_data
        return {
            "provider": data["provider"],
            "kind": data["kind"],
            "subject": data["subject"],
            "body": data["body"],
            "upload": data["attachment"],
        }


class MedicationCheckboxes(forms.CheckboxSelectMultiple):
    """Check boxes whose field points at the first box (the error summary links to it)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class RenewalForm(_ProviderChoice, forms.Form):
    """A prescription renewal request: which current medications, the pharmacy, a note."""

    medications = forms.MultipleChoiceField(
        label=_("Medications to renew"),
        widget=MedicationCheckboxes,
        error_messages={"required": _("Choose at least one medication to renew.")},
    )
    pharmacy = forms.CharField(
        label=_("Pharmacy"),
        help_text=_("The pharmacy's name and its address or phone number."),
        widget=forms.TextInput(attrs={"maxlength": PHARMACY_MAX}),
    )
    provider = _provider_field()
    subject = forms.CharField(
        label=_("Subject"),
        initial=_("Prescription renewal"),
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX}),
    )
    body = _body_field(
        required=False,
        label=_("Message (optional)"),
        help_text=_("Anything the provider should know, such as how you are doing on it."),
    )

    def __init__(self, *args, providers=(), medications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_providers(providers)
        self.fields["medications"].choices = [
            (str(m.public_id), medication_label(m)) for m in medications
        ]

    def thread_values(self) -> dict:
        """What services.thread_start takes from this form (once it is valid)."""
        data = self.cleaned_data
        return {
            "provider": data["provider"],
            "kind": ThreadKind.RENEWAL,
            "subject": data["subject"],
            "body": data["body"],
            "medications": data["medications"],
            "pharmacy": data["pharmacy"],
        }


def medication_label(medication) -> str:
    return (
        f"{medication.display} ({medication.instructions})"
        if medication.instructions
        else medication.display
    )


class ReplyForm(_OneAttachment, forms.Form):
    body = _body_field(required=True, label=_("Your reply"))
    attachment = _attachment_field()


class RecordUpdateEmailsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Email me when my practice shares new test results or visit summaries"),
        required=False,
        help_text=_("The email says only that something new is in your record."),
    )
