"""Forms of the practice's messaging pages (the inbox filters and the thread's actions).

They only parse what was typed; the rules (who may, what is too long, which provider) are the
services' (messaging.services), whose errors are shown next to these fields (the text limit
included, so the message is the same in pages and the API)."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portico.messaging.attachments import ALLOWED_LABEL
from portico.messaging.models import RenewalDecision, ThreadKind, ThreadStatus

ALL = "all"
STATUS_CHOICES = (
    (ThreadStatus.OPEN.value, _("Open")),
    (ThreadStatus.DONE.value, _("Done")),
    (ALL, _("All")),
)


CHOOSE_AN_ANSWER = _("Choose an answer.")


def provider_choices(providers) -> list[tuple[str, str]]:
    """(user public id, name) of each provider patients may write to."""
    return [(str(m.user.public_id), m.user.display_name) for m in providers]


class InboxFilterForm(forms.Form):
    """The inbox's filters: a GET form, so a filtered inbox is a link like any other."""

    # Never required: what is not chosen falls back to the inbox's defaults.
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(label=_("Message type"), required=False)
    unread = forms.BooleanField(label=_("Unread only"), required=False)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(ALL, _("All providers"))] + provider_choices(providers)
        self.fields["kind"].choices = [("", _("All types")), *ThreadKind.choices]


class _ThreadForm(forms.Form):
    """A form of the thread page, which shows several: each has ids of its own."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class ReplyForm(_ThreadForm):
    id_prefix = "reply"
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachment = forms.FileField(
        label=_("Attach a file (optional)"),
        required=False,
        help_text=format_lazy(_("One file, up to 25 MB: {kinds}."), kinds=ALLOWED_LABEL),
    )


class AssignForm(_ThreadForm):
    id_prefix = "assign"
    # Any value is passed on: the service decides who may be given the thread.
    provider = forms.CharField(label=_("Assign to"), widget=forms.Select)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].widget.choices = provider_choices(providers)


class RenewalForm(_ThreadForm):
    id_prefix = "renewal"
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=RenewalDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_AN_ANSWER, "invalid_choice": CHOOSE_AN_ANSWER},
    )
    body = forms.CharField(
        label=_("Message to the patient (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
