"""Online profile settings (SPEC §8.1–8.2, §8.4): EHR Settings > Users > a provider > "Online
profile and appointment booking" (the profile, its On/Off status, the checklist "Why don't I
appear in search results?", the NPI attestation, the booking page's embed code), and EHR
Settings > "Online booking on your website" (the websites allowed to frame the booking pages).

Any user edits their own profile (a provider of the practice), an administrator edits every
provider's; anyone else is refused. A user named in the URL is looked up among the current
practice's providers first, so another practice's user, or a user who is not a provider, is a
404. Every change is a service call whose errors show on the page, nothing changed. These pages
show no health information."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.booking import selectors, services
from portico.booking.models import ProviderProfile
from portico.booking.profile_forms import EmbedOriginsForm, ProfileForm
from portico.core.forms import apply_service_errors
from portico.practices import permissions
from portico.practices import services as practice_services
from portico.practices.decorators import administrator_required, staff_required
from portico.practices.models import Membership
from portico.scheduling import selectors as scheduling_selectors

ON_OFF = (("on", True), ("off", False))
# The height the embed code gives the booking page's frame (the practice may change it).


def _provider(request, user_id) -> Membership:
    """The practice's provider named in the URL, when the signed-in user may edit their
    profile: themselves, or anyone for an administrator."""
    membership = (
        scheduling_selectors.providers(request.practice).filter(user__public_id=user_id).first()
    )
    if membership is None:
        raise Http404
    viewer = request.membership
    permissions.require(
        permissions.can_manage_settings(viewer) or viewer.user_id == membership.user_id,
        _("Only an administrator or the provider can change this online profile."),
    )
    return membership


def booking_links(profile: ProviderProfile, membership: Membership) -> dict[str, str]:
    return selectors.booking_links(profile, membership.credential)


def _profile_form(request, profile: ProviderProfile, data=None) -> ProfileForm:
    practice = request.practice
    initial = None
    if data is None:
        initial = {
            "specialties": list(profile.specialties.values_list("code", flat=True)),
            "languages": list(profile.languages.values_list("code", flat=True)),
            "locations": [str(loc.public_id) for loc in profile.locations.all()],
            "online_visit_types": [str(v.public_id) for v in profile.online_visit_types.all()],
            "insurance_accepted": profile.insurance_accepted,
            "biography": profile.biography,
            "accepts_new_patients": profile.accepts_new_patients,
            "npi": profile.npi,
        }
    return ProfileForm(
        data,
        initial=initial,
        locations=scheduling_selectors.locations(practice).order_by("name"),
        visit_types=scheduling_selectors.visit_types(practice).order_by("name"),
    )


def _page(request, membership: Membership, profile: ProviderProfile, status: int = 200, **context):
    context.setdefault("form", _profile_form(request, profile))
    is_public = selectors.is_public(profile)
    return render(
        request,
        "booking/profile_settings.html",
        {
            "provider_membership": membership,
            "profile": profile,
            "checklist": selectors.checklist(profile, membership),
            "is_public": is_public,
            "is_admin": permissions.can_manage_settings(request.membership),
            "is_own": request.user.pk == membership.user_id,
            "links": booking_links(profile, membership),
            "on_off": ON_OFF,
            **context,
        },
        status=status,
    )


@staff_required
def profile_settings(request, user_id):
    """The provider's "Online profile and appointment booking" section."""
    membership = _provider(request, user_id)
    profile = services.profile_ensure(
        request.user, practice=request.practice, provider=membership.user
    )
    if request.method in ("GET", "HEAD"):
        return _page(request, membership, profile)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = _profile_form(request, profile, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        was_attested = profile.npi_attested
        try:
            changed = services.profile_save(
                request.user,
                profile=profile,
                specialties=data["specialties"],
                languages=data["languages"],
                locations=form.chosen_locations(),
                insurance_accepted=data["insurance_accepted"],
                biography=data["biography"],
                accepts_new_patients=data["accepts_new_patients"],
                online_visit_types=form.chosen_visit_types(),
                npi=data["npi"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not changed:
                messages.success(request, _("Nothing changed."))
            elif "npi" in changed and was_attested:
                messages.success(
                    request,
                    _(
                        "The online profile is saved. The new NPI needs an administrator's "
                        "attestation before the profile appears in search results again."
                    ),
                )
            else:
                messages.success(request, _("The online profile is saved."))
            return redirect("booking:profile_settings", user_id=membership.user.public_id)
    # What failed shows with what was typed; the profile itself is as it was.
    profile.refresh_from_db()
    return _page(request, membership, profile, status=400, form=form)


@staff_required
@require_POST
def profile_status(request, user_id):
    """Online profile status On or Off; On needs every item of the checklist."""
    membership = _provider(request, user_id)
    profile = services.profile_ensure(
        request.user, practice=request.practice, provider=membership.user
    )
    choice = dict(ON_OFF).get(request.POST.get("status", ""))
    if choice is None:
        return _page(request, membership, profile, status=400, status_error=_("Choose on or off."))
    try:
        changed = services.profile_status_set(request.user, profile=profile, on=choice)
    except ValidationError as exc:
        profile.refresh_from_db()
        return _page(request, membership, profile, status=400, status_error=" ".join(exc.messages))
    if not changed:
        messages.success(request, _("Nothing changed."))
    elif choice:
        messages.success(request, _("The online profile is on."))
    else:
        messages.success(
            request, _("The online profile is off: it no longer appears in search results.")
        )
    return redirect("booking:profile_settings", user_id=membership.user.public_id)


ATTEST = (("yes", True), ("no", False))


@staff_required
@require_POST
def npi_attest(request, user_id):
    """An administrator attests the provider's NPI, or withdraws the attestation."""
    membership = _provider(request, user_id)
    permissions.require(
        permissions.can_manage_settings(request.membership),
        _("Only an administrator can attest an NPI."),
    )
    profile = services.profile_ensure(
        request.user, practice=request.practice, provider=membership.user
    )
    choice = dict(ATTEST).get(request.POST.get("attested", ""))
    if choice is None:
        return _page(
            request, membership, profile, status=400, attest_error=_("Choose attest or withdraw.")
        )
    try:
        changed = services.npi_attest(request.user, profile=profile, attested=choice)
    except ValidationError as exc:
        profile.refresh_from_db()
        return _page(request, membership, profile, status=400, attest_error=" ".join(exc.messages))
    if not changed:
        messages.success(request, _("Nothing changed."))
    elif choice:
        messages.success(request, _("The NPI is attested."))
    else:
        messages.success(request, _("The NPI attestation is withdrawn."))
    return redirect("booking:profile_settings", user_id=membership.user.public_id)


def _providers_with_links(practice) -> list[dict]:
    """Each provider of the practice with their profile (if they have one), whether it is
    public, and its booking links."""
    profiles = {
        p.provider_id: p
        for p in ProviderProfile.objects.filter(practice=practice).select_related("provider")
    }
    public = set(selectors.public_profiles().filter(practice=practice).values_list("pk", flat=True))
    rows = []
    for membership in scheduling_selectors.providers(practice):
        profile = profiles.get(membership.user_id)
        rows.append(
            {
                "membership": membership,
                "profile": profile,
                "is_public": profile is not None and profile.pk in public,
                "links": booking_links(profile, membership) if profile is not None else None,
            }
        )
    return rows


@administrator_required
def website_settings(request):
    """EHR Settings > Online booking on your website: the websites allowed to show the booking
    pages in a frame, and each provider's embed code and booking link."""
    practice = request.practice
    status = 200
    if request.method == "POST":
        form = EmbedOriginsForm(request.POST)
        if form.is_valid():
            try:
                changed = practice_services.embed_origins_set(
                    request.user, practice=practice, origins=form.cleaned_data["origins"]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The list of websites is saved.") if changed else _("Nothing changed."),
                )
                return redirect("booking:website_settings")
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = EmbedOriginsForm(initial={"origins": "\n".join(practice.embed_origins)})
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "booking/website_settings.html",
        {"form": form, "providers": _providers_with_links(practice)},
        status=status,
    )
