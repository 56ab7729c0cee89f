"""Bulk invite pages: filter the charts, confirm, watch the run (SPEC §5.3)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from portico.charts import services as chart_services
from portico.outreach import selectors, services
from portico.outreach.forms import BulkFilterForm
from portico.practices import permissions
from portico.practices.decorators import staff_required


def _scoped_run(request, run_id):
    return get_object_or_404(selectors.runs_of(request.practice), public_id=run_id)


@staff_required
def bulk_invite(request):
    """The filtered list; "Invite all N matching" leads to a confirm step that posts."""
    today = selectors.practice_today(request.practice)
    data = request.POST if request.method == "POST" else request.GET
    form = BulkFilterForm(data, today=today)
    may_invite = permissions.can_invite_patients(request.membership)
    valid = form.is_valid() if form.is_bound else True
    if request.method == "POST":
        permissions.require(may_invite, services.NO_PERMISSION)
        if valid:
            try:
                run = services.bulk_invite_start(
                    request.user, practice=request.practice, criteria=form.criteria()
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                return redirect("outreach:run", run_id=run.public_id)
    context = {"form": form, "may_invite": may_invite, "valid": valid}
    if valid:
        criteria = form.criteria()
        count = selectors.matching_charts(request.practice, criteria, today=today).count()
        preview = list(selectors.matching_preview(request.practice, criteria, today=today))
        chart_services.charts_listed(
            request.user, practice=request.practice, charts=preview, what="bulk invite preview"
        )
        shown = (
            gettext("The first %(shown)s of %(count)s") % {"shown": len(preview), "count": count}
            if count > len(preview)
            else gettext("All of them")
        )
        context.update(
            count=count,
            preview=preview,
            preview_caption=shown,
            confirm=may_invite and request.GET.get("confirm") == "1",
            query=request.GET.urlencode(),
        )
    context["runs"] = selectors.runs_of(request.practice)[:5]
    return render(request, "outreach/bulk_invite.html", context)


def _status(run) -> dict:
    return {
        "state": run.state,
        "state_label": run.get_state_display(),
        "active": run.is_active,
        "total": run.total,
        "processed": run.processed,
        "percent": run.percent,
        "invited": run.invited,
        "failed": run.failed,
        "skipped": run.skipped_total,
        "skipped_by_reason": [
            {"reason": key, "label": services.SKIP_LABELS.get(key, key), "count": n}
            for key, n in sorted(run.skipped.items())
        ],
        "stop_reason": run.stop_reason,
    }


@staff_required
@require_GET
def run_detail(request, run_id):
    run = _scoped_run(request, run_id)
    return render(
        request,
        "outreach/run.html",
        {
            "run": run,
            "status": _status(run),
            "may_invite": permissions.can_invite_patients(request.membership),
        },
    )


@staff_required
@require_GET
def run_status(request, run_id):
    """The run's progress as JSON, for the page's progress bar."""
    return JsonResponse(_status(_scoped_run(request, run_id)))


@staff_required
@require_POST
def run_cancel(request, run_id):
    run = _scoped_run(request, run_id)
    try:
        services.bulk_invite_cancel(request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, gettext("The bulk invite was cancelled. No further charts are invited.")
        )
    return redirect("outreach:run", run_id=run.public_id)
