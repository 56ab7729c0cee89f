from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from portico.charts import record_cache, selectors, services
from portico.charts.codes import code_list
from portico.charts.codes import code_search as codes_search
from portico.charts.forms import (
    AmendmentForm,
    DemographicsForm,
    EncounterForm,
    EncounterShareForm,
    PatientSearchForm,
    item_form_class,
)
from portico.charts.models import CLINICAL_LISTS, CodeSystem
from portico.core.forms import apply_service_errors
from portico.practices import permissions
from portico.practices.decorators import staff_required


def scoped_patient(request, patient_id):
    """A chart of the current practice, or 404 (never 403: existence is not revealed)."""
    return selectors.chart_of(request.practice, patient_id)


@staff_required
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = selectors.patient_search(practice=request.practice, query=query)
    page = Paginator(patients, 50).get_page(request.GET.get("page"))
    services.charts_listed(
        request.user,
        practice=request.practice,
        charts=page.object_list,
        what=f"patient list, page {page.number}",
        search=query,
    )
    return render(request, "charts/patient_list.html", {"form": form, "page": page, "query": query})


@staff_required
def patient_new(request):
    form = DemographicsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                request.user, practice=request.practice, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, gettext("The chart was created."))
            return redirect("charts:chart", patient_id=patient.public_id)
    return render(request, "charts/patient_form.html", {"form": form, "patient": None})


@staff_required
def patient_edit(request, patient_id):
    patient = scoped_patient(request, patient_id)
    form = (
        DemographicsForm(request.POST or None, instance=patient)
        if request.method == "POST"
        else DemographicsForm(instance=patient)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            patient.refresh_from_db()
            apply_service_errors(form, exc)
        else:
            messages.success(request, gettext("Demographics saved."))
            return redirect("charts:chart", patient_id=patient.public_id)
    else:
        services.chart_viewed(request.user, patient=patient, what="demographics form")
    return render(request, "charts/patient_form.html", {"form": form, "patient": patient})


# ---------------------------------------------------------------------------------------------
# Clinical record (SPEC §2.2): summary, lists, item forms, encounters, code search
# ---------------------------------------------------------------------------------------------


def list_model(kind: str):
    model = CLINICAL_LISTS.get(kind)
    if model is None:
        raise Http404("No such list.")
    return model


def scoped_item(patient, model, item_id):
    return get_object_or_404(selectors.items_of(patient, model), public_id=item_id)


def scoped_encounter(patient, encounter_id):
    return get_object_or_404(selectors.encounters_of(patient), public_id=encounter_id)


def _post_only(request):
    """For action URLs: after the chart was found (so another practice gets its 404)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _refused(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [str(exc) or gettext("That is not allowed.")]:
        messages.error(request, message)


@staff_required
def chart_summary(request, patient_id):
    patient = scoped_patient(request, patient_id)
    services.chart_viewed(request.user, patient=patient, what="clinical summary")
    summary_body = record_cache.chart_rendering(
        "staff-summary",
        patient,
        request.practice.time_zone,
        "charts/summary_body.html",
        {
            "patient": patient,
            # Read only when the cached rendering is missing or stale.
            "sections": SimpleLazyObject(lambda: selectors.record_sections(patient)),
            "encounters": SimpleLazyObject(
                lambda: selectors.encounters_of(patient)[: selectors.SUMMARY_ROWS]
            ),
        },
    )
    return render(
        request,
        "charts/record_summary.html",
        {"patient": patient, "summary_body": summary_body},
    )


@staff_required
def item_list(request, patient_id, kind):
    patient = scoped_patient(request, patient_id)
    model = list_model(kind)
    services.chart_viewed(request.user, patient=patient, what=f"list {kind}")
    section = selectors.RecordSection(
        kind, model, list(selectors.item_rows_of(patient, model)), False
    )
    return render(request, "charts/item_list.html", {"patient": patient, "section": section})


def _item_form_page(request, patient, model, kind, *, item=None):
    open_encounters = list(selectors.encounters_of(patient).filter(signed_at__isnull=True))
    form_class = item_form_class(model)
    if request.method == "POST":
        form = form_class(request.POST, instance=item, encounters=open_encounters)
        if form.is_valid():
            values = form.service_values()
            try:
                if item is None:
                    services.item_create(request.user, patient=patient, model=model, **values)
                else:
                    services.item_update(request.user, item=item, **values)
            except ValidationError as exc:
                if item is not None:
                    item.refresh_from_db()
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("charts:item_list", patient_id=patient.public_id, kind=kind)
    else:
        initial = {}
        if item is None:
            initial = {
                "shared_with_patient": model.SHARED_BY_DEFAULT,
                "recorded_on": timezone.localdate(),
                "encounter": request.GET.get("encounter", ""),
            }
        elif item.encounter_id:
            initial = {"encounter": str(item.encounter.public_id)}
        form = form_class(instance=item, initial=initial, encounters=open_encounters)
        services.chart_viewed(request.user, patient=patient, what=f"{kind} form")
    system = getattr(model, "CODE_SYSTEM", "")
    return render(
        request,
        "charts/item_form.html",
        {
            "patient": patient,
            "form": form,
            "item": item,
            "kind": kind,
            "title": selectors.SECTION_TITLES[kind],
            "locked": item is not None and item.encounter_id and item.encounter.is_signed,
            "code_options": code_list(system) if "code" in form.fields else (),
        },
    )


@staff_required
def item_new(request, patient_id, kind):
    patient = scoped_patient(request, patient_id)
    return _item_form_page(request, patient, list_model(kind), kind)


@staff_required
def item_edit(request, patient_id, kind, item_id):
    patient = scoped_patient(request, patient_id)
    model = list_model(kind)
    return _item_form_page(request, patient, model, kind, item=scoped_item(patient, model, item_id))


@staff_required
def item_share(request, patient_id, kind, item_id):
    patient = scoped_patient(request, patient_id)
    model = list_model(kind)
    item = scoped_item(patient, model, item_id)
    if refused := _post_only(request):
        return refused
    shared = request.POST.get("shared") == "yes"
    try:
        services.item_share(request.user, item=item, shared=shared)
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            gettext("Shared with the patient.")
            if shared
            else gettext("No longer shared with the patient."),
        )
    if request.POST.get("next") == "encounter" and item.encounter_id:
        return redirect(
            "charts:encounter",
            patient_id=patient.public_id,
            encounter_id=item.encounter.public_id,
        )
    return redirect("charts:item_list", patient_id=patient.public_id, kind=kind)


@staff_required
def encounter_new(request, patient_id):
    patient = scoped_patient(request, patient_id)
    form = EncounterForm(request.POST or None, initial={"visit_date": timezone.localdate()})
    if request.method != "POST":
        services.chart_viewed(request.user, patient=patient, what="new encounter form")
    if request.method == "POST" and form.is_valid():
        provider = request.user if permissions.can_sign_encounters(request.membership) else None
        try:
            encounter = services.encounter_create(
                request.user, patient=patient, provider=provider, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, gettext("Encounter started."))
            return redirect(
                "charts:encounter", patient_id=patient.public_id, encounter_id=encounter.public_id
            )
    return render(request, "charts/encounter_form.html", {"patient": patient, "form": form})


@staff_required
def encounter(request, patient_id, encounter_id):
    """The visit: its note (editable until signed), sign, amendments, and share choices."""
    patient = scoped_patient(request, patient_id)
    visit = scoped_encounter(patient, encounter_id)
    # A provider marks the visit confidential in the share form; others with the note.
    with_confidential = not permissions.can_sign_encounters(request.membership)
    form = EncounterForm(instance=visit, with_confidential=with_confidential)
    if request.method == "POST":
        form = EncounterForm(request.POST, instance=visit, with_confidential=with_confidential)
        if form.is_valid():
            try:
                services.encounter_update(request.user, encounter=visit, **form.cleaned_data)
            except ValidationError as exc:
                visit.refresh_from_db()
                apply_service_errors(form, exc)
            else:
                messages.success(request, gettext("Note saved."))
                return redirect(request.path)
        visit.refresh_from_db()
    else:
        services.chart_viewed(request.user, patient=patient, what="encounter")
    return _render_encounter(request, patient, visit, form=form)


def _render_encounter(request, patient, visit, *, form=None, amend_form=None, status=200):
    sections = selectors.encounter_items(visit)
    items = [item for section in sections for item in section.items]
    may_sign = permissions.can_sign_encounters(request.membership)
    return render(
        request,
        "charts/encounter.html",
        {
            "patient": patient,
            "encounter": visit,
            "form": form or EncounterForm(instance=visit, with_confidential=not may_sign),
            "amend_form": amend_form or AmendmentForm(),
            "share_form": EncounterShareForm(
                initial={
                    "note_shared_with_patient": visit.note_shared_with_patient,
                    "confidential_from_representatives": (visit.confidential_from_representatives),
                },
                items=items,
            ),
            "sections": sections,
            "amendments": list(visit.amendments.select_related("author")),
            "may_sign": may_sign,
        },
        status=status,
    )


def _encounter_action(request, patient_id, encounter_id):
    """The chart and encounter an action URL names (404 elsewhere), and a 405 unless POST."""
    patient = scoped_patient(request, patient_id)
    visit = scoped_encounter(patient, encounter_id)
    return patient, visit, _post_only(request)


@staff_required
def encounter_sign(request, patient_id, encounter_id):
    patient, visit, refused = _encounter_action(request, patient_id, encounter_id)
    if refused:
        return refused
    try:
        services.encounter_sign(request.user, encounter=visit)
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, gettext("Encounter signed."))
    return redirect("charts:encounter", patient_id=patient.public_id, encounter_id=visit.public_id)


@staff_required
def encounter_amend(request, patient_id, encounter_id):
    patient, visit, refused = _encounter_action(request, patient_id, encounter_id)
    if refused:
        return refused
    amend_form = AmendmentForm(request.POST)
    if amend_form.is_valid():
        try:
            services.encounter_amend(request.user, encounter=visit, **amend_form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(amend_form, exc)
        else:
            messages.success(request, gettext("Amendment added."))
            return redirect(
                "charts:encounter", patient_id=patient.public_id, encounter_id=visit.public_id
            )
    return _render_encounter(request, patient, visit, amend_form=amend_form, status=400)


@staff_required
def encounter_share(request, patient_id, encounter_id):
    """One form sets the note's share flag and each attached item's, and what of the visit is
    confidential from representatives: the visit, and each item (providers only)."""
    patient, visit, refused = _encounter_action(request, patient_id, encounter_id)
    if refused:
        return refused
    items = [i for s in selectors.encounter_items(visit) for i in s.items]
    if "shown" in request.POST:
        # Only the items the page showed (an unchecked box is not sent: an item attached since
        # the page was drawn would otherwise lose its sharing and its confidentiality).
        shown = set(request.POST.getlist("shown"))
        items = [item for item in items if str(item.public_id) in shown]
    form = EncounterShareForm(request.POST, items=items)
    form.is_valid()  # check boxes only: every submission is valid
    choices = form.cleaned_data
    try:
        with transaction.atomic():
            services.encounter_share(
                request.user, encounter=visit, note_shared=choices["note_shared_with_patient"]
            )
            services.encounter_confidential_set(
                request.user,
                encounter=visit,
                confidential=choices["confidential_from_representatives"],
            )
            for item in items:
                services.item_share(
                    request.user, item=item, shared=choices[f"item-{item.public_id}"]
                )
                services.item_confidential_set(
                    request.user,
                    item=item,
                    confidential=choices[f"confidential-{item.public_id}"],
                )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, gettext("Share choices saved."))
    return redirect("charts:encounter", patient_id=patient.public_id, encounter_id=visit.public_id)


@staff_required
def code_search(request, system):
    """Search-as-you-type over the shipped code lists: {"results": [{code, display, ...}]}."""
    if system not in CodeSystem.values:
        raise Http404("No such code system.")
    query = request.GET.get("q", "")[:100]
    results = codes_search(system, query, category=request.GET.get("category", "")[:20])
    return JsonResponse({"results": [c.as_json() for c in results]})
