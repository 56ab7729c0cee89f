"""The demo data promised by README.md: fixed sign-ins and every portal state."""

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from portico.demo import family
from portico.demo import seed as demo
from portico.portal.models import AccessState, Invitation, InvitationOrigin, PortalAccess
from portico.practices.models import Membership, Practice


def test_demo_has_the_documented_sign_ins_and_portal_states(db):
    call_command("seed_demo")

    practice = demo.demo_exists() and Membership.objects.first().practice
    for email in (
        "admin@demo.portico.test",
        "provider@demo.portico.test",
        "staff@demo.portico.test",
        "patient@demo.portico.test",
    ):
        assert User.objects.get(email=email).check_password("portico-demo"), email
    roles = {m.user.email: m for m in Membership.objects.select_related("user")}
    assert roles["admin@demo.portico.test"].is_administrator
    assert roles["provider@demo.portico.test"].role == "provider"
    assert roles["staff@demo.portico.test"].may_invite_patients is False
    assert "patient@demo.portico.test" not in roles  # a patient, not staff

    # Twenty charts with a full record, and the people the week's appointments are for.
    children = len(family.CHILDREN)
    assert (
        Patient.objects.filter(practice=practice).count() == 20 + children + demo.SCHEDULED_PATIENTS
    )
    states = list(PortalAccess.objects.values_list("state", flat=True))
    assert states.count(AccessState.ACTIVE) >= 3
    assert states.count(AccessState.REVOKED) == 1
    assert AccessState.INVITED in states and AccessState.CANCELLED in states
    jordan = PortalAccess.objects.get(account__email="patient@demo.portico.test")
    assert jordan.state == AccessState.ACTIVE


def test_demo_has_auto_invite_on_and_auto_invites_patients(db, django_capture_on_commit_callbacks):
    """One patient is auto-invited when the seed commits (signed encounter); the first run of
    the periodic jobs, as `make demo` does, invites those whose latest encounter stayed unsigned
    30 days or more (among them one seeded 40 days back); others remain to invite by hand."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    practice = Practice.objects.get(slug=demo.DEMO_SLUG)
    assert practice.auto_invite_enabled

    [signed] = Invitation.objects.filter(origin=InvitationOrigin.AUTO)
    assert signed.patient.portal_access.state == AccessState.INVITED
    assert signed.patient.encounters.filter(
        signed_at__isnull=False, visit_date=signed.created_at.date()
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", stdout=io.StringIO())
    overdue = timezone.localdate() - dt.timedelta(days=30)
    auto = Invitation.objects.filter(origin=InvitationOrigin.AUTO)
    later = auto.exclude(pk=signed.pk)
    assert later.count() >= 1
    for invitation in later:
        unsigned = invitation.patient.encounters.filter(signed_at__isnull=True)
        assert unsigned.filter(visit_date__lte=overdue).exists()
    events = AuditEvent.objects.filter(actor_label="system (auto-invite)", action="portal.invite")
    assert events.count() == auto.count()
    assert Patient.objects.filter(practice=practice, portal_access__isnull=True).exists()


def test_seeding_twice_changes_nothing(db):
    call_command("seed_demo")
    before = Patient.objects.count()
    call_command("seed_demo")
    assert Patient.objects.count() == before


def test_every_demo_chart_has_appointments_and_those_with_a_record_past_and_upcoming(db):
    from portico.charts.models import Encounter
    from portico.scheduling.models import Appointment

    call_command("seed_demo")

    now = timezone.now()
    with_record = Patient.objects.filter(pk__in=Encounter.objects.values("patient"))
    assert with_record.count() == 20 + len(family.CHILDREN)
    for patient in with_record:
        appointments = Appointment.objects.filter(patient=patient)
        assert appointments.filter(start_at__lt=now).exists(), patient.pk
        assert appointments.filter(start_at__gt=now, status="booked").exists(), patient.pk
    assert not Patient.objects.exclude(pk__in=Appointment.objects.values("patient")).exists()


def test_demo_patient_has_message_threads_and_the_provider_an_inbox(db):
    """Messaging is on; the demo patient has threads with the demo provider made through the
    services (audited), spread over recent weeks: one done, one renewal answered "Renewal
    sent", one filed to the chart, one with a text file the provider has not read yet."""
    from portico.audit.models import AuditEvent
    from portico.messaging import selectors
    from portico.messaging.models import RenewalDecision, Thread, ThreadKind, ThreadStatus

    call_command("seed_demo")
    practice = Practice.objects.get(slug=demo.DEMO_SLUG)
    assert practice.messaging_enabled
    jordan = Patient.objects.get(email=demo.PATIENT_EMAIL)
    provider = User.objects.get(email="provider@demo.portico.test")

    threads = list(selectors.patient_threads(jordan))
    assert len(threads) >= 4
    assert {t.provider_id for t in threads} == {provider.pk}
    assert any(t.status == ThreadStatus.DONE for t in threads)
    assert any(t.filed_at is not None for t in threads)
    [renewal] = [t for t in threads if t.kind == ThreadKind.RENEWAL]
    assert renewal.renewal.decision == RenewalDecision.SENT
    assert renewal.renewal.medications.filter(shared_with_patient=True).exists()
    unread = [t for t in threads if t.practice_unread]
    assert unread and unread[0].messages.get().attachment.filename.endswith(".txt")
    now = timezone.now()
    ages = {(now - t.last_message_at).days for t in threads}
    assert max(ages) >= 14 and min(ages) <= 2, ages  # spread over recent weeks
    for thread in threads:
        assert thread.created_at <= thread.last_message_at <= now

    inbox = selectors.practice_threads(practice, provider=provider, status=ThreadStatus.OPEN)
    assert inbox.count() >= 4  # the demo patient's open threads and other patients' questions
    assert inbox.exclude(patient=jordan).exists()
    assert selectors.practice_threads(practice, provider=provider, unread=True).count() >= 2
    assert (
        AuditEvent.objects.filter(action="message.thread_start").count() == Thread.objects.count()
    )
