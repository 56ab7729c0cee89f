"""Demo data, made through the same services staff and patients use (so the audit trail
and timelines are real). Fixed sign-ins, documented in README.md; demo data only."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from portico.accounts.models import User
from portico.charts.models import Patient
from portico.charts.services import encounter_create, encounter_sign, patient_create
from portico.demo.appointments import give_demo_appointments
from portico.demo.family import demo_family_missing, give_demo_family, rng_for_family
from portico.demo.intake import demo_intake_missing, give_demo_intake
from portico.demo.messages import give_demo_messages
from portico.demo.online import give_demo_online_booking
from portico.demo.records import give_demo_record
from portico.demo.schedules import give_demo_schedules
from portico.demo.smart_app import give_demo_smart_app
from portico.notifications import sms
from portico.portal import registration
from portico.portal import services as portal
from portico.practices import services as practice_services
from portico.practices.models import Membership, Practice, ProviderCredential, Role

DEMO_PASSWORD = "portico-demo"  # noqa: S105 (documented demo credential)
DEMO_SLUG = "demo"

STAFF = [
    ("admin@demo.portico.test", "Alex Morgan", Role.ADMINISTRATOR, "", True),
    ("provider@demo.portico.test", "Dr. Priya Shah", Role.PROVIDER, ProviderCredential.MD, True),
    # The staff member whose right to invite patients was taken away (SPEC §1.4).
    ("staff@demo.portico.test", "Sam Lee", Role.STAFF, "", False),
]
# A second provider, seen in the appointment book only (no sign-in: the password is unusable).
SECOND_PROVIDER = ("np@demo.portico.test", "Maya Collins", ProviderCredential.NP)
PATIENT_EMAIL = "patient@demo.portico.test"
# Fixed authenticator-app secrets (base32) of the demo staff, printed by `make demo` and written
# in README.md, so anyone (or a script with pyotp) can compute the sign-in code. Demo only.
STAFF_TOTP_SECRETS = {
    "admin@demo.portico.test": "PORTICODEMOADMINPORTICODEMOADMIN",
    "provider@demo.portico.test": "PORTICODEMOPROVIDERPORTICODEMOPR",
    "staff@demo.portico.test": "PORTICODEMOSTAFFPORTICODEMOSTAFF",
}

FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "Mateo",
    "Isabella",
    "Lucas",
    "Mia",
    "Amir",
    "Harper",
    "Ethan",
    "Aisha",
    "Mei",
    "Daniel",
    "Grace",
    "Omar",
    "Chloe",
]
LAST = [
    "Nguyen",
    "Garcia",
    "Smith",
    "Okafor",
    "Kowalski",
    "Haddad",
    "Johnson",
    "Tanaka",
    "Silva",
    "Brown",
    "Patel",
    "Murphy",
    "Cohen",
    "Rossi",
    "Andersen",
    "Kim",
    "Lopez",
    "Walker",
    "Ali",
    "Fischer",
]
STREETS = ["Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm St", "Birch Way", "Lake Dr"]
# Charts beyond the ~20 with a full record: the people the providers' week of appointments is
# booked for (demographics and a visit or two; some are new patients).
SCHEDULED_PATIENTS = 120


def demo_exists() -> bool:
    return Practice.objects.filter(slug=DEMO_SLUG).exists()


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name)
    return user


def demo_authenticators() -> None:
    """Give the demo staff their fixed authenticator secrets (also on an older demo database)."""
    import pyotp

    from portico.accounts import mfa
    from portico.accounts.models import Authenticator

    for email, secret in STAFF_TOTP_SECRETS.items():
        user = User.objects.filter(email=email).first()
        if user is not None and not Authenticator.objects.filter(user=user).exists():
            mfa.authenticator_enroll(user, secret=secret, code=pyotp.TOTP(secret).now())
            # Setting up used the current code; let a newcomer sign in with it right away.
            Authenticator.objects.filter(user=user).update(last_step=0)


def demo_online_booking() -> None:
    """Give a demo database seeded before online booking existed its online profiles, policy
    and requests (demo.online), once; a newer one has them already."""
    from portico.scheduling.models import VisitType

    practice = Practice.objects.filter(slug=DEMO_SLUG).first()
    if practice is None or practice.online_profiles.exists():
        return
    names = set(VisitType.objects.filter(practice=practice).values_list("name", flat=True))
    admin, provider = (User.objects.filter(email=STAFF[i][0]).first() for i in (0, 1))
    second = User.objects.filter(email=SECOND_PROVIDER[0]).first()
    existing = Patient.objects.filter(
        practice=practice, legal_first_name=FIRST[1], legal_last_name=LAST[1]
    ).first()
    if None in (admin, provider, second, existing) or not {"New patient", "Follow-up"} <= names:
        return  # older still: no appointment book to book from
    with transaction.atomic():
        give_demo_online_booking(
            admin, practice=practice, provider=provider, second_provider=second, existing=existing
        )


def _patient_values(rng: random.Random, i: int, first: str, last: str) -> dict:
    today = dt.date.today()  # noqa: DTZ011 (a birth date, no time of day)
    age_days = rng.randint(19 * 365, 84 * 365)
    return {
        "legal_first_name": first,
        "legal_last_name": last,
        "date_of_birth": today - dt.timedelta(days=age_days),
        "sex": rng.choice(["female", "male"]),
        "email": f"{first}.{last}{i}@example.com".lower(),
        "mobile_phone": f"+1202555{1000 + i:04d}",
        "address_line1": f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
        "city": "Springfield",
        "state": "IL",
        "postal_code": f"627{rng.randint(10, 99)}",
        "preferred_language": rng.choice(["en", "en", "en", "es"]),
    }


def _enroll(staff: User, patient: Patient, account: User) -> None:
    """Invite and register as the patient would, with the fixed demo password.

    The demo password is fixed by the README, so the account is made directly (the
    password rules would reject "portico-demo" next to a demo.portico.test address).
    """
    invitation = portal.invitation_issue(staff, patient=patient)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))


@transaction.atomic
def seed_demo() -> Practice:
    """Create the demo practice, its three staff, ~20 patients and their portal states."""
    practice = Practice.objects.create(
        name="Demo Family Practice",
        slug=DEMO_SLUG,
        address_line1="100 Main Street",
        city="Springfield",
        state="IL",
        postal_code="62701",
        phone="(217) 555-0100",
        time_zone="America/Chicago",
    )
    members = {}
    for email, name, role, credential, may_invite in STAFF:
        user = _user(email, name)
        members[role] = Membership.objects.create(
            user=user,
            practice=practice,
            role=role,
            credential=credential,
            may_invite_patients=may_invite,
        )
    admin = members[Role.ADMINISTRATOR].user
    demo_authenticators()
    provider = members[Role.PROVIDER].user
    email, name, credential = SECOND_PROVIDER
    second_provider = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=None, full_name=name
    )
    Membership.objects.create(
        user=second_provider, practice=practice, role=Role.PROVIDER, credential=credential
    )

    rng = random.Random(2026)  # noqa: S311 (demo data, not security)
    # The enrolled demo patient with fixed sign-in.
    jordan = patient_create(
        provider,
        practice=practice,
        legal_first_name="Jordan",
        legal_last_name="Rivera",
        preferred_name="Jo",
        date_of_birth=dt.date(1985, 4, 21),
        sex="female",
        email=PATIENT_EMAIL,
        mobile_phone="+12025550199",
        address_line1="12 Willow Court",
        city="Springfield",
        state="IL",
        postal_code="62704",
        preferred_language="en",
    )
    _enroll(admin, jordan, _user(PATIENT_EMAIL, "Jordan Rivera"))

    patients: list[Patient] = []
    for i in range(19):
        values = _patient_values(rng, i, FIRST[i], LAST[i])
        patients.append(patient_create(provider, practice=practice, **values))

    # A few enrolled, one revoked, some pending (codes to read), one cancelled.
    for patient in patients[:3]:
        _enroll(admin, patient, _user(patient.email, patient.full_name))
    revoked = patients[3]
    _enroll(admin, revoked, _user(revoked.email, revoked.full_name))
    portal.access_revoke(admin, patient=revoked)
    for patient in patients[4:8]:
        portal.invitation_issue(provider, patient=patient)
    portal.invitation_resend(admin, patient=patients[7])
    portal.invitation_issue(admin, patient=patients[8])
    portal.invitation_cancel(admin, patient=patients[8])

    # Every demo patient gets a clinical record (demo.records).
    records_rng = random.Random(2027)  # noqa: S311 (demo data, not security)
    for patient in [jordan, *patients]:
        give_demo_record(
            patient, provider=provider, staff=members[Role.STAFF].user, rng=records_rng
        )
    # Schedules, and a week of appointments for each provider (demo.schedules); then past and
    # upcoming appointments for the records (demo.appointments), at the times left open.
    give_demo_schedules(
        admin,
        practice=practice,
        providers=[provider, second_provider],
        jordan=jordan,
        returning=patients,
        scheduled=_scheduled_patients(provider, practice),
    )
    for patient in [jordan, *patients]:
        give_demo_appointments(admin, patient=patient, provider=provider, rng=records_rng)
    # Messaging on, and threads between the demo patient and provider (demo.messages).
    give_demo_messages(
        admin,
        practice=practice,
        provider=provider,
        staff=members[Role.STAFF].user,
        patient=jordan,
        others=patients[:3],
    )
    # Online booking: Dr. Shah's public profile, Maya Collins's (Off), the cancellation policy
    # and two requests waiting for staff (demo.online).
    give_demo_online_booking(
        admin,
        practice=practice,
        provider=provider,
        second_provider=second_provider,
        existing=patients[1],
    )
    _auto_invite(admin, provider, practice, patients[9], patients[10])
    # Jordan's children, Sam (10) and Riley (15), whose records she sees as their parent.
    give_demo_family(
        admin,
        provider=provider,
        staff=members[Role.STAFF].user,
        parent=jordan,
        parent_account=User.objects.get(email=PATIENT_EMAIL),
        rng=rng_for_family(),
    )
    # Intake: the ready templates, sent by themselves with bookings, and forms in each state.
    give_demo_intake(admin, staff=members[Role.STAFF].user, practice=practice, jordan=jordan)
    # A patient app to connect to Jordan's record (scripts/smart_demo_client.py).
    give_demo_smart_app()
    return practice


def demo_family() -> None:
    """Give a demo database seeded before representatives existed the demo family, once."""
    practice = Practice.objects.filter(slug=DEMO_SLUG).first()
    if practice is None or not demo_family_missing(practice):
        return
    admin, provider, staff = (User.objects.filter(email=STAFF[i][0]).first() for i in range(3))
    parent = Patient.objects.filter(practice=practice, email=PATIENT_EMAIL).first()
    account = User.objects.filter(email=PATIENT_EMAIL).first()
    if None in (admin, provider, staff, parent, account):
        return
    with transaction.atomic():
        give_demo_family(
            admin,
            provider=provider,
            staff=staff,
            parent=parent,
            parent_account=account,
            rng=rng_for_family(),
        )


def demo_intake() -> None:
    """Give a demo database seeded before intake existed its templates and forms, once."""
    practice = Practice.objects.filter(slug=DEMO_SLUG).first()
    if practice is None or not demo_intake_missing(practice):
        return
    admin, staff = (User.objects.filter(email=STAFF[i][0]).first() for i in (0, 2))
    jordan = Patient.objects.filter(practice=practice, email=PATIENT_EMAIL).first()
    if None in (admin, staff, jordan):
        return
    with transaction.atomic():
        give_demo_intake(admin, staff=staff, practice=practice, jordan=jordan)


def demo_smart_app() -> None:
    """Give a demo database seeded before patient apps existed the demo app, once."""
    if demo_exists():
        give_demo_smart_app()


def _scheduled_patients(actor, practice) -> list[Patient]:
    """SCHEDULED_PATIENTS more charts with demographics only (names not used by the others)."""
    rng = random.Random(2028)  # noqa: S311 (demo data, not security)
    taken = {(FIRST[i], LAST[i]) for i in range(19)} | {("Jordan", "Rivera")}
    names = [(f, la) for f in FIRST for la in LAST if (f, la) not in taken]
    return [
        patient_create(actor, practice=practice, **_patient_values(rng, 19 + i, first, last))
        for i, (first, last) in enumerate(rng.sample(names, SCHEDULED_PATIENTS))
    ]


def _auto_invite(admin, provider, practice, signed, unsigned) -> None:
    """Auto-invite on (SPEC §5.1): one patient is invited once the seed commits, because their
    encounter is signed; another when the periodic job first runs, their encounter having
    stayed unsigned for 40 days. Skipped when no text-message backend is configured."""
    if not sms.sms_enabled():
        return  # auto-invited patients register with a texted code: no texts, no auto-invite
    practice_services.auto_invite_set(admin, practice=practice, enabled=True)
    today = dt.date.today()  # noqa: DTZ011 (a visit date)
    encounter = encounter_create(provider, patient=signed, visit_date=today, provider=provider)
    encounter_sign(provider, encounter=encounter)
    encounter_create(
        provider, patient=unsigned, visit_date=today - dt.timedelta(days=40), provider=provider
    )
