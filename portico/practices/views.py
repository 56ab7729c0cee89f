from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portico.practices import services
from portico.practices.decorators import administrator_required, staff_required
from portico.practices.models import Membership


@administrator_required
def settings_home(request):
    return redirect("practices:phr_invite")


@administrator_required
def phr_invite(request):
    """EHR Settings > Patient communications > PHR invite: who may invite patients."""
    members = list(
        Membership.objects.filter(practice=request.practice)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    if request.method == "POST":
        known = {str(m.pk): m.pk for m in members}
        ticked = request.POST.getlist("may_invite")
        # Anything that is not one of this practice's members is refused as a whole:
        # dropping it silently would untick everyone else.
        if not set(ticked) <= known.keys():
            return render(
                request,
                "practices/phr_invite.html",
                {"members": members, "error": "The list of users changed; please try again."},
                status=400,
            )
        changed = services.invite_permissions_set(
            request.user, practice=request.practice, allowed_member_ids={known[t] for t in ticked}
        )
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("practices:phr_invite")
    return render(request, "practices/phr_invite.html", {"members": members})


@staff_required
@require_POST
def switch_practice(request):
    try:
        membership = services.practice_switch(
            request.user, session=request.session, practice_public_id=request.POST.get("practice")
        )
    except ValidationError:
        membership = None
    if membership is None:
        messages.error(request, "You are not a member of that practice.")
    return redirect("charts:patient_list")
