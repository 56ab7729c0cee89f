"""The portal's Appointments tab (SPEC §8.6): the chart's upcoming and past appointments, and
the patient's requests to reschedule or cancel, their answer to a time the practice proposed,
and taking back a request still waiting. Every page is reached through `patient_record_view`
(the chart's portal access is checked on every request: a revoked patient gets the access
error); another chart's appointment or request is a 404; every change is a service call
(booking.services) and every page shown is an audited read of the record."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.booking import patient_tab, selectors, services
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.booking.patient_forms import OTHER, CancelForm, DeclineForm, RescheduleForm
from portico.records.views import patient_record_view
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.page_input import apply_messages, messages_of

REFUSED_STATUS = 400

# A service's error keys → this page's fields ("status": about the appointment, at the top).
_RENAMES = {"status": "__all__", "kind": "__all__"}


def _context(access, accesses, **more) -> dict:
    return {"access": access, "accesses": accesses, "practice": access.practice, **more}


def _to_list(access):
    return redirect("booking:patient_appointments", access_id=access.public_id)


def _appointment(access, appointment_id) -> Appointment:
    found = patient_tab.appointment_of(access, appointment_id)
    if found is None:
        raise Http404
    return found


def _posted(request):
    """The form's data: what a POST sent (even nothing at all), none for a GET."""
    return request.POST if request.method == "POST" else None


def _is_upcoming(appointment: Appointment) -> bool:
    return appointment.start_at >= timezone.now()


# --- The tab -----------------------------------------------------------------------------------


def _list_page(request, access, accesses, *, status: int = 200, errors=()):
    patient_tab.appointments_viewed(request.user, access=access, page="appointments")
    past = patient_tab.past_page(access, request.GET.get("page"))
    return render(
        request,
        "booking/patient/appointments.html",
        _context(
            access,
            accesses,
            upcoming=patient_tab.upcoming(access),
            page=past,
            past=past.object_list,
            errors=list(errors),
        ),
        status=status,
    )


@patient_record_view
def appointments(request, access, accesses):
    """Upcoming (Pending, Tentative, Confirmed) and past appointments, in the practice's time
    zone; the past ones a page at a time, newest first."""
    return _list_page(request, access, accesses)


@require_POST
@patient_record_view
def accept(request, access, accesses, appointment_id):
    """Accept the time the practice proposed: the appointment is Confirmed (for a reschedule,
    the original appointment is cancelled in the same step)."""
    appointment = _appointment(access, appointment_id)
    try:
        services.proposal_accept(request.user, access=access, appointment=appointment)
    except ValidationError as exc:
        return _list_page(request, access, accesses, status=REFUSED_STATUS, errors=exc.messages)
    messages.success(request, _("Your appointment is confirmed."))
    return _to_list(access)


# --- Reschedule ----------------------------------------------------------------------------------


def _reschedule_refusal(appointment: Appointment, change) -> str:
    """Why this appointment cannot be moved from the portal, or "" when it can."""
    if appointment.status != AppointmentStatus.BOOKED or not _is_upcoming(appointment):
        return _("Only an upcoming confirmed appointment can be moved.")
    if change is not None:
        return _("A request about this appointment is already waiting for the practice.")
    if appointment.provider is None or appointment.appointment_type is None:
        return _("Please call the practice to move this appointment.")
    return ""


@patient_record_view
def reschedule(request, access, accesses, appointment_id):
    """Ask for another of the provider's open times ("Request to reschedule"). The original
    appointment stays Confirmed until the practice acts."""
    appointment = _appointment(access, appointment_id)
    change = patient_tab.pending_change(appointment)
    form = RescheduleForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = REFUSED_STATUS
        if form.is_valid():
            try:
                services.reschedule_request(
                    request.user,
                    access=access,
                    appointment=appointment,
                    start_at=form.cleaned_data["start_at"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                apply_messages(form, messages_of(exc, _RENAMES))
            else:
                messages.success(
                    request,
                    _(
                        "Your request to reschedule was sent. Your appointment stays as it is "
                        "until the practice confirms the new time."
                    ),
                )
                return _to_list(access)
    refusal = _reschedule_refusal(appointment, change)
    patient_tab.appointments_viewed(
        request.user, access=access, page="appointment reschedule", appointment=appointment
    )
    return render(
        request,
        "booking/patient/reschedule.html",
        _context(
            access,
            accesses,
            appointment=appointment,
            change=change,
            refusal=refusal,
            form=form,
            open_days=(
                []
                if refusal
                else patient_tab.reschedule_times(appointment, request.POST.get("start_at", ""))
            ),
            booking_days=services.BOOKING_DAYS,
        ),
        status=status,
    )


# --- Cancel (or decline a proposed time) ---------------------------------------------------------


def _cancel_refusal(appointment: Appointment, change) -> str:
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.PROPOSED):
        return _("Only an upcoming appointment can be cancelled.")
    if not _is_upcoming(appointment):
        return _("This appointment's time has passed.")
    if change is not None and appointment.status == AppointmentStatus.BOOKED:
        return _("A request about this appointment is already waiting for the practice.")
    return ""


@patient_record_view
def cancel(request, access, accesses, appointment_id):
    """Cancel a confirmed appointment with a reason: at once, or as a request the practice
    approves, as its cancellation policy says (and, within the notice period, after reading
    that the practice may charge for it). For a tentative appointment, decline the time the
    practice proposed."""
    appointment = _appointment(access, appointment_id)
    tentative = appointment.status == AppointmentStatus.PROPOSED
    change = patient_tab.pending_change(appointment)
    form: DeclineForm | CancelForm = (
        DeclineForm(_posted(request)) if tentative else CancelForm(_posted(request))
    )
    status = 200
    if request.method == "POST":
        status = REFUSED_STATUS
        if form.is_valid():
            try:
                if isinstance(form, DeclineForm):
                    services.proposal_decline(
                        request.user,
                        access=access,
                        appointment=appointment,
                        reason=form.cleaned_data["reason"].strip(),
                    )
                    done = _("You declined the time the practice proposed.")
                else:
                    result = services.patient_cancel(
                        request.user,
                        access=access,
                        appointment=appointment,
                        reason=form.reason_text(),
                    )
                    done = (
                        _(
                            "Your cancellation request was sent. Your appointment stays "
                            "Confirmed until the practice approves it."
                        )
                        if isinstance(result, AppointmentRequest)
                        else _("Your appointment is cancelled.")
                    )
            except ValidationError as exc:
                found = messages_of(exc, {"status": "__all__"})
                if "reason" in found and not tentative:
                    chose_other = form.cleaned_data.get("reason") == OTHER
                    found["other_reason" if chose_other else "reason"] = found.pop("reason")
                apply_messages(form, found)
            else:
                messages.success(request, done)
                return _to_list(access)
    refusal = _cancel_refusal(appointment, change)
    practice = access.practice
    needs_approval = charge_notice = False
    if not refusal and not tentative:
        needs_approval = selectors.cancellation_needs_approval(practice, appointment.start_at)
        charge_notice = selectors.charge_notice_applies(practice, appointment.start_at)
    patient_tab.appointments_viewed(
        request.user, access=access, page="appointment cancel", appointment=appointment
    )
    return render(
        request,
        "booking/patient/cancel.html",
        _context(
            access,
            accesses,
            appointment=appointment,
            tentative=tentative,
            change=change,
            refusal=refusal,
            form=form,
            needs_approval=needs_approval,
            charge_notice=charge_notice,
            notice_days=practice.cancellation_notice_days,
        ),
        status=status,
    )


# --- Take back a request still waiting -----------------------------------------------------------

KEEP, WITHDRAW = "keep", "cancel"


@patient_record_view
def withdraw(request, access, accesses, request_id):
    """Take back a request the practice has not answered (a new appointment, a reschedule or
    a cancellation): at once. "Keep Appointment" changes nothing."""
    found = patient_tab.request_of(access, request_id)
    if found is None:
        raise Http404
    status, refusal = 200, ""
    if found.status != RequestStatus.PENDING:
        refusal = _("The practice has already answered this request.")
    if request.method == "POST":
        answer = request.POST.get("answer")
        if answer == KEEP:
            messages.info(request, _("Nothing changed."))
            return _to_list(access)
        status = REFUSED_STATUS
        if answer != WITHDRAW:
            refusal = refusal or _("Choose one of the two buttons.")
        elif not refusal:
            if services.request_withdraw(request.user, access=access, request=found):
                messages.success(request, _withdrawn_message(found))
                return _to_list(access)
            refusal = _("The practice has already answered this request.")
    patient_tab.appointments_viewed(
        request.user, access=access, page="appointment request withdraw", request=found
    )
    return render(
        request,
        "booking/patient/withdraw.html",
        _context(
            access,
            accesses,
            item=found,
            refusal=refusal,
            is_new=found.kind == RequestKind.NEW,
            posted=request.method == "POST",
        ),
        status=status,
    )


def _withdrawn_message(found: AppointmentRequest) -> str:
    if found.kind == RequestKind.RESCHEDULE:
        return _("Your reschedule request is withdrawn. Your appointment stays as it was.")
    if found.kind == RequestKind.CANCEL:
        return _("Your cancellation request is withdrawn. Your appointment stays as it was.")
    return _("Your appointment request is cancelled.")
