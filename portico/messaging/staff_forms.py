"""Forms of the practice's messaging pages (the inbox filters and the thread's actions).

They only parse what was typed; the rules (who may, what is too long, which provider) are the
services' (messaging.services), whose errors are shown next to these fields (the text limit
included, so the message is the same in pages and the API)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.messaging.models import RenewalDecision, ThreadKind, ThreadStatus

ALL = "all"
STATUS_CHOICES = (
    (ThreadStatus.OPEN.value, _("Open")),
    (ThreadStatus.DONE.value, _("Done")),
    (ALL, _("All")),
)


def provider_choices(providers) -> list[tuple[str, str]]:
    """(user public id, name) of each provider patients may write to."""
    return [(str(m.user.public_id), m.user.display_name) for m in providers]


class InboxFilterForm(forms.Form):
    """The inbox's filters: a GET form, so a filtered inbox is a link like any other."""

    provider = forms.ChoiceField(label=_("Provider"))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES)
    kind = forms.ChoiceField(label=_("Message type"))
    unread = forms.BooleanField(label=_("Unread only"), required=False)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(ALL, _("All providers"))] + provider_choices(providers)
        self.fields["kind"].choices = [("", _("All types")), *ThreadKind.choices]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachment = forms.FileField(
        label=_("Attach a file (optional)"),
        required=False,
        help_text=_(
            "One file, up to 25 MB: PDF, text, XML, an image (GIF, JPEG, PNG), audio or video."
        ),
    )


class AssignForm(forms.Form):
    # Any value is passed on: the service decides who may be given the thread.
    provider = forms.CharField(label=_("Assign to"), widget=forms.Select)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget.choices = provider_choices(providers)


class RenewalForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Answer"), choices=RenewalDecision.choices, widget=forms.RadioSelect
    )
    body = forms.CharField(
        label=_("Message to the patient (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
