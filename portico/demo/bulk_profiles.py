"""A fast bulk generator of public online profiles and their schedules, for benchmarks
(bench/booking.py): thousands of providers across many practices, each with an online profile
the public sees, working hours, blocked times and appointments filling part of their time.

It writes straight to the tables (bulk_create; `core.bulk.insert_rows` for the charts and the
appointments through `bulk_appointments.bulk_generate_appointments`): no audit events, no
emails. A page or a test never uses it; the demo's profile goes through the services.
Deterministic for a given seed and day.

What a generated set looks like:
* practices of 1 to 30 providers (most of 2 to 12), each in one of ~30 US cities (its own time
  zone), with one to three locations in that city at different ZIP codes, the primary-care
  visit types of bulk_appointments (new patient 40 min, follow-up 20, …), an administrator
  (who attested the NPIs) and a front-desk staff member, and bare charts;
* each provider (MD, DO, NP or PA) works Monday to Friday in one of bulk_appointments' regular
  weeks at the profile's locations; practice holidays and, for about one provider in ten, a
  vacation week are blocked times;
* each provider has an online profile that is public: On, a valid NPI (Luhn with the 80840
  prefix) attested by the administrator, one to three specialties (family and internal
  medicine the most common), English and up to two more languages, the profile's locations,
  insurance plans, a short biography, two to four visit types offered online, most accepting
  new patients; `hidden` more providers have a profile the public must not see (Off, or an NPI
  nobody attested), so the search has something to leave out;
* appointments from last week's Monday to `days_ahead` days ahead, packed into the working hours
  by bulk_appointments (never overlapping, never across a break or into a blocked time): the
  busiest days (this week) to `fill` of their working time, the weeks ahead emptier (85%, 70%,
  50%, 35%, 25% of this week's), so there are open times to offer.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from portico.booking.models import ProfileLanguage, ProfileSpecialty, ProviderProfile
from portico.booking.npi import PREFIX as NPI_PREFIX
from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.demo import bulk_appointments as ba
from portico.demo.bulk_messages import bulk_patients
from portico.practices.models import Membership, Practice, Role
from portico.scheduling import calendar
from portico.scheduling.models import BlockedTime, Location, VisitType, WorkingHours

# (city, state, time zone, ZIP codes)
CITIES = (
    ("New York", "NY", "America/New_York", ("10001", "10016", "10027", "10458", "11201")),
    ("Boston", "MA", "America/New_York", ("02108", "02115", "02130")),
    ("Philadelphia", "PA", "America/New_York", ("19103", "19107", "19146")),
    ("Baltimore", "MD", "America/New_York", ("21201", "21218")),
    ("Atlanta", "GA", "America/New_York", ("30303", "30308", "30318")),
    ("Miami", "FL", "America/New_York", ("33125", "33130", "33137")),
    ("Orlando", "FL", "America/New_York", ("32801", "32806")),
    ("Charlotte", "NC", "America/New_York", ("28202", "28205")),
    ("Pittsburgh", "PA", "America/New_York", ("15213", "15222")),
    ("Columbus", "OH", "America/New_York", ("43215", "43201")),
    ("Detroit", "MI", "America/Detroit", ("48201", "48226")),
    ("Chicago", "IL", "America/Chicago", ("60601", "60611", "60614", "60622", "60637")),
    ("Springfield", "IL", "America/Chicago", ("62701", "62702", "62704")),
    ("Houston", "TX", "America/Chicago", ("77002", "77004", "77030")),
    ("Dallas", "TX", "America/Chicago", ("75201", "75204", "75219")),
    ("San Antonio", "TX", "America/Chicago", ("78205", "78212")),
    ("Austin", "TX", "America/Chicago", ("78701", "78705", "78751")),
    ("Minneapolis", "MN", "America/Chicago", ("55401", "55404")),
    ("Nashville", "TN", "America/Chicago", ("37203", "37208")),
    ("New Orleans", "LA", "America/Chicago", ("70112", "70115")),
    ("Kansas City", "MO", "America/Chicago", ("64105", "64108")),
    ("Denver", "CO", "America/Denver", ("80202", "80206", "80218")),
    ("Salt Lake City", "UT", "America/Denver", ("84101", "84111")),
    ("Albuquerque", "NM", "America/Denver", ("87102", "87106")),
    ("Phoenix", "AZ", "America/Phoenix", ("85003", "85006", "85012")),
    ("Tucson", "AZ", "America/Phoenix", ("85701", "85719")),
    ("Los Angeles", "CA", "America/Los_Angeles", ("90012", "90027", "90033", "90048")),
    ("San Diego", "CA", "America/Los_Angeles", ("92101", "92103")),
    ("San Francisco", "CA", "America/Los_Angeles", ("94102", "94110", "94115")),
    ("Seattle", "WA", "America/Los_Angeles", ("98101", "98104", "98122")),
    ("Portland", "OR", "America/Los_Angeles", ("97201", "97205")),
    ("Las Vegas", "NV", "America/Los_Angeles", ("89101", "89106")),
    ("Anchorage", "AK", "America/Anchorage", ("99501", "99503")),
    ("Honolulu", "HI", "Pacific/Honolulu", ("96813", "96814")),
)
STREETS = ("Main Street", "Oak Avenue", "Park Boulevard", "Elm Street", "Lake Drive", "Hill Road")
LOCATION_NAMES = ("Downtown clinic", "Northside clinic", "Eastside clinic")
FIRST_NAMES = (
    "Aaliyah", "Adam", "Aisha", "Alejandro", "Amara", "Andrew", "Anika", "Ben", "Beatriz",
    "Caleb", "Camila", "Carlos", "Chloe", "Daniel", "Deepa", "Diego", "Elena", "Emeka", "Emily",
    "Fatima", "Felix", "Gabriel", "Grace", "Hana", "Hassan", "Ian", "Isabel", "Jamal", "Jin",
    "Julia", "Kavya", "Kenji", "Laura", "Leila", "Liam", "Lucia", "Malik", "Maria", "Mateo",
    "Mei", "Michael", "Nadia", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Samuel",
    "Sara", "Sofia", "Tariq", "Thomas", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zoe",
    "Zhen",
)  # fmt: skip
LAST_NAMES = (
    "Abara", "Adams", "Alvarez", "Anderson", "Bakshi", "Brooks", "Castillo", "Chen", "Cohen",
    "Costa", "Diaz", "Dubois", "Evans", "Fischer", "Flores", "Garcia", "Goldberg", "Gonzalez",
    "Gupta", "Haddad", "Hall", "Hernandez", "Hoang", "Ito", "Jackson", "Jensen", "Kang", "Khan",
    "Kim", "Kowalski", "Kumar", "Lee", "Lopez", "Martin", "Mensah", "Miller", "Moreno", "Murphy",
    "Nakamura", "Nguyen", "Novak", "Nwosu", "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Perez",
    "Petrov", "Quinn", "Ramirez", "Reyes", "Rivera", "Robinson", "Rossi", "Russo", "Sato",
    "Schmidt", "Shah", "Silva", "Singh", "Smith", "Sokolov", "Suzuki", "Tanaka", "Taylor",
    "Thompson", "Torres", "Tran", "Vargas", "Walker", "Wang", "Williams", "Wilson", "Wong",
    "Wu", "Yamamoto", "Yilmaz", "Young", "Zhang",
)  # fmt: skip
CREDENTIALS = ("MD", "MD", "MD", "DO", "NP", "NP", "PA")
# Specialties by how often a provider has them (primary care first).
SPECIALTY_WEIGHTS = {
    Specialty.FAMILY_MEDICINE: 30,
    Specialty.INTERNAL_MEDICINE: 22,
    Specialty.PEDIATRICS: 12,
    Specialty.OBSTETRICS: 6,
    Specialty.WOMENS_HEALTH: 4,
    Specialty.GERIATRICS: 4,
    Specialty.CARDIOLOGY: 4,
    Specialty.DERMATOLOGY: 3,
    Specialty.PSYCHIATRY: 3,
    Specialty.ORTHOPEDICS: 3,
    Specialty.SPORTS_MEDICINE: 2,
    Specialty.ENDOCRINOLOGY: 2,
    Specialty.GASTROENTEROLOGY: 2,
    Specialty.NEUROLOGY: 2,
    Specialty.PULMONOLOGY: 1,
    Specialty.ALLERGY: 1,
    Specialty.UROLOGY: 1,
    Specialty.OPHTHALMOLOGY: 1,
}
# Languages besides English, by how often a provider speaks them.
LANGUAGE_WEIGHTS = {
    SpokenLanguage.SPANISH: 30,
    SpokenLanguage.CHINESE: 8,
    SpokenLanguage.VIETNAMESE: 5,
    SpokenLanguage.TAGALOG: 5,
    SpokenLanguage.ARABIC: 4,
    SpokenLanguage.FRENCH: 5,
    SpokenLanguage.KOREAN: 3,
    SpokenLanguage.RUSSIAN: 3,
    SpokenLanguage.PORTUGUESE: 3,
    SpokenLanguage.HAITIAN_CREOLE: 2,
    SpokenLanguage.HINDI: 4,
    SpokenLanguage.GERMAN: 2,
    SpokenLanguage.POLISH: 2,
    SpokenLanguage.ASL: 1,
}
PLANS = (
    "Aetna", "Blue Cross Blue Shield", "Cigna", "Humana", "Kaiser Permanente", "Medicaid",
    "Medicare", "Oscar", "UnitedHealthcare", "Tricare", "Ambetter", "Molina Healthcare",
)  # fmt: skip
BIOGRAPHY = (
    "{name} sees patients of all ages at {practice}, with a special interest in {interest}. "
    "{first} trained in {city} and believes in unhurried visits and plain explanations."
)
INTERESTS = (
    "preventive care", "chronic disease management", "women's health", "sports injuries",
    "healthy aging", "mental health", "diabetes care", "heart health", "children's health",
)  # fmt: skip
# Visit types a profile offers online (names from bulk_appointments.VISIT_TYPES).
ONLINE_TYPES = ("New patient", "Follow-up", "Annual physical", "Sick visit", "Telehealth")
# How full a day is relative to this week's days, by whole weeks ahead (week 0 is this week).
WEEK_FILL = (1.0, 0.85, 0.7, 0.5, 0.35, 0.25, 0.2)
PRACTICE_SIZES = (1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 8, 10, 12, 15, 20, 30)


def npi_for(number: int) -> str:
    """A valid NPI (starting with 1) from any number below 10^8."""
    body = f"1{number % 100_000_000:08d}"
    return body + luhn.calc_check_digit(NPI_PREFIX + body)


@dataclass
class Made:
    practices: int
    providers: int  # with a public profile
    hidden: int  # with a profile the public does not see
    patients: int
    appointments: int
    first_day: dt.date
    last_day: dt.date


def _week_fill(today: dt.date, busiest: float) -> Callable[[dt.date], float]:
    this_monday = today - dt.timedelta(days=today.weekday())

    def fill(day: dt.date) -> float:
        week = max(0, (day - this_monday).days // 7)
        return busiest * (WEEK_FILL[week] if week < len(WEEK_FILL) else WEEK_FILL[-1])

    return fill


def _sizes(rng: random.Random, total: int) -> list[int]:
    sizes = []
    while sum(sizes) < total:
        sizes.append(min(rng.choice(PRACTICE_SIZES), total - sum(sizes)))
    return sizes


def _weighted_sample(rng: random.Random, weights: dict, k: int) -> list:
    """k distinct keys drawn by weight."""
    keys, chosen = list(weights), []
    while len(chosen) < min(k, len(keys)):
        pick = rng.choices(keys, weights=[weights[key] for key in keys])[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def bulk_profiles(
    *,
    providers: int = 5000,
    hidden: int = 250,
    prefix: str = "bench-public-",
    password_hash: str = "!",  # noqa: S107 (an unusable password)
    patients_per_provider: int = 40,
    fill: float = 0.6,
    days_ahead: int = 35,
    seed: int = 16,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Made:
    """`providers` providers with a public online profile (and `hidden` more whose profile the
    public does not see) in practices whose slugs start with `prefix`, their schedules and
    appointments; `fill` is the share of working time the busiest days (this week's) hold."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not security)
    now = (now or timezone.now()).replace(microsecond=0)
    say = progress or (lambda _message: None)
    total = providers + hidden
    sizes = _sizes(rng, total)
    cities = [rng.choice(CITIES) for _ in sizes]

    # Practices, their locations and visit types, an administrator and a front desk each.
    with transaction.atomic():
        Practice.objects.bulk_create(
            Practice(
                name=f"{city[0]} {rng.choice(('Family', 'Community', 'Primary', 'Health'))} "
                f"{rng.choice(('Medicine', 'Care', 'Clinic', 'Partners'))} {i}",
                slug=f"{prefix}{i}",
                time_zone=city[2],
                address_line1=f"{100 + i} {rng.choice(STREETS)}",
                city=city[0],
                state=city[1],
                postal_code=city[3][0],
                phone=f"(555) 555-{i % 10000:04d}",
            )
            for i, city in enumerate(cities)
        )
    practices = list(Practice.objects.filter(slug__startswith=prefix).order_by("id"))
    practices.sort(key=lambda p: int(p.slug.removeprefix(prefix)))
    with transaction.atomic():
        Location.objects.bulk_create(
            Location(
                practice=practice,
                name=LOCATION_NAMES[j],
                address_line1=f"{200 + 10 * j + i % 90} {STREETS[(i + j) % len(STREETS)]}",
                city=city[0],
                state=city[1],
                postal_code=city[3][(i + j) % len(city[3])],
                phone=f"(555) 556-{i % 10000:04d}",
            )
            for i, (practice, city) in enumerate(zip(practices, cities, strict=True))
            for j in range(1 + (i % 3 if sizes[i] > 2 else 0))
        )
        VisitType.objects.bulk_create(
            VisitType(practice=practice, name=name, duration_minutes=minutes)
            for practice in practices
            for name, minutes, _weight in ba.VISIT_TYPES
        )
        staff_emails = [
            (practice, role, f"{prefix}{kind}{i}@bench.test")
            for i, practice in enumerate(practices)
            for kind, role in (("admin", Role.ADMINISTRATOR), ("desk", Role.STAFF))
        ]
        user_model.objects.bulk_create(
            user_model(email=email, password=password_hash, full_name=f"Bench {role.label}")
            for _p, role, email in staff_emails
        )
        staff_ids = dict(
            user_model.objects.filter(email__in=[e for *_x, e in staff_emails]).values_list(
                "email", "id"
            )
        )
        Membership.objects.bulk_create(
            Membership(user_id=staff_ids[email], practice=practice, role=role)
            for practice, role, email in staff_emails
        )
    say(f"{len(practices)} practices in {len(set(c[0] for c in cities))} cities")

    # Providers: users and memberships.
    owners: list[int] = [i for i, size in enumerate(sizes) for _ in range(size)]
    names = [
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(total)
    ]  # the same name may appear twice, as in life
    emails = [f"{prefix}p{n}@bench.test" for n in range(total)]
    credentials = [rng.choice(CREDENTIALS) for _ in range(total)]
    with transaction.atomic():
        user_model.objects.bulk_create(
            (
                user_model(email=email, password=password_hash, full_name=name)
                for email, name in zip(emails, names, strict=True)
            ),
            batch_size=2000,
        )
        user_ids = dict(
            user_model.objects.filter(email__startswith=f"{prefix}p").values_list("email", "id")
        )
        Membership.objects.bulk_create(
            (
                Membership(
                    user_id=user_ids[email],
                    practice=practices[owners[n]],
                    role=Role.PROVIDER,
                    credential=credentials[n],
                )
                for n, email in enumerate(emails)
            ),
            batch_size=2000,
        )
    say(f"{total} providers")

    # Working hours and blocked times; the Book bulk_appointments packs appointments into.
    zones = {p.pk: zoneinfo.ZoneInfo(p.time_zone) for p in practices}
    today = now.astimezone(zones[practices[0].pk]).date()
    first_day = today - dt.timedelta(days=today.weekday() + 7)
    last_day = today + dt.timedelta(days=days_ahead)
    holidays = ba._holidays(first_day, last_day)  # noqa: SLF001 (the same package)
    locations: dict[int, list[int]] = {}
    for practice_id, location_id in Location.objects.filter(practice__in=practices).values_list(
        "practice_id", "id"
    ):
        locations.setdefault(practice_id, []).append(location_id)
    for ids in locations.values():
        ids.sort()
    types: dict[int, dict[str, VisitType]] = {}
    for visit_type in VisitType.objects.filter(practice__in=practices):
        types.setdefault(visit_type.practice_id, {})[visit_type.name] = visit_type
    mondays = [first_day + dt.timedelta(weeks=w) for w in range((last_day - first_day).days // 7)]
    hours, blocked = [], []
    books: dict[int, ba.Book] = {}
    provider_locations: dict[int, list[int]] = {}
    for n, email in enumerate(emails):
        practice = practices[owners[n]]
        user_id = user_ids[email]
        places = locations[practice.pk]
        # One location, or two: the second on Tuesdays and Thursdays.
        mine = (
            places[:1]
            if len(places) == 1 or n % 2 == 0
            else [places[0], places[n % len(places) or 1]]
        )
        provider_locations[user_id] = sorted(set(mine))
        week: dict[int, list[calendar.Stretch]] = {}
        for weekday, stretches in ba.WEEKS[n % len(ba.WEEKS)].items():
            where = mine[-1] if weekday in (1, 3) else mine[0]
            week[weekday] = [
                calendar.Stretch(weekday, dt.time(*start), dt.time(*end), where)
                for start, end in stretches
            ]
            hours.extend(
                WorkingHours(
                    practice=practice,
                    provider_id=user_id,
                    weekday=weekday,
                    start_time=s.start_time,
                    end_time=s.end_time,
                    location_id=s.location_id,
                )
                for s in week[weekday]
            )
        provider_book = ba.ProviderBook(user_id, week)
        if rng.random() < 0.1:
            monday = rng.choice(mondays)
            friday = monday + dt.timedelta(days=4)
            provider_book.days_off |= {monday + dt.timedelta(days=i) for i in range(5)}
            blocked.append((practice, user_id, monday, friday, "Vacation"))
        book = books.get(practice.pk)
        if book is None:
            book = books[practice.pk] = ba.Book(
                practice.pk,
                zones[practice.pk],
                [
                    (types[practice.pk][name].pk, name, minutes, weight)
                    for name, minutes, weight in ba.VISIT_TYPES
                ],
                [],
                holidays,
            )
        book.providers.append(provider_book)
    for practice in practices:
        for day in sorted(holidays):
            blocked.append((practice, None, day, day, "Practice closed"))
    with transaction.atomic():
        WorkingHours.objects.bulk_create(hours, batch_size=5000)
        BlockedTime.objects.bulk_create(
            (
                BlockedTime(
                    practice=practice,
                    provider_id=provider_id,
                    start_at=calendar.day_bounds(start, zones[practice.pk])[0],
                    end_at=calendar.day_bounds(end, zones[practice.pk])[1],
                    label=label,
                )
                for practice, provider_id, start, end, label in blocked
            ),
            batch_size=5000,
        )
    say(f"{len(hours)} working-hours stretches, {len(blocked)} blocked times")

    # Online profiles: public ones, then the hidden ones (Off, or the NPI not attested).
    numbers = rng.sample(range(10000, 100000), total)
    taken = set(ProviderProfile.objects.values_list("number", flat=True))
    numbers = [str(x) for x in numbers if str(x) not in taken]
    admins = {
        practice.pk: staff_ids[f"{prefix}admin{i}@bench.test"]
        for i, practice in enumerate(practices)
    }
    profiles = []
    for n, email in enumerate(emails):
        practice = practices[owners[n]]
        public = n < providers
        off = not public and n % 2 == 0
        first_name = names[n].split()[0]
        plans = rng.sample(PLANS, rng.randint(3, 8))
        profiles.append(
            ProviderProfile(
                practice=practice,
                provider_id=user_ids[email],
                number=numbers[n],
                is_on=not off,
                first_public_at=now - dt.timedelta(days=rng.randint(1, 700)) if public else None,
                npi=npi_for(seed * 1_000_003 + n),
                npi_attested_by_id=admins[practice.pk] if public or off else None,
                npi_attested_at=now - dt.timedelta(days=rng.randint(1, 700))
                if public or off
                else None,
                biography=BIOGRAPHY.format(
                    name=names[n],
                    practice=practice.name,
                    interest=rng.choice(INTERESTS),
                    first=first_name,
                    city=rng.choice(CITIES)[0],
                ),
                insurance_accepted="\n".join(sorted(plans)),
                accepts_new_patients=rng.random() < 0.8,
            )
        )
    with transaction.atomic():
        ProviderProfile.objects.bulk_create(profiles, batch_size=2000)
        profile_ids = dict(
            ProviderProfile.objects.filter(practice__in=practices).values_list("provider_id", "id")
        )
        specialties, languages, places, offered = [], [], [], []
        location_link = ProviderProfile.locations.through
        type_link = ProviderProfile.online_visit_types.through
        for n, email in enumerate(emails):
            user_id = user_ids[email]
            profile_id = profile_ids[user_id]
            practice = practices[owners[n]]
            count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
            specialties.extend(
                ProfileSpecialty(profile_id=profile_id, code=code)
                for code in _weighted_sample(rng, SPECIALTY_WEIGHTS, count)
            )
            spoken = [SpokenLanguage.ENGLISH] + _weighted_sample(
                rng, LANGUAGE_WEIGHTS, rng.choices((0, 1, 2), weights=(55, 35, 10))[0]
            )
            languages.extend(ProfileLanguage(profile_id=profile_id, code=code) for code in spoken)
            places.extend(
                location_link(providerprofile_id=profile_id, location_id=location_id)
                for location_id in provider_locations[user_id]
            )
            online = rng.sample(ONLINE_TYPES, rng.randint(2, 4))
            offered.extend(
                type_link(providerprofile_id=profile_id, visittype_id=types[practice.pk][name].pk)
                for name in online
            )
        ProfileSpecialty.objects.bulk_create(specialties, batch_size=5000)
        ProfileLanguage.objects.bulk_create(languages, batch_size=5000)
        location_link.objects.bulk_create(places, batch_size=5000)
        type_link.objects.bulk_create(offered, batch_size=5000)
    say(f"{len(profiles)} profiles ({providers} public, {hidden} hidden)")

    # Charts and appointments, practice by practice.
    patients_made = 0
    appointments_made = 0
    fill_of = _week_fill(today, 1.0)
    mean = sum(m * w for _n, m, w in ba.VISIT_TYPES) / sum(w for *_x, w in ba.VISIT_TYPES)
    for i, practice in enumerate(practices):
        book = books[practice.pk]
        count = patients_per_provider * len(book.providers)
        bulk_patients(practice, count=count, start=2_000_000 + patients_made)
        patients_made += count
        patient_ids = list(
            practice.patients.order_by("id").values_list("id", flat=True)
        )  # the practice's own, just made
        days = ba._days(book, first_day, last_day, fill_of)  # noqa: SLF001 (the same package)
        whole = sum(d.weight for d in days)
        # As many as fill the busiest days (weight/minutes = 1) to `fill` of their time.
        held = int(fill * whole / mean)
        wanted = round(held / (1 - 0.06))
        appointments_made += ba.bulk_generate_appointments(
            book,
            patients=patient_ids,
            appointments=wanted,
            first_day=first_day,
            last_day=last_day,
            fill=fill_of,
            now=now,
            seed=seed + i,
            batch_size=10000,
        )
        if (i + 1) % 50 == 0 or i + 1 == len(practices):
            say(f"{i + 1} practices' appointments: {appointments_made:,}")
    return Made(
        len(practices), providers, hidden, patients_made, appointments_made, first_day, last_day
    )
