"""Auto-invite (SPEC §5.1–5.2): which charts the system invites by itself, and when.

The rule lives in `ineligible_reason`, checked at the moment of issuing by
`portal.services.invitation_issue_auto` (under the practice's lock, so turning auto-invite
off stops even invitations already scheduled). Two paths lead there:

- signing an encounter: `charts.services.encounter_sign` sends `charts.signals.
  encounter_signed`, whose receiver `encounter_signed` enqueues `invite_after_signing` once the
  signature has committed;
- an encounter left unsigned: the periodic job `invite_unsigned_due` invites charts whose
  unsigned encounter's visit date is 30 or more days ago (practice's time zone).

Only charts whose portal state is "not invited" are invited. Pending, enrolled, cancelled and
revoked never are (SPEC §5.2); nor is "invite expired": the patient already had an invitation
and let it lapse, and inviting again on every later encounter (or every run of the periodic job)
would keep mailing someone who did not answer. Staff can still invite an expired chart by hand.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks import task

from portico.charts.models import Encounter, Patient
from portico.portal.models import AccessState, PortalAccess
from portico.practices.models import Practice
from portico.practices.services import auto_invite_stopped_reason

MIN_AGE = 18
MAX_AGE = 85
UNSIGNED_AFTER_DAYS = 30
BATCH_SIZE = 500

REASON_SIGNED = "encounter_signed"
REASON_UNSIGNED = "encounter_unsigned_30_days"


def practice_today(practice: Practice, now: dt.datetime | None = None) -> dt.date:
    """The date at the practice, in its own time zone."""
    now = now or timezone.now()
    return timezone.localtime(now, zoneinfo.ZoneInfo(practice.time_zone)).date()


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_date_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """(born_after, born_on_or_before): a patient aged MIN_AGE..MAX_AGE today was born in this
    range. Someone born on 29 February has their birthday on 1 March in other years."""
    return _years_before(today, MAX_AGE + 1), _years_before(today, MIN_AGE)


def ineligible_reason(
    patient: Patient,
    *,
    practice: Practice | None = None,
    access: PortalAccess | None = None,
    today: dt.date | None = None,
) -> str | None:
    """Why the system may not auto-invite this chart now, or None when it may.

    `practice` and `access` may be passed freshly locked by the caller; otherwise they are read.
    """
    practice = practice or patient.practice
    # Off, or on but without a text-message backend ("no_sms_backend"): an auto-invited patient
    # verifies by a texted security code only, so could not register.
    stopped = auto_invite_stopped_reason(practice)
    if stopped is not None:
        return stopped
    born_after, born_by = birth_date_bounds(today or practice_today(practice))
    if patient.date_of_birth > born_by:
        return "younger_than_18"
    if patient.date_of_birth <= born_after:
        return "older_than_85"
    if not patient.email.strip():
        return "no_email"
    if not patient.mobile_phone.strip():
        return "no_mobile_phone"
    if not Encounter.objects.filter(patient=patient, practice=practice).exists():
        return "no_encounter"
    if access is None:
        access = (
            PortalAccess.objects.filter(patient=patient)
            .select_related("current_invitation")
            .first()
        )
    state = access.effective_state if access is not None else AccessState.NOT_INVITED
    if state != AccessState.NOT_INVITED:
        return f"portal_{state}"
    return None


# ---------------------------------------------------------------------------
# After signing


def encounter_signed(sender, *, encounter: Encounter, **kwargs) -> None:
    """Receiver of `charts.signals.encounter_signed`, sent inside the signing transaction: once
    the signature commits, a task invites the chart if it is eligible then (it re-checks
    everything). Connected in PortalConfig.ready()."""
    if not Practice.objects.filter(pk=encounter.practice_id, auto_invite_enabled=True).exists():
        return
    patient_id = encounter.patient_id
    transaction.on_commit(lambda: invite_after_signing.enqueue(patient_id=patient_id))


@task()
def invite_after_signing(patient_id: int) -> str:
    """Auto-invite a chart whose encounter was just signed. Idempotent: a chart is invited only
    from "not invited", so running it twice invites once."""
    from portico.portal.services import invitation_issue_auto

    patient = Patient.objects.select_related("practice").filter(pk=patient_id).first()
    if patient is None:
        return "no-chart"
    invitation = invitation_issue_auto(patient=patient, reason=REASON_SIGNED)
    return "invited" if invitation is not None else "not-eligible"


# ---------------------------------------------------------------------------
# Unsigned encounters (periodic job)


def unsigned_due_candidates(practice: Practice, today: dt.date):
    """Ids of charts of the practice that may be due for the unsigned-encounter invite: an
    unsigned encounter with a visit date 30 or more days ago, of age, with email and phone, not
    invited. A narrowing query (the encounter index practice, signed_at, visit_date serves it);
    `ineligible_reason` still decides each chart."""
    cutoff = today - dt.timedelta(days=UNSIGNED_AFTER_DAYS)
    born_after, born_by = birth_date_bounds(today)
    overdue = Encounter.objects.filter(
        practice=practice, signed_at__isnull=True, visit_date__lte=cutoff, patient=OuterRef("pk")
    )
    return (
        Patient.objects.filter(practice=practice, date_of_birth__gt=born_after)
        .filter(date_of_birth__lte=born_by)
        .exclude(email="")
        .exclude(mobile_phone="")
        .filter(Q(portal_access__isnull=True) | Q(portal_access__state=AccessState.NOT_INVITED))
        .filter(Exists(overdue))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def invite_unsigned_due(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Periodic job: auto-invite charts whose encounter stayed unsigned 30 days after the visit.

    Runs practice by practice (only those with auto-invite on and not paused), in batches of
    charts, one transaction per chart; safe to run again at any time (an invited chart is no
    longer a candidate). Returns how many charts were invited.
    """
    from portico.portal.services import invitation_issue_auto

    invited = 0
    for practice in Practice.objects.filter(auto_invite_enabled=True).order_by("pk"):
        if auto_invite_stopped_reason(practice) is not None:
            continue  # paused (no SMS backend): no chart of it is eligible, none is read
        today = practice_today(practice, now)
        last_pk = 0
        while True:
            candidates = unsigned_due_candidates(practice, today).filter(pk__gt=last_pk)
            batch = list(candidates[:batch_size])
            if not batch:
                break
            last_pk = batch[-1]
            for patient in Patient.objects.select_related("practice").filter(pk__in=batch):
                if invitation_issue_auto(patient=patient, reason=REASON_UNSIGNED) is not None:
                    invited += 1
    return invited
