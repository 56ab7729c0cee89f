"""The demo family (SPEC §9): Jordan Rivera, the demo patient, is the parent and authorized
representative of her two children at the demo practice, Sam (10) and Riley (15), and sees
all three records from her one account. Riley is past the practice's narrowing age, so
Jordan's access to Riley's record is an adolescent's parent's: no messages, and nothing the
provider marked confidential from representatives (Riley's record has such a problem, which
Riley sees and Jordan does not).

Made through the services staff and patients use: staff invite Jordan as each child's
representative, and she links each invitation to her own account as the registration page
does. Ages are counted back from today, so the children stay 10 and 15.
"""

from __future__ import annotations

import datetime as dt
import random

from portico.charts.models import Patient, Problem
from portico.charts.services import item_create, patient_create
from portico.demo.appointments import give_demo_appointments
from portico.demo.records import give_demo_record
from portico.portal import registration
from portico.portal import services as portal
from portico.portal.models import Relationship, Representative

# (first name, age in years, extra days past the last birthday, sex)
CHILDREN = [("Sam", 10, 97, "male"), ("Riley", 15, 211, "female")]
# The teenager's record holds a problem the provider marked confidential from representatives.
CONFIDENTIAL_FROM_AGE = 12
CONFIDENTIAL_PROBLEM = "F41.9"  # ICD-10-CM: anxiety disorder, unspecified


def _born(years: int, days: int) -> dt.date:
    today = dt.date.today()  # noqa: DTZ011 (a birth date, no time of day)
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = dt.date(today.year - years, 3, 1)
    return birthday - dt.timedelta(days=days)


def give_demo_family(admin, *, provider, staff, parent: Patient, parent_account, rng) -> list:
    """The parent's children, each with a record and appointments, and the parent enrolled as
    their representative on her own account. Returns the representatives."""
    practice = parent.practice
    representatives = []
    for first, years, days, sex in CHILDREN:
        child = patient_create(
            provider,
            practice=practice,
            legal_first_name=first,
            legal_last_name=parent.legal_last_name,
            date_of_birth=_born(years, days),
            sex=sex,
            address_line1=parent.address_line1,
            city=parent.city,
            state=parent.state,
            postal_code=parent.postal_code,
            preferred_language=parent.preferred_language,
        )
        give_demo_record(child, provider=provider, staff=staff, rng=rng)
        give_demo_appointments(admin, patient=child, provider=provider, rng=rng)
        if years >= CONFIDENTIAL_FROM_AGE:
            # Shared with the teenager, kept from the parent (SPEC §9.3).
            item_create(
                provider,
                patient=child,
                model=Problem,
                code=CONFIDENTIAL_PROBLEM,
                recorded_on=dt.date.today() - dt.timedelta(days=40),  # noqa: DTZ011
                shared_with_patient=True,
                confidential_from_representatives=True,
            )
        representative = portal.representative_invite(
            admin,
            patient=child,
            name=parent.full_name,
            relationship=Relationship.PARENT,
            email=parent.email,
            phone=parent.mobile_phone,
        )
        registration.registration_link_account(
            parent_account, invitation_id=str(representative.current_invitation.public_id)
        )
        representatives.append(representative)
    return representatives


def demo_family_missing(practice) -> bool:
    """Whether a demo database seeded before representatives existed lacks the family."""
    return not Representative.objects.filter(practice=practice).exists()


def rng_for_family() -> random.Random:
    return random.Random(2029)  # noqa: S311 (demo data, not security)
