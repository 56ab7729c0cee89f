"""The data the browser tests start from, and the facts they expect to see.

`seed()` runs inside the server's own environment (`portico shell`), never in the
test process: the e2e tests talk to the running servers only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRACTICE_NAME = "Riverside Family Medicine"
PRACTICE_PHONE = "(217) 555-0100"

STAFF_EMAIL = "ada.admin@riverside.test"
STAFF_PASSWORD = "correct horse battery staple"  # tests.factories.PASSWORD
# The administrator's authenticator app (base32); the tests compute its codes with pyotp.
STAFF_TOTP_SECRET = "RIVERSIDEADMINE2ERIVERSIDEADMINE"
# A staff member who has never signed in: sets up an authenticator app first.
NEW_STAFF_EMAIL = "nia.newcomer@riverside.test"

PATIENT_PASSWORD = "blue lanterns over a quiet harbor"

# A provider (signs encounters) with an authenticator app; test_health_record.py.
PROVIDER_EMAIL = "paz.provider@riverside.test"
PROVIDER_NAME = "Paz Provider"
PROVIDER_TOTP_SECRET = "RIVERSIDEPROVIDERE2ERIVERSIDEPRO"


@dataclass(frozen=True)
class Chart:
    first_name: str
    last_name: str
    date_of_birth: dt.date
    email: str
    mobile_phone: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def list_label(self) -> str:
        """How the patient list shows the chart: "Last, First"."""
        return f"{self.last_name}, {self.first_name}"


# One chart per test, so the tests do not depend on each other's order.
ROBIN = Chart(
    "Robin", "Enrollwell", dt.date(1984, 7, 9), "robin.enrollwell@example.test", "+12175550188"
)
LEE = Chart("Lee", "Lockhart", dt.date(1979, 11, 23), "lee.lockhart@example.test", "+12175550177")
# Her mail server refuses the enrollment email (test_troubleshooter.py).
BLAIR = Chart(
    "Blair", "Bounceback", dt.date(1972, 3, 3), "blair.bounceback@example.test", "+12175550155"
)
# Enrolled already, with PATIENT_PASSWORD (forgets it in test_password_reset.py).
SAM = Chart("Sam", "Resetwell", dt.date(1990, 2, 14), "sam.resetwell@example.test", "+12175550166")
# Registered already (password STAFF_PASSWORD): signs in from a new device with an emailed code.
MAE = Chart("Mae", "Codewell", dt.date(1992, 6, 3), "mae.codewell@example.test", "+12175550155")
# Enrolled already, with PATIENT_PASSWORD: her provider records a visit she then reads, downloads
# and sends (test_health_record.py).
HARPER = Chart(
    "Harper", "Labwell", dt.date(1968, 10, 30), "harper.labwell@example.test", "+12175550144"
)

# Enrolled already, with PATIENT_PASSWORD: the administrator sets PROVIDER_NAME's hours, books
# her a visit and moves it; she sees it in her record and downloads its calendar file
# (test_appointment_book.py).
ARI = Chart("Ari", "Bookwell", dt.date(1987, 9, 14), "ari.bookwell@example.test", "+12175550145")
# The visit type the story books (one of demo.appointments.VISIT_TYPES, which the seed adds).
BOOK_VISIT_TYPE = "Follow-up"
BOOK_VISIT_MINUTES = 20

# Registers and signs in with the keyboard alone (test_keyboard.py).
KAI = Chart("Kai", "Keyboard", dt.date(1988, 5, 17), "kai.keyboard@example.test", "+12175550133")
# Registers and reads a full record on a 320 px wide screen (test_small_screens.py).
WREN = Chart(
    "Wren", "Widthwell", dt.date(1958, 9, 12), "wren.widthwell@example.test", "+12175550122"
)

# Prefers Spanish: invited, registers and reads a full record in Spanish (test_spanish.py).
LUCIA = Chart("Lucía", "Ramírez", dt.date(1975, 4, 8), "lucia.ramirez@example.test", "+12175550111")
# Registered already (PATIENT_PASSWORD), no preferred language on the chart: chooses Spanish on
# the sign-in page, then forgets the password (test_spanish.py).
MATEO = Chart("Mateo", "Olvido", dt.date(1983, 8, 21), "mateo.olvido@example.test", "+12175550100")

# Secure messaging (test_messaging.py): a practice of its own with messaging on, like the demo
# practice, so that turning messaging off there changes nothing for the other tests.
MSG_PRACTICE_NAME = "Lakeside Family Practice"
MSG_PRACTICE_PHONE = "(217) 555-0170"
MSG_ADMIN_EMAIL = "lina.admin@lakeside.test"
MSG_ADMIN_TOTP_SECRET = "LAKESIDEADMINETWOELAKESIDEADMINE"
# The provider patients write to (an MD: SPEC §7.2), with an authenticator app.
MSG_PROVIDER_EMAIL = "mori.md@lakeside.test"
MSG_PROVIDER_NAME = "Dr. Ren Mori"
MSG_PROVIDER_TOTP_SECRET = "LAKESIDEPROVIDERLAKESIDEPROVIDER"
# A thyroid medicine shared with each messaging patient (the renewal request page lists it).
MSG_MEDICATION = "levothyroxine"
# Enrolled already, with PATIENT_PASSWORD: writes to the provider with a PDF attached.
REMY = Chart(
    "Remy", "Writewell", dt.date(1985, 4, 21), "remy.writewell@example.test", "+12175550135"
)
# Enrolled already, with PATIENT_PASSWORD; her chart prefers Spanish: reads and writes in Spanish.
SOFIA = Chart(
    "Sofía", "Escribano", dt.date(1979, 1, 30), "sofia.escribano@example.test", "+12175550136"
)

# A family at the messaging practice (test_family_access.py): DANA, enrolled already with
# PATIENT_PASSWORD, is the mother of THEO, who has no portal access and turns 12 in
# THEO_BIRTHDAY_IN_DAYS days. Theo's record holds a shared problem and a shared one the
# provider marked confidential from representatives.
DANA = Chart(
    "Dana", "Familywell", dt.date(1986, 2, 3), "dana.familywell@example.test", "+12175550137"
)
THEO_BIRTHDAY_IN_DAYS = 20
THEO_SHARED_PROBLEM = "Unspecified asthma"
THEO_CONFIDENTIAL_PROBLEM = "Anxiety disorder"


def theo() -> Chart:
    """Theo's chart: his 12th birthday is THEO_BIRTHDAY_IN_DAYS days from today."""
    birthday = dt.date.today() + dt.timedelta(days=THEO_BIRTHDAY_IN_DAYS)  # noqa: DTZ011
    born = birthday.replace(year=birthday.year - 12)
    return Chart("Theo", "Familywell", born, "", "")


# Online booking (test_online_booking.py) runs on the demo practice exactly as `make demo` seeds
# it (portico/demo/seed.py, demo/online.py): Dr. Shah's public profile, the demo sign-ins.
DEMO_PRACTICE_NAME = "Demo Family Practice"
DEMO_PASSWORD = "portico-demo"  # demo.seed.DEMO_PASSWORD
DEMO_ADMIN_EMAIL = "admin@demo.portico.test"
DEMO_ADMIN_TOTP_SECRET = "PORTICODEMOADMINPORTICODEMOADMIN"  # demo.seed.STAFF_TOTP_SECRETS
DEMO_PROVIDER_NAME = "Dr. Priya Shah"
DEMO_PROVIDER_EMAIL = "provider@demo.portico.test"
# The demo's enrolled patient (password DEMO_PASSWORD): books online as an existing patient.
JORDAN = Chart(
    "Jordan", "Rivera", dt.date(1985, 4, 21), "patient@demo.portico.test", "+12025550199"
)
# A patient of the demo practice whose chart prefers Spanish, enrolled with PATIENT_PASSWORD,
# with a confirmed follow-up with Dr. Shah about ten days ahead: finds and books in Spanish,
# then reschedules, takes the request back and cancels in the portal.
INES = Chart("Inés", "Lozano", dt.date(1969, 2, 11), "ines.lozano@example.test", "+12175550123")
INES_VISIT_REASON = "Control de la presión arterial"
INES_DAYS_AHEAD = 10

# A patient of the demo practice without portal access, with a confirmed follow-up with Dr. Shah
# about twelve days ahead: staff send her the follow-up check-in form, which she fills in through
# its emailed link (test_intake.py).
NOOR = Chart("Noor", "Linkwell", dt.date(1991, 10, 2), "noor.linkwell@example.test", "+12175550122")
NOOR_DAYS_AHEAD = 12

# Charts only the bulk invite test touches: born on BULK_BIRTH_DATE, which no other chart is.
BULK_BIRTH_DATE = dt.date(1931, 1, 2)
BULK_CHARTS = 240


def seed() -> None:
    """A practice, an administrator who may invite patients, and the charts above."""
    from tests import factories

    practice = factories.make_practice(
        PRACTICE_NAME,
        slug="riverside-family-medicine",
        phone=PRACTICE_PHONE,
        address_line1="12 Mill Street",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="America/Chicago",
    )
    admin = factories.make_admin(practice, email=STAFF_EMAIL, full_name="Ada Admin")
    factories.give_authenticator(admin, STAFF_TOTP_SECRET)
    factories.make_staff(practice, email=NEW_STAFF_EMAIL, full_name="Nia Newcomer")
    for chart in (ROBIN, LEE, BLAIR, KAI):
        _chart(practice, chart)
    sam = _chart(practice, SAM)
    admin = practice.memberships.get(user__email=STAFF_EMAIL).user
    _enroll_with_password(admin, sam)
    from portico.charts.models import Patient

    Patient.objects.bulk_create(
        Patient(
            practice=practice,
            legal_first_name="Bulk",
            legal_last_name=f"Invitee{i:03d}",
            date_of_birth=BULK_BIRTH_DATE,
            email=f"bulk.invitee{i}@example.test",
        )
        for i in range(BULK_CHARTS)
    )
    mae = _chart(practice, MAE)
    factories.enroll(admin, mae)
    provider = factories.make_staff(
        practice, role="provider", email=PROVIDER_EMAIL, full_name=PROVIDER_NAME
    )
    factories.give_authenticator(provider, PROVIDER_TOTP_SECRET)
    harper = _chart(practice, HARPER)
    mateo = _chart(practice, MATEO)
    _enroll_with_password(admin, mateo)
    _enroll_with_password(admin, harper)
    _seed_full_record(practice, admin, provider)
    _seed_appointment_book(practice, admin)
    _seed_messaging()
    _seed_demo()


def _chart(practice, chart: Chart, **fields):
    """The chart of one of the people above (name, date of birth, email, phone), with `fields`."""
    from tests import factories

    return factories.make_patient(
        practice,
        legal_first_name=chart.first_name,
        legal_last_name=chart.last_name,
        date_of_birth=chart.date_of_birth,
        email=chart.email,
        mobile_phone=chart.mobile_phone,
        **fields,
    )


def _enroll_with_password(admin, patient) -> None:
    """Register the chart with an account whose password is PATIENT_PASSWORD."""
    from tests import factories

    account = factories.enroll(admin, patient)
    account.set_password(PATIENT_PASSWORD)
    account.save(update_fields=["password"])


def _seed_full_record(practice, admin, provider) -> None:
    """WREN, not invited yet, with years of care shared (every section of the record filled)."""
    import random

    from portico.demo.appointments import give_demo_appointments
    from portico.demo.records import give_demo_record

    wren = _chart(
        practice,
        WREN,
        address_line1="4021 Long Meadow Crossing Road, Apartment 12B",
        city="Springfield",
        state="IL",
        postal_code="62704",
    )
    rng = random.Random(38)  # diabetes, hypertension, hypothyroidism: many labs
    give_demo_record(wren, provider=provider, staff=admin, rng=rng)
    give_demo_appointments(admin, patient=wren, provider=provider, rng=rng)

    lucia = _chart(practice, LUCIA, preferred_language="es")
    rng = random.Random(7)
    give_demo_record(lucia, provider=provider, staff=admin, rng=rng)
    give_demo_appointments(admin, patient=lucia, provider=provider, rng=rng)


def _seed_appointment_book(practice, admin) -> None:
    """The practice's visit types (no working hours: the story sets them) and ARI enrolled."""
    from portico.demo.appointments import visit_types

    visit_types(admin, practice)
    _enroll_with_password(admin, _chart(practice, ARI))


def _seed_messaging() -> None:
    """The messaging practice (messaging on), its administrator and MD provider, and REMY and
    SOFIA enrolled there, each with a shared current medication."""
    from portico.charts.models import Medication
    from portico.charts.services import item_create
    from portico.practices.services import messaging_settings_set
    from tests import factories

    practice = factories.make_practice(
        MSG_PRACTICE_NAME,
        slug="lakeside-family-practice",
        phone=MSG_PRACTICE_PHONE,
        address_line1="5 Shore Road",
        city="Springfield",
        state="IL",
        postal_code="62702",
        time_zone="America/Chicago",
    )
    admin = factories.make_admin(practice, email=MSG_ADMIN_EMAIL, full_name="Lina Admin")
    factories.give_authenticator(admin, MSG_ADMIN_TOTP_SECRET)
    provider = factories.make_staff(
        practice,
        role="provider",
        credential="MD",
        email=MSG_PROVIDER_EMAIL,
        full_name=MSG_PROVIDER_NAME,
    )
    factories.give_authenticator(provider, MSG_PROVIDER_TOTP_SECRET)
    messaging_settings_set(admin, practice=practice, enabled=True)
    _seed_family(practice, admin, provider)
    for chart, fields in ((REMY, {}), (SOFIA, {"preferred_language": "es"})):
        patient = _chart(practice, chart, **fields)
        _enroll_with_password(admin, patient)
        item_create(
            admin,
            patient=patient,
            model=Medication,
            code="10582",
            instructions="50 mcg by mouth every morning before breakfast",
            recorded_on=dt.date(2023, 3, 1),
        )


def _seed_family(practice, admin, provider) -> None:
    """DANA enrolled; THEO not invited, with a shared problem and a confidential one."""
    from portico.charts.models import Problem
    from portico.charts.services import item_create

    _enroll_with_password(admin, _chart(practice, DANA))
    child = theo()
    son = _chart(practice, child)
    for code, confidential in (("J45.909", False), ("F41.9", True)):
        item_create(
            provider,
            patient=son,
            model=Problem,
            code=code,
            recorded_on=dt.date.today() - dt.timedelta(days=60),  # noqa: DTZ011
            shared_with_patient=True,
            confidential_from_representatives=confidential,
        )


def _seed_demo() -> None:
    """The demo practice as `make demo` seeds it, and INES (Spanish) with a confirmed visit."""
    import random

    from django.utils import timezone

    from portico.demo.appointments import book_first_open
    from portico.demo.seed import seed_demo
    from portico.scheduling.models import VisitType

    practice = seed_demo()
    admin = practice.memberships.get(user__email=DEMO_ADMIN_EMAIL).user
    provider = practice.memberships.get(user__email=DEMO_PROVIDER_EMAIL).user
    ines = _chart(practice, INES, preferred_language="es")
    _enroll_with_password(admin, ines)
    first_day = timezone.localdate() + dt.timedelta(days=INES_DAYS_AHEAD)
    book_first_open(
        admin,
        patient=ines,
        provider=provider,
        visit_type=VisitType.objects.get(practice=practice, name="Follow-up"),
        first_day=first_day,
        not_before=dt.time(9, 0),
        reason=INES_VISIT_REASON,
        rng=random.Random(16),  # noqa: S311 (test data)
    )
    book_first_open(
        admin,
        patient=_chart(practice, NOOR),
        provider=provider,
        visit_type=VisitType.objects.get(practice=practice, name="Follow-up"),
        first_day=timezone.localdate() + dt.timedelta(days=NOOR_DAYS_AHEAD),
        not_before=dt.time(9, 0),
        reason="Check-up",
        rng=random.Random(18),  # noqa: S311 (test data)
    )
