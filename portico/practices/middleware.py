import zoneinfo

from django.utils import timezone

from portico.practices import selectors as practice_selectors

SESSION_KEY = "current_practice_id"


class CurrentPracticeMiddleware:
    """Attach the signed-in staff user's current practice and membership to the request.

    Staff can belong to several practices; the session remembers which one they
    work in. Times on staff pages show in that practice's time zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.practice = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = practice_selectors.active_memberships_list(user)
            chosen = request.session.get(SESSION_KEY)
            membership = next((m for m in memberships if m.practice_id == chosen), None)
            if membership is None and memberships:
                membership = memberships[0]
            if membership is not None:
                request.membership = membership
                request.practice = membership.practice
                request.staff_memberships = memberships
                timezone.activate(zoneinfo.ZoneInfo(membership.practice.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
