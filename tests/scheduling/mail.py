"""What the appointment email tests share: a chart whose name and reason for visit must never
be in an email, booking, and reading a sent message (Django's outbox or the SMTP server's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from icalendar import Calendar

from portico.scheduling.services import appointment_book, visit_type_save
from tests import factories

FIRST_NAME = "Jordan"
LAST_NAME = "Quillfeather"
REASON = "Crushing chest pain since Tuesday, rule out angina"
# A visit type whose name says something clinical: not for emails either.
VISIT_TYPE = "Diabetes review"
PRACTICE_ADDRESS = ("12 Elm Street", "Suite 3", "Springfield", "IL", "62701")
# What no email, subject or calendar file may contain.
SECRETS = (FIRST_NAME, LAST_NAME, REASON, "angina", VISIT_TYPE)


def give_address(practice) -> None:
    line1, line2, city, state, postal = PRACTICE_ADDRESS
    practice.address_line1, practice.address_line2 = line1, line2
    practice.city, practice.state, practice.postal_code = city, state, postal
    practice.save()


def make_chart(practice, **fields):
    return factories.make_patient(
        practice,
        legal_first_name=FIRST_NAME,
        legal_last_name=LAST_NAME,
        email=fields.pop("email", "jordan@example.test"),
        **fields,
    )


def clinical_visit_type(admin, practice):
    return visit_type_save(admin, practice=practice, name=VISIT_TYPE, duration_minutes=20)


def book(actor, patient, provider, visit_type, start: dt.datetime, **kw):
    return appointment_book(
        actor,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=start,
        reason=kw.pop("reason", REASON),
        **kw,
    )


@dataclass
class Received:
    """One sent message, as its recipient's mail program reads it."""

    message: object
    attachments: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        # Line ends as the program shows them (SMTP carries CRLF).
        return self.message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value).strip()

    def calendar(self) -> Calendar:
        _type, content = self.attachments["appointment.ics"]
        return Calendar.from_ical(content)

    def everything(self) -> str:
        """Subject, both bodies and every attachment, decoded."""
        parts = [self.subject, self.text, self.html]
        parts += [content.decode() for _type, content in self.attachments.values()]
        return "\n".join(parts)


def received(raw) -> Received:
    """A message from Django's locmem outbox, or one the SMTP test server kept."""
    if isinstance(raw, dict):  # tests.smtp's record
        message = raw["message"]
    else:
        message = message_from_bytes(raw.message().as_bytes(), policy=policy.default)
    found = Received(message)
    for part in message.iter_attachments():
        found.attachments[part.get_filename()] = (
            part.get_content_type() + "".join(f"; {k}={v}" for k, v in part.get_params()[1:]),
            part.get_payload(decode=True),
        )
    return found
