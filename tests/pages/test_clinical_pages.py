"""Staff pages of the clinical record (SPEC §2.2): summary, list forms, encounters, code
search; query counts do not grow with list sizes."""

import datetime as dt

import pytest
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.charts import services
from portico.charts.models import CLINICAL_LISTS, Encounter, LabResult, Problem
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def summary_url(patient):
    return reverse("charts:chart_summary", args=[patient.public_id])


def new_url(patient, kind):
    return reverse("charts:item_new", args=[patient.public_id, kind])


def encounter_url(encounter):
    return reverse("charts:encounter", args=[encounter.patient.public_id, encounter.public_id])


def fill_chart(actor, patient, per_list: int) -> None:
    """`per_list` items in every list and as many encounters, through the services."""
    day = dt.date(2025, 1, 1)
    for n in range(per_list):
        on = day + dt.timedelta(days=n)

        def add(model, on=on, **values):
            services.item_create(actor, patient=patient, model=model, recorded_on=on, **values)

        add(CLINICAL_LISTS["problems"], code="I10")
        add(CLINICAL_LISTS["medications"], code="29046", instructions="10 mg")
        add(CLINICAL_LISTS["allergies"], display="Latex", severity="mild")
        add(CLINICAL_LISTS["immunizations"], code="140")
        add(CLINICAL_LISTS["procedures"], display="Ear irrigation")
        add(CLINICAL_LISTS["care-plans"], title="Walk daily")
        add(CLINICAL_LISTS["vitals"], kind="heart_rate", value=70)
        add(CLINICAL_LISTS["labs"], code="2345-7", value="130", reference_high="99")
        add(CLINICAL_LISTS["assessments"], kind="screening", display="PHQ-2", result="0")
        services.encounter_create(actor, patient=patient, visit_date=on, note="Visit")


@pytest.mark.parametrize("page", ["summary", "list", "encounter"])
def test_record_pages_make_the_same_number_of_queries_for_5_or_50_items(
    client, staff, practice, django_assert_max_num_queries, page
):
    sign_in(client, staff)
    counts = []
    for size in (5, 50):
        patient = factories.make_patient(practice)
        fill_chart(staff, patient, size)
        url = {
            "summary": summary_url(patient),
            "list": reverse("charts:item_list", args=[patient.public_id, "labs"]),
            "encounter": encounter_url(Encounter.objects.filter(patient=patient).first()),
        }[page]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(counts[0]):
        client.get(url)


def test_the_summary_lists_every_section_newest_first_with_abnormal_labs_marked(
    client, staff, patient
):
    fill_chart(staff, patient, 3)
    sign_in(client, staff)
    page = parse(client.get(summary_url(patient)))
    headings = [h.text for h in page.find_all("h2")]
    for title in (
        "Encounters",
        "Diagnoses and problems",
        "Medications",
        "Allergies",
        "Immunizations",
        "Procedures",
        "Care plans",
        "Vitals",
        "Lab results",
        "Screenings, interventions and assessments",
    ):
        assert title in headings
    labs = page.one("table", class_="record-labs")
    dates = [row.find("td").text for row in labs.find("tbody").find_all("tr")]
    assert dates == ["01/03/2025", "01/02/2025", "01/01/2025"]
    assert "High" in labs.text and "Not shared" in labs.text
    assert AuditEvent.objects.filter(action="chart.view", details__page="clinical summary").exists()


def test_staff_add_a_lab_result_with_the_form_and_see_it_listed(client, staff, patient):
    sign_in(client, staff)
    page = parse(client.get(new_url(patient, "labs")))
    assert page.one("input", name="code")["list"] == "code-options"
    assert page.one("datalist", id="code-options").find("option", value="4548-4")
    assert page.one("input", name="shared_with_patient").get("checked") is None
    response = client.post(
        new_url(patient, "labs"),
        {
            "code": "4548-4",
            "display": "",
            "value": "8.2",
            "unit": "%",
            "reference_low": "4",
            "reference_high": "5.6",
            "flag": "",
            "recorded_on": "2026-11-02",
            "encounter": "",
        },
        follow=True,
    )
    lab = LabResult.objects.get()
    assert lab.flag == "H" and not lab.shared_with_patient
    assert lab.display.startswith("Hemoglobin A1c")
    assert "Hemoglobin A1c" in parse(response).one("table").text


def test_a_bad_form_shows_the_message_next_to_the_field_and_stores_nothing(client, staff, patient):
    sign_in(client, staff)
    response = client.post(
        new_url(patient, "problems"),
        {
            "code": "not-a-code",
            "display": "x\x07y",
            "recorded_on": "2999-01-01",
            "status": "active",
        },
    )
    assert response.status_code == 200
    page = parse(response)
    invalid = {div.one("label").get("for") for div in page.find_all("div", class_="field-invalid")}
    assert {"id_code", "id_display", "id_recorded_on"} <= invalid
    assert not Problem.objects.exists()


def test_an_entry_of_a_signed_visit_has_no_edit_form(client, staff, provider, patient):
    encounter = services.encounter_create(staff, patient=patient, visit_date=dt.date(2026, 1, 5))
    item = services.item_create(
        staff,
        patient=patient,
        model=Problem,
        encounter=encounter,
        code="I10",
        recorded_on=dt.date(2026, 1, 5),
    )
    services.encounter_sign(provider, encounter=encounter)
    sign_in(client, staff)
    url = reverse("charts:item_edit", args=[patient.public_id, "problems", item.public_id])
    page = parse(client.get(url))
    assert page.find("form", class_="grid-form") is None
    assert "Amend the encounter" in page.text
    client.post(url, {"code": "E11.9", "recorded_on": "2026-01-05", "status": "active"})
    item.refresh_from_db()
    assert item.code == "I10"


def test_in_the_tables_a_signed_visits_entry_links_to_the_visit_and_others_to_their_form(
    client, staff, provider, patient
):
    encounter = services.encounter_create(staff, patient=patient, visit_date=dt.date(2026, 1, 5))
    signed = services.item_create(
        staff, patient=patient, model=Problem, encounter=encounter, code="I10",
        recorded_on=dt.date(2026, 1, 5),
    )  # fmt: skip
    loose = services.item_create(
        staff, patient=patient, model=Problem, code="E11.9", recorded_on=dt.date(2026, 1, 6)
    )
    services.encounter_sign(provider, encounter=encounter)
    sign_in(client, staff)
    visit = reverse("charts:encounter", args=[patient.public_id, encounter.public_id])
    edit = reverse("charts:item_edit", args=[patient.public_id, "problems", loose.public_id])
    for url in (
        reverse("charts:chart_summary", args=[patient.public_id]),
        reverse("charts:item_list", args=[patient.public_id, "problems"]),
    ):
        links = [a.attrs.get("href") for a in parse(client.get(url)).find_all("a")]
        assert visit in links and edit in links, url
        assert str(signed.public_id) not in " ".join(links), url


def test_a_provider_records_signs_amends_and_shares_a_visit(client, provider, patient):
    sign_in(client, provider)
    response = client.post(
        reverse("charts:encounter_new", args=[patient.public_id]),
        {"visit_date": "2026-11-02", "note": "Follow-up of blood sugar."},
    )
    encounter = Encounter.objects.get()
    assert response.url == encounter_url(encounter)
    client.post(
        new_url(patient, "labs") + f"?encounter={encounter.public_id}",
        {
            "code": "4548-4",
            "value": "7.9",
            "reference_high": "5.6",
            "recorded_on": "2026-11-02",
            "encounter": str(encounter.public_id),
        },
    )
    lab = LabResult.objects.get()
    assert lab.encounter == encounter
    page = parse(client.get(encounter_url(encounter)))
    assert page.one("button", text="Sign encounter")

    client.post(reverse("charts:encounter_sign", args=[patient.public_id, encounter.public_id]))
    encounter.refresh_from_db()
    assert encounter.is_signed
    page = parse(client.get(encounter_url(encounter)))
    assert page.find("button", text="Sign encounter") is None
    assert page.find("textarea", name="note") is None

    client.post(
        reverse("charts:encounter_amend", args=[patient.public_id, encounter.public_id]),
        {"text": "A1c repeated in 3 months."},
    )
    assert "A1c repeated in 3 months." in parse(client.get(encounter_url(encounter))).text

    client.post(
        reverse("charts:encounter_share", args=[patient.public_id, encounter.public_id]),
        {"note_shared_with_patient": "on", f"item-{lab.public_id}": "on"},
    )
    encounter.refresh_from_db()
    lab.refresh_from_db()
    assert encounter.is_visible_to_patient and lab.shared_with_patient


def test_staff_see_no_sign_button_and_cannot_sign_by_posting(client, staff, patient):
    encounter = services.encounter_create(staff, patient=patient, visit_date=dt.date(2026, 1, 5))
    sign_in(client, staff)
    page = parse(client.get(encounter_url(encounter)))
    assert page.find("button", text="Sign encounter") is None
    client.post(reverse("charts:encounter_sign", args=[patient.public_id, encounter.public_id]))
    encounter.refresh_from_db()
    assert not encounter.is_signed


def test_action_urls_answer_get_with_405(client, staff, patient):
    encounter = services.encounter_create(staff, patient=patient, visit_date=dt.date(2026, 1, 5))
    sign_in(client, staff)
    url = reverse("charts:encounter_sign", args=[patient.public_id, encounter.public_id])
    assert client.get(url).status_code == 405


def test_code_search_answers_json_for_staff_only(client, staff):
    url = reverse("charts:code_search", args=["icd10cm"])
    assert client.get(url, {"q": "diab"}).status_code in (302, 403)
    sign_in(client, staff)
    results = client.get(url, {"q": "type 2 diab"}).json()["results"]
    assert results[0]["code"].startswith("E11")
    assert client.get(reverse("charts:code_search", args=["nope"])).status_code == 404
    assert client.get(url).json() == {"results": []}


def test_an_unknown_list_is_404(client, staff, patient):
    sign_in(client, staff)
    assert client.get(reverse("charts:item_list", args=[patient.public_id, "x"])).status_code == 404


@pytest.mark.parametrize("kind", list(CLINICAL_LISTS))
def test_every_list_has_working_add_and_edit_forms(client, staff, patient, kind):
    fill_chart(staff, patient, 1)
    item = CLINICAL_LISTS[kind].objects.get()
    sign_in(client, staff)
    assert parse(client.get(new_url(patient, kind))).one("form", class_="grid-form")
    url = reverse("charts:item_edit", args=[patient.public_id, kind, item.public_id])
    form = parse(client.get(url)).one("form", class_="grid-form")
    data = {}
    for field in form.find_all("input"):
        if field.get("type") == "checkbox":
            if field.get("checked") is not None:
                data[field["name"]] = "on"
        elif field.get("name"):
            data[field["name"]] = field.get("value", "")
    for select in form.find_all("select"):
        chosen = select.find("option", selected="") or select.find("option")
        data[select["name"]] = chosen.get("value", "")
    for area in form.find_all("textarea"):
        data[area["name"]] = area.text
    data["recorded_on"] = "2025-02-01"
    response = client.post(url, data)
    assert response.status_code == 302, parse(response).text
    item.refresh_from_db()
    assert item.recorded_on == dt.date(2025, 2, 1)
    assert AuditEvent.objects.filter(action="clinical.update", details__fields=["recorded_on"])
