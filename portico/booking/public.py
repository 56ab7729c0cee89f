"""What the public pages read and build (SPEC §8.3–8.4): the provider search, a profile with
what its page shows, the open times grouped by day, the schema.org data, the embed's framing
policy, the sitemap and robots.txt.

Every read starts from `selectors.public_profiles()`, so a profile that is Off (or no longer
qualifies) is in none of them. Reads are a fixed number of queries whatever the number of
profiles on a page: specialties, languages, locations and visit types are prefetched, the
credential (which the address and the title carry) is annotated. Open times are never cached:
they are computed from the live schedule on each request, so a change shows at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from portico.booking import selectors
from portico.booking.models import ProfileLanguage, ProfileSpecialty, ProviderProfile
from portico.booking.services import BOOKING_DAYS
from portico.booking.vocabulary import Specialty, SpokenLanguage, label_of
from portico.core.security import build_policy
from portico.practices.models import Membership
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.models import Location, VisitType
from portico.scheduling.services import zone_of

# Profiles on one page of search results.
PAGE_SIZE = 20
# Days with open times the profile page shows for each visit type (the booking page has all).
PROFILE_DAYS = 3
# Days of open times the booking page shows at once ("Later times" pages through the rest).
WEEK = 7

ZIP_CODE = re.compile(r"^(\d{5})(?:-\d{4})?$")


# --- Reads ---------------------------------------------------------------------------------------


def _credential() -> Subquery:
    """The provider's credential at the profile's practice (MD, DO, NP, PA)."""
    return Subquery(
        # Without the membership's default ordering: a sort per row for nothing.
        Membership.objects.filter(practice=OuterRef("practice"), user=OuterRef("provider"))
        .order_by()
        .values("credential")[:1]
    )


def _locations() -> Prefetch:
    return Prefetch(
        "locations",
        queryset=Location.objects.filter(is_active=True).order_by("name", "id"),
        to_attr="public_locations",
    )


def listed_profiles() -> QuerySet[ProviderProfile]:
    """Public profiles with what a list of them shows: credential, specialties, languages and
    active locations (one query each, whatever the number of profiles)."""
    return (
        selectors.public_profiles()
        .annotate(credential=_credential())
        .prefetch_related("specialties", "languages", _locations())
    )


def _with_visit_types(profiles: QuerySet[ProviderProfile]) -> QuerySet[ProviderProfile]:
    return profiles.prefetch_related(
        Prefetch(
            "online_visit_types",
            queryset=VisitType.objects.filter(is_active=True).order_by("name", "id"),
            to_attr="offered_types",
        )
    )


def profile_for_page(number: str) -> ProviderProfile | None:
    """The public profile with this number, with everything its pages show, else None."""
    return _with_visit_types(listed_profiles()).filter(number=number).first()


def profile_for_booking(booking_id) -> ProviderProfile | None:
    """The public profile whose embeddable booking page this is, else None."""
    return _with_visit_types(listed_profiles()).filter(booking_id=booking_id).first()


@dataclass(frozen=True)
class SearchCriteria:
    name: str = ""
    specialty: str = ""
    place: str = ""
    language: str = ""
    new_patients: bool = False


def _place(place: str) -> Q:
    """Profiles at a city ("Springfield", "Springfield, IL") or ZIP code ("62701"): one of the
    profile's active locations is there, or, for a profile without locations, the practice."""
    place = place.strip()
    zip_code = ZIP_CODE.match(place)
    if zip_code:
        where = {"postal_code__startswith": zip_code.group(1)}
    else:
        city, _comma, state = place.partition(",")
        where = {"city__iexact": city.strip()}
        if state.strip():
            where["state__iexact"] = state.strip()
    # Each filter as `pk__in` over its own table, so the databases start from the rows that
    # match rather than probing every profile (bench/booking.py).
    through = ProviderProfile.locations.through.objects
    at_location = through.filter(
        location__is_active=True, **{f"location__{k}": v for k, v in where.items()}
    ).values("providerprofile_id")
    with_locations = through.filter(location__is_active=True).values("providerprofile_id")
    practice_there = (
        ProviderProfile.objects.filter(**{f"practice__{k}": v for k, v in where.items()})
        .exclude(pk__in=with_locations)
        .values("pk")
    )
    return Q(pk__in=at_location) | Q(pk__in=practice_there)


def profile_search(criteria: SearchCriteria) -> QuerySet[ProviderProfile]:
    """Public profiles matching every criterion given, by name."""
    found = listed_profiles()
    for word in criteria.name.split()[:5]:
        found = found.filter(provider__full_name__icontains=word)
    if criteria.specialty:
        found = found.filter(
            pk__in=ProfileSpecialty.objects.filter(code=criteria.specialty).values("profile_id")
        )
    if criteria.language:
        found = found.filter(
            pk__in=ProfileLanguage.objects.filter(code=criteria.language).values("profile_id")
        )
    if criteria.place.strip():
        found = found.filter(_place(criteria.place))
    if criteria.new_patients:
        found = found.filter(accepts_new_patients=True)
    return found.order_by("provider__full_name", "number")


def search_page(criteria: SearchCriteria, page_value: str | None) -> Page:
    """One page of `profile_search` with the number of matches counted by the same query (a
    window count): the database finds the matches once, not once to count and again to page."""
    found = profile_search(criteria)
    paginator = Paginator(found, PAGE_SIZE)
    try:
        number = max(1, int(page_value or 1))
    except ValueError:
        number = 1
    start = (number - 1) * PAGE_SIZE
    rows = list(found.annotate(matches=Window(Count("pk")))[start : start + PAGE_SIZE])
    if not rows and number > 1:  # past the last page: the last page, as Paginator.get_page
        return paginator.get_page(number)
    paginator.count = rows[0].matches if rows else 0  # what Paginator would count
    return Page(rows, number, paginator)


# --- What a profile shows ------------------------------------------------------------------------


def profile_path(profile: ProviderProfile) -> str:
    """The profile's canonical path (/doctor/first-last-md-12345); needs `credential`."""
    return reverse("booking:profile", kwargs={"slug": canonical_slug(profile)})


def canonical_slug(profile: ProviderProfile) -> str:
    return selectors.profile_slug(profile, getattr(profile, "credential", "") or "")


def absolute(path: str) -> str:
    return settings.PORTICO_BASE_URL + path


def public_name(profile: ProviderProfile) -> str:
    """The provider's name as the public sees it (never the account's email address)."""
    return profile.provider.full_name or _("Provider")


def title_of(profile: ProviderProfile) -> str:
    """ "Paula Provider, MD"."""
    credential = getattr(profile, "credential", "") or ""
    name = public_name(profile)
    return f"{name}, {credential}" if credential else name


@dataclass(frozen=True)
class Place:
    """Where the provider sees patients: a location of the practice, or the practice itself."""

    name: str
    lines: list[str]
    phone: str
    city: str
    state: str
    postal_code: str
    street: str


def _place_of(name: str, where) -> Place:
    street = ", ".join(line for line in (where.address_line1, where.address_line2) if line)
    return Place(
        name=name,
        lines=where.address_lines,
        phone=where.phone,
        city=where.city,
        state=where.state,
        postal_code=where.postal_code,
        street=street,
    )


def places_of(profile: ProviderProfile) -> list[Place]:
    """The profile's active locations, else the practice's own address."""
    locations = getattr(profile, "public_locations", None)
    if locations is None:
        locations = list(profile.locations.filter(is_active=True).order_by("name", "id"))
    if locations:
        return [_place_of(location.name, location) for location in locations]
    return [_place_of(profile.practice.name, profile.practice)]


def phone_of(profile: ProviderProfile) -> str:
    """The number to call: the first location's with a phone, else the practice's."""
    for place in places_of(profile):
        if place.phone:
            return place.phone
    return profile.practice.phone


def city_of(profile: ProviderProfile) -> str:
    """ "Springfield, IL": where the provider is, for a line of search results."""
    place = places_of(profile)[0]
    return ", ".join(part for part in (place.city, place.state) if part)


def specialty_labels(profile: ProviderProfile) -> list[str]:
    return [label_of(Specialty, s.code) for s in profile.specialties.all()]


def language_labels(profile: ProviderProfile) -> list[str]:
    return [label_of(SpokenLanguage, lang.code) for lang in profile.languages.all()]


def description_of(profile: ProviderProfile) -> str:
    """One sentence for search engines and link previews (og:description)."""
    parts = [", ".join(specialty_labels(profile))] if profile.specialties.all() else []
    where = city_of(profile)
    practice = profile.practice.name + (f", {where}" if where else "")
    parts.append(practice)
    return " · ".join(parts) + ". " + _("Book an appointment online.")


# --- Open times ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTime:
    start: dt.datetime
    label: str  # "9:40 AM"
    value: str  # what a link or form carries: 2026-12-07T14:40Z
    iso: str  # the <time datetime>: 2026-12-07T09:40:00-05:00


@dataclass
class OpenDay:
    day: dt.date
    heading: str  # "Monday, December 7"
    times: list[OpenTime] = field(default_factory=list)


def time_value(moment: dt.datetime) -> str:
    """An open time as a link or form carries it: UTC, to the minute."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_time_value(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else None


def day_heading(day: dt.date) -> str:
    return capfirst(
        f"{formats.date_format(day, 'l')}, {formats.date_format(day, 'MONTH_DAY_FORMAT')}"
    )


def group_by_day(times: Iterable, zone, *, limit: int | None = None) -> list[OpenDay]:
    """Open times (scheduling Intervals) by their day in the practice's time zone, the first
    `limit` days with times (all by default); each minute of the day is formatted once."""
    days: list[OpenDay] = []
    labels: dict[tuple[int, int], str] = {}
    for interval in times:
        local = interval.start.astimezone(zone)
        if not days or days[-1].day != local.date():
            if limit is not None and len(days) == limit:
                break
            days.append(OpenDay(local.date(), day_heading(local.date())))
        key = (local.hour, local.minute)
        label = labels.get(key)
        if label is None:
            label = labels[key] = formats.time_format(local.time(), "TIME_FORMAT")
        days[-1].times.append(_open_time(interval.start, local, label))
    return days


def _open_time(start: dt.datetime, local: dt.datetime, label: str) -> OpenTime:
    return OpenTime(
        start=start, label=label, value=time_value(start), iso=local.isoformat(timespec="seconds")
    )


def one_time(profile: ProviderProfile, start: dt.datetime) -> OpenDay:
    """One time (the one chosen) as a day holding it."""
    local = start.astimezone(zone_of(profile.practice))
    label = formats.time_format(local.time(), "TIME_FORMAT")
    return OpenDay(local.date(), day_heading(local.date()), [_open_time(start, local, label)])


def local_day(profile: ProviderProfile, moment: dt.datetime) -> dt.date:
    return moment.astimezone(zone_of(profile.practice)).date()


def today_of(profile: ProviderProfile) -> dt.date:
    return timezone.now().astimezone(zone_of(profile.practice)).date()


def last_day_of(profile: ProviderProfile) -> dt.date:
    """The last day the booking pages offer times on (BOOKING_DAYS days from today)."""
    return today_of(profile) + dt.timedelta(days=BOOKING_DAYS - 1)


def open_days(
    profile: ProviderProfile,
    visit_type: VisitType,
    *,
    first_day: dt.date | None = None,
    days: int,
    limit: int | None = None,
) -> list[OpenDay]:
    """The open times of `visit_type` with the provider from `first_day` (today) for `days`
    days, cut to the booking window, by day (the first `limit` days with times). Computed from
    the live schedule (four queries)."""
    today = today_of(profile)
    first_day = max(first_day or today, today)
    days = min(days, (last_day_of(profile) - first_day).days + 1)
    if days < 1:
        return []
    times = scheduling_selectors.open_times(
        profile.practice, profile.provider, visit_type, first_day=first_day, days=days
    )
    return group_by_day(times, zone_of(profile.practice), limit=limit)


def next_open_days(profile: ProviderProfile, visit_type: VisitType, count: int) -> list[OpenDay]:
    """The next `count` days with open times of `visit_type` in the booking window: the
    coming week first, and the rest of the window only when the week has too few (four
    queries, at most eight)."""
    days = open_days(profile, visit_type, days=WEEK, limit=count)
    if len(days) < count:
        later = today_of(profile) + dt.timedelta(days=WEEK)
        days += open_days(
            profile, visit_type, first_day=later, days=BOOKING_DAYS - WEEK, limit=count - len(days)
        )
    return days


def zone_name(profile: ProviderProfile) -> str:
    """ "EST": the abbreviation of the practice's time zone now, for "times are in …"."""
    return timezone.now().astimezone(zone_of(profile.practice)).tzname() or ""


# --- schema.org (JSON-LD) ------------------------------------------------------------------------

# Our specialties as members of schema.org's MedicalSpecialty enumeration, where one fits; the
# others are given by name.
SCHEMA_SPECIALTIES: dict[str, list[str]] = {
    Specialty.CARDIOLOGY: ["Cardiovascular"],
    Specialty.DERMATOLOGY: ["Dermatologic"],
    Specialty.ENDOCRINOLOGY: ["Endocrine"],
    Specialty.FAMILY_MEDICINE: ["PrimaryCare"],
    Specialty.GASTROENTEROLOGY: ["Gastroenterologic"],
    Specialty.GERIATRICS: ["Geriatric"],
    Specialty.NEUROLOGY: ["Neurologic"],
    Specialty.OBSTETRICS: ["Obstetric", "Gynecologic"],
    Specialty.ORTHOPEDICS: ["Musculoskeletal"],
    Specialty.PEDIATRICS: ["Pediatric"],
    Specialty.PSYCHIATRY: ["Psychiatric"],
    Specialty.PULMONOLOGY: ["Pulmonary"],
    Specialty.UROLOGY: ["Urologic"],
}


def _postal_address(place: Place) -> dict:
    address = {
        "@type": "PostalAddress",
        "streetAddress": place.street,
        "addressLocality": place.city,
        "addressRegion": place.state,
        "postalCode": place.postal_code,
        "addressCountry": "US",
    }
    address = {key: value for key, value in address.items() if value}
    return address if len(address) > 2 else {}  # more than the type and the country


def _one_or_list(values: list):
    return values[0] if len(values) == 1 else values  # [] when none: left out


def _specialties(profile: ProviderProfile) -> list[str]:
    found: list[str] = []
    for item in profile.specialties.all():
        members = SCHEMA_SPECIALTIES.get(item.code)
        if members:
            found.extend(f"https://schema.org/{member}" for member in members)
        else:
            found.append(label_of(Specialty, item.code))
    return list(dict.fromkeys(found))


def clinic_data(profile: ProviderProfile, url: str) -> dict:
    """The practice as a schema.org MedicalClinic."""
    practice = profile.practice
    clinic = {
        "@type": "MedicalClinic",
        "@id": f"{url}#practice",
        "name": practice.name,
        "address": _postal_address(_place_of(practice.name, practice)),
        "telephone": practice.phone,
    }
    return {key: value for key, value in clinic.items() if value}


def physician_data(profile: ProviderProfile, url: str) -> dict:
    """The provider as a schema.org Physician."""
    physician: dict = {
        "@type": "Physician",
        "@id": f"{url}#physician",
        "name": title_of(profile),
        "url": url,
        "description": profile.biography,
        "medicalSpecialty": _specialties(profile),
        "knowsLanguage": [lang.code for lang in profile.languages.all()],
        "address": _one_or_list(
            [a for a in (_postal_address(place) for place in places_of(profile)) if a]
        ),
        "telephone": phone_of(profile),
        "isAcceptingNewPatients": profile.accepts_new_patients,
        "parentOrganization": {"@id": f"{url}#practice"},
    }
    if profile.npi:
        physician["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "NPI",
            "value": profile.npi,
        }
    return {key: value for key, value in physician.items() if value not in ("", [], None)}


def structured_data(profile: ProviderProfile, url: str) -> dict:
    """The profile page's JSON-LD: the Physician and the MedicalClinic they work at."""
    return {
        "@context": "https://schema.org",
        "@graph": [physician_data(profile, url), clinic_data(profile, url)],
    }


# Characters that would end the <script> element or start markup inside it, written as JSON
# escapes (the same set Django's json_script escapes).
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def ld_json_script(data: dict) -> SafeString:
    """A <script type="application/ld+json"> element holding `data`. It is a data block, not a
    script: browsers never run it, so the page policy (script-src 'self') does not apply to it.
    Its text cannot close the element: <, > and & are escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


# --- The embeddable booking page -----------------------------------------------------------------

# An origin as a browser writes it in the Origin header: scheme, host and optional port.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


def frame_ancestors(practice) -> str:
    """The practice's listed origins that may frame its booking pages, else 'none'. Anything
    that is not a plain origin is left out: it could not match, and it must not add to the
    policy (a ';' would start a directive of its own)."""
    origins = [origin.rstrip("/") for origin in practice.embed_origins]
    allowed = list(dict.fromkeys(o for o in origins if ORIGIN.match(o)))
    return " ".join(allowed) if allowed else "'none'"


def embed_policy(practice) -> str:
    """The page policy of an embeddable booking page: the global one, with the practice's
    origins as the only frame ancestors."""
    directives = dict(settings.PORTICO_CONTENT_SECURITY_POLICY)
    directives["frame-ancestors"] = frame_ancestors(practice)
    return build_policy(directives)


# --- Sitemap and robots.txt ----------------------------------------------------------------------


def sitemap_xml() -> str:
    """The search page and every public profile's canonical address, with the day it last
    changed (sitemaps.org protocol; one file holds up to 50,000 addresses)."""
    base = settings.PORTICO_BASE_URL
    profiles = (
        selectors.public_profiles()
        .select_related(None)
        .select_related("provider")
        .annotate(credential=_credential())
        .only("number", "updated_at", "provider__full_name", "provider__email")
        .order_by("number")
    )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        f"<url><loc>{xml_escape(base + reverse('booking:search'))}</loc></url>",
    ]
    for profile in profiles.iterator(chunk_size=2000):
        loc = xml_escape(base + profile_path(profile))
        lastmod = profile.updated_at.astimezone(dt.UTC).date().isoformat()
        lines.append(f"<url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


# Paths crawlers may not follow: staff and patient pages, the API, sign-in, and the embeddable
# booking pages (the same pages are on the profiles' own /book addresses).
DISALLOWED = ["/ehr/", "/portal/", "/api/", "/accounts/", "/external/"]


def robots_txt() -> str:
    lines = ["User-agent: *", "Allow: /doctors/", "Allow: /doctor/"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {absolute(reverse('booking:sitemap'))}"]
    return "\n".join(lines) + "\n"
