"""Patient messages through the API (SPEC §7.4): the practice's inbox, a thread, and what
staff do with it. Each handler calls the same service or selector as the inbox pages; the
token's member must be one who reads and answers the practice's patient messages (a provider,
or staff an administrator chose), else 403. Another practice's thread is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status

from portico.api.patients import PageIn
from portico.api.schemas import ErrorOut, InputSchema
from portico.messaging import selectors, services
from portico.messaging.models import (
    BODY_MAX,
    Message,
    RenewalDecision,
    Thread,
    ThreadKind,
    ThreadStatus,
)
from portico.practices.models import Membership

router = Router(tags=["messages"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

BODY_RULE = (
    f"Required: at least one character that is not a space, at most {BODY_MAX:,} characters "
    "once surrounding spaces are removed."
)


# --- Shapes ------------------------------------------------------------------------------


class PersonOut(Schema):
    id: UUID
    name: str


class ThreadOut(Schema):
    id: UUID
    patient: PersonOut
    provider: PersonOut = Field(description="The provider the thread is assigned to.")
    kind: ThreadKind
    kind_label: str
    subject: str
    status: ThreadStatus
    created_at: dt.datetime
    last_message_at: dt.datetime
    message_count: int
    unread: bool = Field(description="A patient message nobody at the practice has opened.")
    awaiting_practice: bool = Field(description="The last message came from the patient.")
    filed_at: dt.datetime | None = Field(description="When it was filed to the chart.")

    @staticmethod
    def resolve_id(thread: Thread) -> UUID:
        return thread.public_id

    @staticmethod
    def resolve_patient(thread: Thread) -> dict:
        return {"id": thread.patient.public_id, "name": thread.patient.full_name}

    @staticmethod
    def resolve_provider(thread: Thread) -> dict:
        return {"id": thread.provider.public_id, "name": thread.provider.display_name}

    @staticmethod
    def resolve_kind_label(thread: Thread) -> str:
        return str(thread.get_kind_display())

    @staticmethod
    def resolve_unread(thread: Thread) -> bool:
        return thread.practice_unread


class AttachmentOut(Schema):
    """What the file is; its content is downloaded from the inbox page (audited)."""

    id: UUID
    filename: str
    content_type: str
    size: int = Field(description="In bytes.")

    @staticmethod
    def resolve_id(attachment) -> UUID:
        return attachment.public_id


class MessageOut(Schema):
    id: UUID
    from_patient: bool
    sender: str = Field(description="Who wrote it, as shown in the thread.")
    body: str
    created_at: dt.datetime
    renewal_decision: RenewalDecision | None = Field(
        description="On the provider's answer to a prescription renewal request."
    )
    attachment: AttachmentOut | None

    @staticmethod
    def resolve_id(message: Message) -> UUID:
        return message.public_id

    @staticmethod
    def resolve_sender(message: Message) -> str:
        return message.sender_label

    @staticmethod
    def resolve_renewal_decision(message: Message) -> str | None:
        return message.renewal_decision or None

    @staticmethod
    def resolve_attachment(message: Message):
        return getattr(message, "attachment", None)


class MedicationOut(Schema):
    id: UUID
    name: str


class RenewalOut(Schema):
    medications: list[MedicationOut]
    pharmacy: str
    decision: RenewalDecision | None
    decided_by: PersonOut | None
    decided_at: dt.datetime | None


class ThreadDetailOut(ThreadOut):
    messages: list[MessageOut] = Field(description="Oldest first.")
    renewal: RenewalOut | None = Field(description="A prescription renewal request's details.")


class PagedThreadOut(Schema):
    items: list[ThreadOut]
    count: int


class ThreadFilter(InputSchema):
    provider: UUID | None = Field(
        None, description="Only the threads assigned to this user (a member of the practice)."
    )
    status: Literal["open", "done", "all"] = Field("all", description="Open, done, or all.")
    kind: ThreadKind | None = Field(None, description="Only threads of this message type.")
    unread: bool = Field(False, description="Only threads with a patient message not opened.")


class ReplyIn(InputSchema):
    body: str = Field(..., description=BODY_RULE)


class StatusIn(InputSchema):
    status: ThreadStatus = Field(
        ..., description="done: the patient can no longer reply (they may start a new thread)."
    )


class AssignIn(InputSchema):
    provider: UUID = Field(
        ...,
        description="A provider of the practice patients may write to (MD, DO, NP or PA).",
    )


class RenewalIn(InputSchema):
    decision: RenewalDecision
    body: str = Field("", description=f"Optional; at most {BODY_MAX:,} characters.")


# --- Helpers -----------------------------------------------------------------------------


def _thread(request, thread_id: UUID) -> Thread:
    """One of the token's practice's threads, for a member who answers messages (403 first,
    so someone who may not read messages learns nothing of which threads exist)."""
    services.require_answerer(request.user, request.practice)
    return selectors.thread_for_practice(request.practice, thread_id)


class ThreadDetailView:
    """A thread with what its detail adds, read the way ThreadDetailOut resolves it."""

    def __init__(self, thread: Thread):
        self._thread = thread
        renewal = selectors.renewal_of(thread) if thread.kind == ThreadKind.RENEWAL else None
        self.messages = selectors.thread_messages(thread)
        self.renewal = _renewal_out(renewal)

    def __getattr__(self, name):
        return getattr(self._thread, name)


def _renewal_out(renewal) -> dict | None:
    if renewal is None:
        return None
    decided_by = renewal.decided_by
    return {
        "medications": [{"id": m.public_id, "name": m.display} for m in renewal.medications.all()],
        "pharmacy": renewal.pharmacy,
        "decision": renewal.decision or None,
        "decided_by": (
            {"id": decided_by.public_id, "name": decided_by.display_name} if decided_by else None
        ),
        "decided_at": renewal.decided_at,
    }


def _provider_filter(request, provider_id: UUID | None):
    if provider_id is None:
        return None
    membership = (
        Membership.objects.filter(practice=request.practice, user__public_id=provider_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError({"provider": ["No one at the practice has this id."]})
    return membership.user


# --- Operations --------------------------------------------------------------------------


@router.get("/threads", response={200: PagedThreadOut, **ERRORS})
def list_threads(request, filters: Query[ThreadFilter], page: Query[PageIn]):
    """The practice's inbox, newest first: every provider's threads, or one provider's,
    by status, message type and unread. Audited as the inbox page is."""
    services.require_answerer(request.user, request.practice)
    provider = _provider_filter(request, filters.provider)
    threads = selectors.practice_threads(
        request.practice,
        provider=provider,
        status="" if filters.status == "all" else filters.status,
        kind=filters.kind or "",
        unread=filters.unread,
    )
    shown = list(threads[page.offset : page.offset + page.limit])
    services.inbox_viewed(
        request.user,
        practice=request.practice,
        shown=len(shown),
        filters={
            "via": "api",
            "provider": str(filters.provider) if filters.provider else "all",
            "status": filters.status,
            "kind": filters.kind or "all",
            "unread": filters.unread,
            "offset": page.offset,
        },
    )
    return {"items": shown, "count": threads.count()}


@router.get("/threads/{thread_id}", response={200: ThreadDetailOut, **ERRORS})
def get_thread(request, thread_id: UUID):
    """A thread with its messages (attachments described, not included) and, for a
    prescription renewal request, the medications, pharmacy and answer. Every read is
    audited, and the thread no longer counts as unread."""
    thread = _thread(request, thread_id)
    services.thread_read_by_staff(request.user, thread=thread)
    return ThreadDetailView(thread)


@router.post("/threads/{thread_id}/replies", response={201: MessageOut, **ERRORS})
def reply_to_thread(request, thread_id: UUID, payload: ReplyIn):
    """Answer in an open thread; the patient is emailed that a message is waiting (without
    its content, at most once a quarter hour). A done thread takes no reply: reopen it."""
    thread = _thread(request, thread_id)
    message = services.staff_reply(request.user, thread=thread, body=payload.body)
    return Status(201, message)


@router.put("/threads/{thread_id}/status", response={200: ThreadOut, **ERRORS})
def set_thread_status(request, thread_id: UUID, payload: StatusIn):
    """Mark the thread done, or open it again."""
    thread = _thread(request, thread_id)
    services.thread_status_set(request.user, thread=thread, status=payload.status)
    return thread


@router.put("/threads/{thread_id}/provider", response={200: ThreadOut, **ERRORS})
def assign_thread(request, thread_id: UUID, payload: AssignIn):
    """Give the thread to another provider of the practice; they are emailed."""
    thread = _thread(request, thread_id)
    services.thread_assign(request.user, thread=thread, provider=str(payload.provider))
    return thread


@router.post("/threads/{thread_id}/file", response={200: ThreadOut, **ERRORS})
def file_thread(request, thread_id: UUID):
    """ "File to chart": the thread shows in the chart's timeline (filing twice is harmless)."""
    thread = _thread(request, thread_id)
    services.thread_file(request.user, thread=thread)
    return thread


@router.post("/threads/{thread_id}/renewal", response={201: MessageOut, **ERRORS})
def answer_renewal(request, thread_id: UUID, payload: RenewalIn):
    """Answer a prescription renewal request once: "sent" (Renewal sent), "needs_visit"
    (Needs a visit) or "denied" (Denied), with an optional message to the patient."""
    thread = _thread(request, thread_id)
    message = services.renewal_decide(
        request.user, thread=thread, decision=payload.decision, body=payload.body
    )
    return Status(201, message)
