"""The rules of seeing a record on someone's behalf (SPEC §9): what a representative's access
allows as the patient grows up, and what every portal page may show for an access.

A parent's or legal guardian's access narrows on the patient's birthday of the practice's
`representative_narrow_age` (12 by default: no messages, no access log entries of the
patient's own reads) and, when it was given to a minor's parent, ends on the birthday of
`representative_end_age` (18) unless the adult patient renews it. Every representative, at
every age, is kept from the items a provider marks confidential from representatives, and
never sees more than the patient could. Birthdays and end dates count in the practice's time
zone; a patient born on 29 February has their birthday on 1 March in other years. Everything
here is computed on each request, so a transition takes effect on the next request of a
representative already signed in.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.portal.models import PARENTAL, AccessState, Relationship


def practice_today(practice) -> dt.date:
    """Today's date where the practice is."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(practice.time_zone)).date()


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Whole years from `date_of_birth` to `day` (29 February counts from 1 March)."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def birthday_at_age(date_of_birth: dt.date, years: int) -> dt.date:
    """The day the patient turns `years` (1 March for 29 February in other years)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # 29 February, not a leap year
        return dt.date(date_of_birth.year + years, 3, 1)


def _parental(representative) -> bool:
    return representative.relationship in PARENTAL


def _local_date(moment: dt.datetime, practice) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(practice.time_zone)).date()


def came_of_age(representative, today: dt.date | None = None) -> bool:
    """Whether a parent's or guardian's access ended with the patient's coming of age: it was
    given before that birthday, the birthday has come, and the adult patient has not renewed
    it since. (A guardian the practice invites for an adult patient is not ended by age.)"""
    day = coming_of_age_day(representative)
    return day is not None and (today or practice_today(representative.practice)) >= day


def has_ended(representative, today: dt.date | None = None) -> bool:
    """Past its end date, or ended by the patient's coming of age."""
    today = today or practice_today(representative.practice)
    if representative.ends_on is not None and today > representative.ends_on:
        return True
    return came_of_age(representative, today)


def is_narrowed(representative, today: dt.date | None = None) -> bool:
    """A parent's or guardian's access to an adolescent's record: from the narrowing birthday
    to the coming of age."""
    if not _parental(representative):
        return False
    patient, practice = representative.patient, representative.practice
    age = age_on(patient.date_of_birth, today or practice_today(practice))
    return practice.representative_narrow_age <= age < practice.representative_end_age


@dataclass(frozen=True)
class Scope:
    """What a portal page may show through one access."""

    confidential: bool  # items marked confidential from representatives
    messages: bool  # the patient's messages with the practice
    own_reads_in_log: bool  # the access log's entries of the patient's own reads


PATIENT_SCOPE = Scope(confidential=True, messages=True, own_reads_in_log=True)
REPRESENTATIVE_SCOPE = Scope(confidential=False, messages=True, own_reads_in_log=True)
ADOLESCENT_SCOPE = Scope(confidential=False, messages=False, own_reads_in_log=False)


def scope_of(access) -> Scope:
    """The scope of an active access: the patient's own, or a representative's."""
    if not getattr(access, "is_representative", False):
        return PATIENT_SCOPE
    return ADOLESCENT_SCOPE if is_narrowed(access) else REPRESENTATIVE_SCOPE


def viewing_line(access) -> str:
    """The portal header's line saying whose record is open and as whom."""
    if not getattr(access, "is_representative", False):
        return gettext("Viewing your record")
    return gettext("Viewing %(name)s's record — you are their %(relationship)s") % {
        "name": access.patient.full_name,
        "relationship": relationship_noun(access.relationship),
    }


# The relationship as it reads in a sentence ("you are their parent").
RELATIONSHIP_NOUNS = {
    Relationship.PARENT: _("parent"),
    Relationship.GUARDIAN: _("legal guardian"),
    Relationship.SPOUSE: _("spouse or partner"),
    Relationship.ADULT_CHILD: _("adult child"),
    Relationship.CAREGIVER: _("caregiver"),
    Relationship.OTHER: _("representative"),
}


def relationship_noun(relationship: str) -> str:
    return str(RELATIONSHIP_NOUNS.get(relationship, RELATIONSHIP_NOUNS[Relationship.OTHER]))


def is_active(access) -> bool:
    return access.effective_state == AccessState.ACTIVE


# --- What the portal pages show about representatives (SPEC §9.2–9.4) -----------------------


def coming_of_age_day(representative) -> dt.date | None:
    """The day a parent's or guardian's access ends (or ended) with the patient's coming of
    age: None when age does not end it (another relationship, access given to an adult, or
    renewed by the adult patient since)."""
    if not _parental(representative):
        return None
    patient, practice = representative.patient, representative.practice
    of_age = birthday_at_age(patient.date_of_birth, practice.representative_end_age)
    if _local_date(representative.created_at, practice) >= of_age:
        return None
    renewed = representative.renewed_at
    if renewed is not None and _local_date(renewed, practice) >= of_age:
        return None
    return of_age


def is_endable(representative) -> bool:
    """Whether the patient can end this representative's access now: it is active or its
    invitation is pending (portal.services.representative_end)."""
    return representative.effective_state in (AccessState.ACTIVE, AccessState.INVITED)


def is_renewable(representative) -> bool:
    """Whether the adult patient can renew it: access that ended with their coming of age
    (portal.services.representative_renew)."""
    return representative.state == AccessState.ACTIVE and came_of_age(representative)


def may_manage_representatives(access) -> bool:
    """Whether the holder of `access` may end or renew representatives' access: the patient's
    own access (never a representative's) of a patient of the practice's narrowing age (12) or
    older; a younger child's representatives are the practice's and the parents' to change."""
    if getattr(access, "is_representative", False):
        return False
    patient, practice = access.patient, access.practice
    return age_on(patient.date_of_birth, practice_today(practice)) >= (
        practice.representative_narrow_age
    )


def record_label(access) -> str:
    """One of the account's records as the switcher and the portal home name it."""
    if not getattr(access, "is_representative", False):
        return gettext("Your record at %(practice)s") % {"practice": access.practice.name}
    return gettext("%(name)s's record at %(practice)s (you are their %(relationship)s)") % {
        "name": access.patient.full_name,
        "practice": access.practice.name,
        "relationship": relationship_noun(access.relationship),
    }


# The relationship as the patient reads it in their access log ("Your parent").
YOUR_RELATIONSHIP = {
    Relationship.PARENT: _("Your parent"),
    Relationship.GUARDIAN: _("Your legal guardian"),
    Relationship.SPOUSE: _("Your spouse or partner"),
    Relationship.ADULT_CHILD: _("Your adult child"),
    Relationship.CAREGIVER: _("Your caregiver"),
    Relationship.OTHER: _("Your representative"),
}


def your_relationship(relationship: str) -> str:
    return str(YOUR_RELATIONSHIP.get(relationship, YOUR_RELATIONSHIP[Relationship.OTHER]))
