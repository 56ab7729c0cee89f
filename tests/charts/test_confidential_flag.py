"""SPEC §9.3: providers mark items and encounters "confidential from representatives" where
they add, edit and share them; every change goes through a service, is audited and raises the
record version; staff see which items are marked; bad input and other practices change
nothing."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.charts import services
from portico.charts.models import CLINICAL_LISTS, Encounter, Patient
from tests import factories
from tests.charts.test_clinical_services import VALID
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
FLAG = "confidential_from_representatives"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def version(patient) -> int:
    return Patient.objects.values_list("record_version", flat=True).get(pk=patient.pk)


def add(actor, patient, slug, **extra):
    return services.item_create(
        actor, patient=patient, model=CLINICAL_LISTS[slug], **{**VALID[slug], **extra}
    )


def reload(row):
    return type(row).objects.get(pk=row.pk)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- Services ------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", list(CLINICAL_LISTS))
def test_items_start_not_confidential_and_may_be_added_confidential(staff, patient, slug):
    assert getattr(add(staff, patient, slug), FLAG) is False
    item = add(staff, patient, slug, **{FLAG: True})
    assert reload(item).confidential_from_representatives is True
    event = events("clinical.create")[-1]
    assert event.details == {"list": slug, "item": str(item.public_id), "confidential": True}


@pytest.mark.parametrize("slug", list(CLINICAL_LISTS))
def test_marking_and_clearing_an_item_is_audited_and_raises_the_record_version(
    staff, patient, slug
):
    item = add(staff, patient, slug)
    for confidential in (True, False):
        before = version(patient)
        services.item_confidential_set(staff, item=item, confidential=confidential)
        assert reload(item).confidential_from_representatives is confidential
        assert version(patient) > before
        event = events("clinical.confidential")[-1]
        assert event.actor == staff and event.patient == patient
        assert event.details == {
            "list": slug,
            "item": str(item.public_id),
            "confidential": confidential,
        }
    assert len(events("clinical.confidential")) == 2


def test_setting_the_flag_it_already_has_changes_and_audits_nothing(staff, patient):
    item = add(staff, patient, "problems", **{FLAG: True})
    before = version(patient)
    services.item_confidential_set(staff, item=item, confidential=True)
    assert version(patient) == before
    assert not events("clinical.confidential")


def test_an_edit_may_mark_an_item_and_the_audit_names_the_field(staff, patient):
    item = add(staff, patient, "medications")
    before = version(patient)
    services.item_update(staff, item=item, **{FLAG: True})
    assert reload(item).confidential_from_representatives is True
    assert version(patient) > before
    assert events("clinical.update")[-1].details["fields"] == [FLAG]


@pytest.mark.parametrize("value", ["yes", 1, None, "true"])
def test_a_flag_that_is_not_yes_or_no_is_refused_and_nothing_changes(staff, patient, value):
    item = add(staff, patient, "labs")
    before = version(patient)
    with pytest.raises(ValidationError) as refused:
        services.item_confidential_set(staff, item=item, confidential=value)
    assert FLAG in refused.value.message_dict
    if value is not None:  # None means "not given" to the edit, which changes nothing
        with pytest.raises(ValidationError):
            services.item_update(staff, item=item, **{FLAG: value})
        with pytest.raises(ValidationError):
            add(staff, patient, "labs", **{FLAG: value})
    encounter = services.encounter_create(staff, patient=patient, visit_date=TODAY)
    with pytest.raises(ValidationError):
        services.encounter_confidential_set(staff, encounter=encounter, confidential=value)
    with pytest.raises(ValidationError):
        services.encounter_create(staff, patient=patient, visit_date=TODAY, **{FLAG: value})
    assert reload(item).confidential_from_representatives is False
    assert reload(encounter).confidential_from_representatives is False
    assert not events("clinical.confidential") and not events("encounter.confidential")
    assert CLINICAL_LISTS["labs"].objects.count() == 1
    assert Encounter.objects.count() == 1
    assert version(patient) == before + 1  # the encounter created above, nothing else


def test_encounters_are_marked_when_opened_edited_and_afterwards(staff, provider, patient):
    encounter = services.encounter_create(staff, patient=patient, visit_date=TODAY, **{FLAG: True})
    assert encounter.confidential_from_representatives is True
    assert events("encounter.create")[-1].details == {
        "encounter": str(encounter.public_id),
        "confidential": True,
    }
    before = version(patient)
    services.encounter_update(staff, encounter=encounter, **{FLAG: False})
    assert reload(encounter).confidential_from_representatives is False
    assert events("encounter.update")[-1].details["fields"] == [FLAG]
    assert version(patient) > before

    services.encounter_sign(provider, encounter=encounter)
    before = version(patient)
    services.encounter_confidential_set(provider, encounter=encounter, confidential=True)
    assert reload(encounter).confidential_from_representatives is True
    assert version(patient) > before
    event = events("encounter.confidential")[-1]
    assert event.actor == provider
    assert event.details == {"encounter": str(encounter.public_id), "confidential": True}


def test_once_a_visit_is_signed_only_a_provider_changes_what_of_it_is_confidential(
    staff, provider, patient
):
    encounter = services.encounter_create(staff, patient=patient, visit_date=TODAY)
    item = add(staff, patient, "labs", encounter=encounter)
    # Unsigned: any member of the practice may.
    services.item_confidential_set(staff, item=item, confidential=True)
    services.encounter_confidential_set(staff, encounter=encounter, confidential=True)

    services.encounter_sign(provider, encounter=encounter)
    with pytest.raises(PermissionDenied):
        services.item_confidential_set(staff, item=item, confidential=False)
    with pytest.raises(PermissionDenied):
        services.encounter_confidential_set(staff, encounter=encounter, confidential=False)
    assert reload(item).confidential_from_representatives is True
    assert reload(encounter).confidential_from_representatives is True

    services.item_confidential_set(provider, item=item, confidential=False)
    services.encounter_confidential_set(provider, encounter=encounter, confidential=False)
    assert reload(item).confidential_from_representatives is False
    assert reload(encounter).confidential_from_representatives is False


def test_staff_of_another_practice_cannot_mark_anything(outsider, staff, patient):
    item = add(staff, patient, "problems")
    encounter = services.encounter_create(staff, patient=patient, visit_date=TODAY)
    for attempt in (
        lambda: services.item_confidential_set(outsider, item=item, confidential=True),
        lambda: services.encounter_confidential_set(
            outsider, encounter=encounter, confidential=True
        ),
        lambda: services.item_update(outsider, item=item, **{FLAG: True}),
        lambda: services.encounter_update(outsider, encounter=encounter, **{FLAG: True}),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert reload(item).confidential_from_representatives is False
    assert reload(encounter).confidential_from_representatives is False


def test_only_rows_shared_and_not_confidential_reach_a_representatives_reading(staff, patient):
    """The one reading of the rule (ClinicalItemQuerySet.shared): an item of a confidential
    visit is kept from representatives whatever its own flag says."""
    problems = CLINICAL_LISTS["problems"]
    plain = add(staff, patient, "problems")
    marked = add(staff, patient, "problems", **{FLAG: True})
    unshared = add(staff, patient, "problems", shared_with_patient=False)
    visit = services.encounter_create(staff, patient=patient, visit_date=TODAY, **{FLAG: True})
    of_visit = add(staff, patient, "problems", encounter=visit)
    mine = problems.objects.filter(patient=patient)
    assert set(mine.shared()) == {plain, marked, of_visit}
    assert set(mine.shared(confidential=False)) == {plain}
    assert unshared not in set(mine.shared())


# --- Staff pages ---------------------------------------------------------------------------------


def item_url(name, item, kind):
    return reverse(name, args=[item.patient.public_id, kind, item.public_id])


def encounter_url(name, encounter):
    return reverse(name, args=[encounter.patient.public_id, encounter.public_id])


DEPRESSION = {
    "code": "F32.A",
    "display": "Depression",
    "recorded_on": "2026-11-01",
    "status": "active",
}


def test_staff_mark_an_item_on_the_add_form_and_clear_it_on_the_edit_form(client, staff, patient):
    sign_in(client, staff)
    new = reverse("charts:item_new", args=[patient.public_id, "problems"])
    page = parse(client.get(new))
    box = page.one("input", name=FLAG)
    assert box["type"] == "checkbox" and box.get("checked") is None
    response = client.post(
        new,
        {**DEPRESSION, FLAG: "on"},
    )
    assert response.status_code == 302
    item = CLINICAL_LISTS["problems"].objects.get()
    assert item.confidential_from_representatives is True

    edit = item_url("charts:item_edit", item, "problems")
    assert parse(client.get(edit)).one("input", name=FLAG).get("checked") is not None
    response = client.post(edit, DEPRESSION)
    assert response.status_code == 302
    assert reload(item).confidential_from_representatives is False
    assert events("clinical.update")[-1].details["fields"] == [FLAG]


def test_staff_see_which_items_and_visits_are_marked_in_the_chart_lists(
    client, staff, provider, patient
):
    sign_in(client, staff)
    summary = reverse("charts:chart_summary", args=[patient.public_id])
    client.get(summary)  # cached before the marks: the marks show on the next view anyway
    add(staff, patient, "medications", display="Lisinopril 10 mg")
    secret = add(staff, patient, "medications", display="Sertraline 50 mg", **{FLAG: True})
    visit = services.encounter_create(staff, patient=patient, visit_date=TODAY, **{FLAG: True})
    of_visit = add(staff, patient, "labs", display="HIV screen", value="Negative", encounter=visit)

    def badge_of(page, text):
        row = next(tr for tr in page.find_all("tr") if text in tr.text)
        return [b.text for b in row.find_all(class_="badge-confidential")]

    listing = parse(
        client.get(reverse("charts:item_list", args=[patient.public_id, "medications"]))
    )
    assert badge_of(listing, "Sertraline") == ["Confidential from representatives"]
    assert badge_of(listing, "Lisinopril") == []
    page = parse(client.get(summary))
    assert badge_of(page, "Sertraline") == ["Confidential from representatives"]
    assert badge_of(page, "HIV screen") == ["Confidential from representatives (its visit is)"]
    assert badge_of(page, TODAY.strftime("%m/%d/%Y")) == ["Confidential from representatives"]
    assert of_visit.confidential_from_representatives is False
    visit_page = parse(client.get(encounter_url("charts:encounter", visit)))
    assert visit_page.find(class_="badge-confidential") is not None
    assert secret.confidential_from_representatives is True


def test_a_provider_marks_a_visit_and_its_entries_in_the_share_form(client, provider, patient):
    visit = services.encounter_create(provider, patient=patient, visit_date=TODAY, note="Seen")
    lab = add(provider, patient, "labs", encounter=visit, shared_with_patient=True)
    vital = add(provider, patient, "vitals", encounter=visit)
    services.encounter_sign(provider, encounter=visit)
    sign_in(client, provider)
    page = parse(client.get(encounter_url("charts:encounter", visit)))
    form = page.one("form", action=encounter_url("charts:encounter_share", visit))
    assert form.one("input", name=FLAG)
    assert form.one("input", name=f"confidential-{lab.public_id}")
    assert page.find("input", name=FLAG, type="checkbox") is form.one("input", name=FLAG)

    response = client.post(
        encounter_url("charts:encounter_share", visit),
        {
            "shown": [str(lab.public_id), str(vital.public_id)],
            "note_shared_with_patient": "on",
            f"item-{lab.public_id}": "on",
            f"item-{vital.public_id}": "on",
            f"confidential-{lab.public_id}": "on",
        },
    )
    assert response.status_code == 302
    assert reload(lab).confidential_from_representatives is True
    assert reload(vital).confidential_from_representatives is False
    assert reload(visit).confidential_from_representatives is False
    assert [e.details["item"] for e in events("clinical.confidential")] == [str(lab.public_id)]

    client.post(
        encounter_url("charts:encounter_share", visit),
        {
            "shown": [str(lab.public_id), str(vital.public_id)],
            "note_shared_with_patient": "on",
            f"item-{lab.public_id}": "on",
            f"item-{vital.public_id}": "on",
            FLAG: "on",
        },
    )
    assert reload(visit).confidential_from_representatives is True
    assert reload(lab).confidential_from_representatives is False  # its box was cleared
    assert reload(lab).shared_with_patient and reload(visit).note_shared_with_patient


def test_a_share_form_drawn_before_an_entry_was_added_leaves_that_entry_alone(
    client, staff, provider, patient
):
    visit = services.encounter_create(provider, patient=patient, visit_date=TODAY)
    shown = add(provider, patient, "problems", encounter=visit)
    sign_in(client, provider)
    client.get(encounter_url("charts:encounter", visit))
    later = add(staff, patient, "labs", encounter=visit, shared_with_patient=True, **{FLAG: True})

    client.post(
        encounter_url("charts:encounter_share", visit),
        {"shown": [str(shown.public_id)], f"item-{shown.public_id}": "on"},
    )
    later = reload(later)
    assert later.confidential_from_representatives is True and later.shared_with_patient


def test_staff_who_are_not_providers_mark_an_unsigned_visit_with_its_note(client, staff, patient):
    sign_in(client, staff)
    response = client.post(
        reverse("charts:encounter_new", args=[patient.public_id]),
        {"visit_date": "2026-11-20", "note": "Counselling", FLAG: "on"},
    )
    assert response.status_code == 302
    visit = Encounter.objects.get()
    assert visit.confidential_from_representatives is True

    page = parse(client.get(encounter_url("charts:encounter", visit)))
    assert page.one("input", name=FLAG).get("checked") is not None
    client.post(
        encounter_url("charts:encounter", visit), {"visit_date": "2026-11-20", "note": "Seen"}
    )
    assert reload(visit).confidential_from_representatives is False
    assert reload(visit).note == "Seen"


def test_a_providers_note_form_leaves_the_visits_mark_alone(client, provider, patient):
    """On a provider's page the share form carries the mark; saving the note keeps it."""
    visit = services.encounter_create(provider, patient=patient, visit_date=TODAY, **{FLAG: True})
    sign_in(client, provider)
    client.post(
        encounter_url("charts:encounter", visit), {"visit_date": "2026-11-20", "note": "Seen"}
    )
    visit = reload(visit)
    assert visit.note == "Seen" and visit.confidential_from_representatives is True


def test_a_non_provider_cannot_change_marks_by_posting_the_share_form(
    client, staff, provider, patient
):
    visit = services.encounter_create(provider, patient=patient, visit_date=TODAY)
    item = add(provider, patient, "problems", encounter=visit, **{FLAG: True})
    sign_in(client, staff)
    client.post(encounter_url("charts:encounter_share", visit), {"shown": [str(item.public_id)]})
    assert reload(item).confidential_from_representatives is True
    assert not events("clinical.confidential") and not events("encounter.confidential")


def test_another_practices_items_and_visits_are_404_on_every_page_that_marks_them(
    client, outsider, staff, patient
):
    item = add(staff, patient, "problems")
    visit = services.encounter_create(staff, patient=patient, visit_date=TODAY)
    sign_in(client, outsider)
    for url, data in (
        (item_url("charts:item_edit", item, "problems"), {FLAG: "on"}),
        (encounter_url("charts:encounter", visit), {FLAG: "on", "visit_date": "2026-11-20"}),
        (encounter_url("charts:encounter_share", visit), {FLAG: "on"}),
    ):
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, data).status_code == 404
    # An item of this practice's chart under another chart's address is a 404 too.
    other = factories.make_patient(patient.practice)
    sign_in(client, staff)
    wrong = reverse("charts:item_edit", args=[other.public_id, "problems", item.public_id])
    assert client.post(wrong, {FLAG: "on"}).status_code == 404
    assert reload(item).confidential_from_representatives is False
    assert reload(visit).confidential_from_representatives is False
