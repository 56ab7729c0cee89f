"""View decorators for the staff side."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from portico.practices import permissions


def staff_required(view):
    """Signed-in member of a practice; the practice is request.practice."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership is None:
            raise PermissionDenied(gettext("This page is for practice staff."))
        return view(request, *args, **kwargs)

    return wrapper


def administrator_required(view):
    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        permissions.require(
            permissions.can_manage_settings(request.membership),
            gettext("Only administrators can change EHR Settings."),
        )
        return view(request, *args, **kwargs)

    return wrapper
