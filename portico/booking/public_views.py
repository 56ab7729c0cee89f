"""The public pages (SPEC §8.3–8.4): provider search, profiles, booking pages (also embeddable
in a practice's own website), sitemap.xml and robots.txt. No sign-in, no session, and no patient
data: a profile shows what the provider published; a request a visitor sends goes to the
practice (services.request_submit) and is never shown back.

Open times are computed from the live schedule on every request, so a change shows at once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from portico.booking import open_times, public, selectors, services
from portico.booking.models import ProviderProfile, RequestSource
from portico.booking.public_forms import HONEYPOT, RequestForm, SearchForm
from portico.core import ratelimit
from portico.core.forms import apply_service_errors
from portico.scheduling.page_input import parse_date, parse_uuid
from portico.scheduling.services import zone_of

RATE_SCOPE = "booking_request"
PUBLIC_BASE = "booking/public/base.html"
EMBED_BASE = "booking/public/embed_base.html"


# --- Search --------------------------------------------------------------------------------------


@require_safe
def search(request):
    """/doctors/: public profiles by name, specialty, city or ZIP code, language and "accepts
    new patients", a page at a time (a fixed number of queries whatever the page size)."""
    form = SearchForm(request.GET)
    page = None
    status = 200
    if form.is_valid():
        page = public.search_page(form.criteria(), request.GET.get("page"))
    else:
        status = 400
    results = [
        {
            "profile": profile,
            "title": public.title_of(profile),
            "url": public.profile_path(profile),
            "book_url": reverse("booking:book", kwargs={"slug": public.canonical_slug(profile)}),
            "specialties": public.specialty_labels(profile),
            "languages": public.language_labels(profile),
            "city": public.city_of(profile),
        }
        for profile in (page.object_list if page is not None else [])
    ]
    searched = any(request.GET.get(name) for name in form.fields)
    return render(
        request,
        "booking/public/search.html",
        {
            "form": form,
            "page": page,
            "results": results,
            "searched": searched,
            "canonical": public.absolute(reverse("booking:search")),
            "page_links": _page_links(request, page),
        },
        status=status,
    )


def _page_links(request, page) -> dict:
    """The previous and next pages' addresses, keeping the search."""
    if page is None:
        return {}
    query = request.GET.copy()
    links = {}
    if page.has_previous():
        query["page"] = page.previous_page_number()
        links["previous"] = "?" + query.urlencode()
    if page.has_next():
        query["page"] = page.next_page_number()
        links["next"] = "?" + query.urlencode()
    return links


# --- Profile -------------------------------------------------------------------------------------


def _missing(request, number: str) -> HttpResponse:
    """No public profile with this number: 410 (gone) when it was public once, so search
    engines drop it; else 404."""
    if selectors.profile_was_public(number):
        return render(request, "booking/public/gone.html", status=410)
    raise Http404


@require_safe
def profile(request, slug):
    """/doctor/<name>-<number>: the provider's public profile with the next open times of each
    visit type offered online. The number finds it; any other name part redirects (301) to
    the canonical address, so the address survives a rename."""
    number = slug[-5:]
    found = public.profile_for_page(number)
    if found is None:
        return _missing(request, number)
    canonical_slug = public.canonical_slug(found)
    if slug != canonical_slug:
        return HttpResponsePermanentRedirect(public.profile_path(found))
    path = public.profile_path(found)
    url = public.absolute(path)
    book_path = reverse("booking:book", kwargs={"slug": canonical_slug})
    # The schedule read once for every visit type offered (booking.open_times), not once each.
    zone = zone_of(found.practice)
    times = open_times.next_open_times_by_type(
        found.practice,
        found.provider,
        found.offered_types,
        count=public.PROFILE_DAYS,
        first_day=public.today_of(found),
        days=services.BOOKING_DAYS,
        step=public.WEEK,
    )
    offered = []
    for visit_type in found.offered_types:
        days = public.group_by_day(times[visit_type.pk], zone)
        more = {"type": visit_type.public_id}
        if days:  # the booking page opens at the first day shown here
            more["start"] = days[0].day.isoformat()
        offered.append(
            {
                "visit_type": visit_type,
                "days": days,
                "more_url": f"{book_path}?{urlencode(more)}",
                "link": f"{book_path}?{urlencode({'type': visit_type.public_id})}&at=",
            }
        )
    return render(
        request,
        "booking/public/profile.html",
        {
            "profile": found,
            "title": public.title_of(found),
            "name": public.public_name(found),
            "specialties": public.specialty_labels(found),
            "languages": public.language_labels(found),
            "places": public.places_of(found),
            "phone": public.phone_of(found),
            "description": public.description_of(found),
            "canonical": url,
            "book_url": book_path,
            "offered": offered,
            "zone": public.zone_name(found),
            "structured_data": public.structured_data(found, url),
        },
    )


# --- Booking -------------------------------------------------------------------------------------


def _same_origin(request) -> bool:
    """Whether a POST comes from a page of ours (the profile's booking page, or the embedded
    one, which is ours too inside the practice's frame). A browser always says where a form
    was sent from (Origin); a request without it is no browser's, and is left to the
    honeypot and the rate limit."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


class _Booking:
    """One booking page (the profile's /book, or the embeddable one) and what it needs."""

    def __init__(self, request, found: ProviderProfile, *, here: str, source: str, base: str):
        self.request = request
        self.profile = found
        self.here = here
        self.source = source
        self.base = base
        self.types = list(found.offered_types)

    def chosen_type(self, value):
        wanted = parse_uuid(value) if value else None
        if wanted is None:
            return self.types[0] if len(self.types) == 1 else None
        return next((t for t in self.types if t.public_id == wanted), None)

    def url(self, **query) -> str:
        query = {key: value for key, value in query.items() if value not in (None, "")}
        return f"{self.here}?{urlencode(query)}" if query else self.here

    def context(self, **more) -> dict:
        found = self.profile
        return {
            "base_template": self.base,
            "profile": found,
            "title": public.title_of(found),
            "practice": found.practice,
            "phone": public.phone_of(found),
            "here": self.here,
            "zone": public.zone_name(found),
            "types": [{"visit_type": t, "url": self.url(type=t.public_id)} for t in self.types],
            "honeypot": HONEYPOT,
            **more,
        }

    def render(self, template: str, status: int = 200, **more) -> HttpResponse:
        return render(self.request, template, self.context(**more), status=status)

    # -- Step 1: a visit type and a time.

    def week(self, visit_type, first_day: dt.date | None) -> dict:
        """A week of open times of `visit_type` from `first_day` (today), with links to the
        weeks before and after, within the booking window."""
        today = public.today_of(self.profile)
        last = public.last_day_of(self.profile)
        first_day = min(max(first_day or today, today), last)
        days = public.open_days(self.profile, visit_type, first_day=first_day, days=public.WEEK)
        earlier = first_day - dt.timedelta(days=public.WEEK)
        later = first_day + dt.timedelta(days=public.WEEK)
        return {
            "visit_type": visit_type,
            "days": days,
            "first_day": first_day,
            "last_day": min(later - dt.timedelta(days=1), last),
            "earlier_url": (
                self.url(type=visit_type.public_id, start=max(earlier, today).isoformat())
                if first_day > today
                else None
            ),
            "later_url": (
                self.url(type=visit_type.public_id, start=later.isoformat())
                if later <= last
                else None
            ),
            "link": self.url(type=visit_type.public_id) + "&at=",
        }

    def choose(self, visit_type, first_day=None, *, notice: str = "", status: int = 200):
        week = self.week(visit_type, first_day) if visit_type is not None else None
        return self.render(
            "booking/public/book.html",
            status=status,
            visit_type=visit_type,
            week=week,
            notice=notice,
        )

    # -- Step 2: the requester's details.

    def form_page(self, form, visit_type, start_at, *, status=200, retry_days=None, notice=""):
        chosen = public.one_time(self.profile, start_at)
        return self.render(
            "booking/public/request.html",
            status=status,
            form=form,
            visit_type=visit_type,
            chosen=chosen,
            chosen_time=chosen.times[0],
            change_url=self.url(type=visit_type.public_id, start=chosen.day.isoformat()),
            retry_days=retry_days,
            notice=notice,
        )

    def get(self):
        query = self.request.GET
        if query.get("sent"):
            return self.render("booking/public/sent.html")
        visit_type = self.chosen_type(query.get("type"))
        start_at = public.parse_time_value(query.get("at"))
        if visit_type is not None and start_at is not None:
            if self.is_offered(visit_type, start_at):
                form = RequestForm(accepts_new_patients=self.profile.accepts_new_patients)
                return self.form_page(form, visit_type, start_at)
            day = public.local_day(self.profile, start_at)
            return self.choose(visit_type, day, notice=_taken_message())
        return self.choose(visit_type, parse_date(query.get("start")))

    def is_offered(self, visit_type, start_at) -> bool:
        today = public.today_of(self.profile)
        day = public.local_day(self.profile, start_at)
        return today <= day <= public.last_day_of(self.profile) and services.is_open_time(
            self.profile, visit_type, start_at
        )

    def post(self):
        request = self.request
        if not _same_origin(request):
            raise PermissionDenied
        address = ratelimit.client_address(request)
        try:
            ratelimit.limit_check(RATE_SCOPE, address)
        except ratelimit.RateLimited as exc:
            return self.render(
                "booking/public/too_many.html", status=429, message=_too_many(exc.minutes)
            )
        sent = redirect(self.url(sent=1))
        sent.status_code = 303
        if request.POST.get(HONEYPOT):
            # A program filled in the field nobody sees: it gets the page a person gets,
            # and nothing is stored or sent.
            ratelimit.limit_record(RATE_SCOPE, address)
            return sent
        visit_type = self.chosen_type(request.POST.get("visit_type"))
        start_at = public.parse_time_value(request.POST.get("start_at"))
        if visit_type is None:
            return self.choose(None, notice=_("Choose a visit type."), status=400)
        if start_at is None:
            return self.choose(visit_type, notice=_("Choose one of the open times."), status=400)
        form = RequestForm(request.POST, accepts_new_patients=self.profile.accepts_new_patients)
        if not form.is_valid():
            return self.form_page(form, visit_type, start_at, status=400)
        data = form.cleaned_data
        try:
            services.request_submit(
                profile=self.profile,
                visit_type=visit_type,
                start_at=start_at,
                patient_kind=data["patient_kind"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                email=data["email"],
                phone=data["phone"],
                reason=data["reason"],
                source=self.source,
                language=get_language() or "",
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {}
            taken = errors.pop("start_at", None)
            if errors or not taken:
                apply_service_errors(form, ValidationError(errors) if errors else exc)
            if taken and not errors:
                # The time was taken (or passed) meanwhile: the open times of that week again,
                # as choices inside the same form, so nothing typed is lost.
                week = self.week(visit_type, public.local_day(self.profile, start_at))
                if not any(d.times for d in week["days"]):
                    week = self.week(visit_type, None)
                return self.form_page(
                    form,
                    visit_type,
                    start_at,
                    status=409,
                    retry_days=week["days"],
                    notice=taken[0],
                )
            return self.form_page(form, visit_type, start_at, status=400)
        ratelimit.limit_record(RATE_SCOPE, address)
        return sent


def _taken_message() -> str:
    return _("That time is no longer open. Choose one of the open times.")


def _too_many(minutes: int) -> str:
    return ngettext(
        "Too many requests were sent from your network. Please wait a minute and try again, "
        "or call the practice.",
        "Too many requests were sent from your network. Please wait %(minutes)s minutes and "
        "try again, or call the practice.",
        minutes,
    ) % {"minutes": minutes}


# These pages take requests from visitors without an account or a session: there is no
# signed-in authority for another site to borrow, and a CSRF token would need a cookie, which
# a browser does not send from inside a practice's frame (SameSite) — the embedded page could
# never send its form. What guards them instead: the Origin check (another site's page cannot
# post here from a browser), the honeypot field and the per-address rate limit.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def book(request, slug):
    """/doctor/<name>-<number>/book: choose a visit type and an open time, then send a
    request with your details. "Request sent" says the practice confirms by email."""
    number = slug[-5:]
    found = public.profile_for_page(number)
    if found is None:
        return _missing(request, number)
    canonical_slug = public.canonical_slug(found)
    here = reverse("booking:book", kwargs={"slug": canonical_slug})
    if slug != canonical_slug and request.method != "POST":
        query = request.GET.urlencode()
        return HttpResponsePermanentRedirect(here + (f"?{query}" if query else ""))
    page = _Booking(request, found, here=here, source=RequestSource.PUBLIC, base=PUBLIC_BASE)
    response = page.post() if request.method == "POST" else page.get()
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # see book()
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def embed(request, booking_id):
    """/external/appointment/<uuid>: the booking page in a practice's own website. Framing
    is allowed for the origins the practice listed, and only here; links and the form stay
    inside the frame."""
    found = public.profile_for_booking(booking_id)
    if found is None:
        raise Http404
    here = reverse("booking:embed", kwargs={"booking_id": booking_id})
    page = _Booking(request, found, here=here, source=RequestSource.EMBED, base=EMBED_BASE)
    response = page.post() if request.method == "POST" else page.get()
    response["Content-Security-Policy"] = public.embed_policy(found.practice)
    response["Cache-Control"] = "no-store"
    return response


# --- For search engines --------------------------------------------------------------------------


@require_safe
def sitemap(request):
    """/sitemap.xml: the search page and every public profile's canonical address."""
    return HttpResponse(public.sitemap_xml(), content_type="application/xml; charset=utf-8")


@require_safe
def robots(request):
    """/robots.txt: the public pages may be crawled; staff, patient and API pages may not."""
    return HttpResponse(public.robots_txt(), content_type="text/plain; charset=utf-8")
