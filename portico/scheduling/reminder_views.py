"""Reminder opt-out (SPEC §8.7): the link in every reminder email (RFC 8058 one-click
unsubscribe), and the switch on the chart's profile page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from portico.charts import selectors as chart_selectors
from portico.portal.staff_views import render_chart
from portico.practices.decorators import staff_required
from portico.scheduling import services, tokens
from portico.scheduling.models import ReminderOptOut


# CSRF protection is off for this view alone, on purpose. RFC 8058 has the mail client itself
# POST "List-Unsubscribe=One-Click" to the link, with no page, cookie or token of ours before
# it, so a CSRF check would refuse exactly the request the standard asks us to honour. Nothing
# is lost: what CSRF protects is the authority of a signed-in session, and this view uses none.
# Its only authority is the token in the URL, an HMAC under SECRET_KEY that another site cannot
# know or make, and all a POST can do is stop reminders (status emails still go).
@csrf_exempt
@never_cache
def unsubscribe(request, token):
    """Public, no sign-in: GET shows the practice and a "Stop reminders" button (a link scanner
    that follows the link changes nothing); POST, from that button or a mail client's
    one-click request, turns the patient's reminders off. An unknown token is a 404."""
    patient = tokens.patient_of(token)
    if patient is None:
        raise Http404
    context = {"practice": patient.practice}
    if request.method == "POST":
        services.reminder_opt_out_set(
            None, patient=patient, opted_out=True, source=ReminderOptOut.Source.UNSUBSCRIBE
        )
        return render(request, "scheduling/unsubscribed.html", context)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "scheduling/unsubscribe.html", context)


# The chart switch's values: what "reminders" says → whether the patient is opted out.
REMINDERS_CHOICES = {"on": False, "off": True}


@staff_required
def chart_reminders(request, patient_id):
    """The chart's "Appointment reminders: On/Off" switch (POST only): the practice's staff
    turn a patient's reminders off or on again."""
    patient = chart_selectors.chart_of(request.practice, patient_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    opted_out = REMINDERS_CHOICES.get(request.POST.get("reminders", ""))
    if opted_out is None:
        messages.error(request, gettext("Choose on or off."))
        return render_chart(request, patient, status=400)
    try:
        changed = services.reminder_opt_out_set(
            request.user,
            patient=patient,
            opted_out=opted_out,
            source=ReminderOptOut.Source.CHART,
        )
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", None) or [gettext("That is not allowed.")]:
            messages.error(request, message)
    else:
        if not changed:
            messages.success(request, gettext("Nothing changed."))
        elif opted_out:
            messages.success(
                request,
                gettext(
                    "Appointment reminders are off for this patient. Emails about booked, "
                    "moved or cancelled appointments still go."
                ),
            )
        else:
            messages.success(request, gettext("Appointment reminders are on for this patient."))
    return redirect("charts:chart", patient_id=patient.public_id)
