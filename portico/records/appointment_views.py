"""An appointment's calendar file in the patient's portal (SPEC §8.7): the same .ics as the
appointment emails carry, for the patient to add to (or update in) their calendar."""

from __future__ import annotations

from django.http import Http404, HttpResponse

from portico.records import services
from portico.records.views import patient_record_view
from portico.scheduling import ics
from portico.scheduling import selectors as scheduling_selectors


@patient_record_view
def appointment_calendar(request, access, _accesses, appointment_id):
    """The .ics of one of the chart's appointments, as a download; audited as a download of
    the record. Another chart's appointment (or an unknown id) is a 404."""
    appointment = (
        scheduling_selectors.patient_appointments(access.patient)
        .select_related("practice")
        .filter(public_id=appointment_id)
        .first()
    )
    if appointment is None:
        raise Http404
    services.record_downloaded(request.user, access=access, fmt="ics", appointment=appointment)
    response = HttpResponse(
        ics.appointment_ics(appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{ics.FILENAME}"'
    return response
