"""SPEC §12 / issue 13: the patient's health record in Spanish, and unchanged in English.

The record's own words (headings, column names, the chart's vocabulary: statuses, severities,
lab flags, vital signs) follow the language; what the practice wrote (drug names, notes,
codes) stays as written. Dates use the language's named formats.
"""

import datetime as dt
import json
import re
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from portico.charts.models import AllergySeverity, EncounterAmendment
from portico.charts.services import chart_viewed
from portico.practices.models import Role
from tests import factories
from tests.core.test_spanish_catalogue import english_words
from tests.pages.html import parse
from tests.records import builders
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db

SPANISH_HEADINGS = {
    "appointments-heading": "Citas",
    "visits-heading": "Resúmenes de consultas",
    "problems-heading": "Problemas de salud",
    "medications-heading": "Medicamentos",
    "allergies-heading": "Alergias",
    "labs-heading": "Resultados de laboratorio",
    "vitals-heading": "Signos vitales",
    "immunizations-heading": "Vacunas",
    "procedures-heading": "Procedimientos",
    "careplans-heading": "Planes de atención",
    "assessments-heading": "Pruebas de detección, intervenciones y evaluaciones",
}
RECORD_PAGES = ("records:record", "records:download", "records:send", "records:access_log")
# English words of the finder's list that are Spanish too ("Normal", "Rango normal").
SPANISH_TOO = frozenset({"normal"})
ENGLISH_HEADINGS = {
    "appointments-heading": "Appointments",
    "visits-heading": "Visit summaries",
    "problems-heading": "Health issues",
    "medications-heading": "Medications",
    "allergies-heading": "Allergies",
    "labs-heading": "Lab results",
    "vitals-heading": "Vital signs",
    "immunizations-heading": "Immunizations",
    "procedures-heading": "Procedures",
    "careplans-heading": "Care plans",
    "assessments-heading": "Screenings, interventions and assessments",
}


@contextmanager
def spanish(client):
    """Requests in Spanish: the active language, the language cookie and the browser's
    Accept-Language, so the page is Spanish whichever the portal reads."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    try:
        with translation.override("es"):
            yield client
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]
        del client.defaults["HTTP_ACCEPT_LANGUAGE"]


def english_get(client, url):
    with translation.override("en"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def spanish_get(client, url):
    with spanish(client):
        return client.get(url)


@pytest.fixture
def record(patient, provider):
    """One shared item of every list, a signed and shared visit with an amendment, and an
    upcoming appointment."""
    for build, _text in builders.SECTIONS.values():
        build(patient, recorded_on=dt.date(2026, 11, 30))
    visit = builders.encounter(patient, provider, visit_date=dt.date(2026, 11, 30), note="Bien.")
    EncounterAmendment.objects.create(encounter=visit, text="Dosis corregida.", author=provider)
    builders.appointment(patient, provider, days_from_now=5, visit_type="Follow-up visit")


def headings(page) -> dict[str, str]:
    return {h["id"]: h.text.strip() for h in page.find_all("h2") if h.get("id") in SPANISH_HEADINGS}


def section(page, heading_id):
    return page.one("section", aria_labelledby=heading_id)


def test_the_record_reads_in_spanish(patient_client, patient, record):
    page = parse(spanish_get(patient_client, record_url(patient)))

    assert headings(page) == SPANISH_HEADINGS
    assert len(page.find_all("h1")) == 1
    main = page.one("main").text
    for english in ("Nothing shared yet", "Lab results", "Date of birth", "Health issues"):
        assert english not in main
    about = page.one("section", aria_labelledby="about-heading").text
    assert "Fecha de nacimiento" in about and "21 de abril de 1980" in about
    # Dates in words, day first; the chart's vocabulary in Spanish; the practice's own words
    # (drug names, reactions, notes) as written.
    visit = section(page, "visits-heading")
    assert "Consulta del 30 de noviembre de 2026" in visit.one("h3").text
    assert "Firmado por Dr. Paula Provider el " in visit.text
    assert "Enmienda del " in visit.one(class_="amendment").text
    allergies = section(page, "allergies-heading")
    assert "Penicillin G" in allergies.text and "Moderada" in allergies.text
    assert "30 de noviembre de 2026" in allergies.text
    problems = section(page, "problems-heading")
    assert "Type 2 diabetes mellitus" in problems.text and "Activo" in problems.text
    assert "Frecuencia cardíaca" in section(page, "vitals-heading").text
    assert "latidos/min" in section(page, "vitals-heading").text
    assert "Prueba de detección" in section(page, "assessments-heading").text
    upcoming = section(page, "appointments-heading").find("ul")
    assert "Confirmada" in upcoming.text and "con Dr. Paula Provider" in upcoming.text
    assert re.search(r"\d{1,2} de [a-z]+ de \d{4}, \d{1,2}:\d\d [AP]M", upcoming.text)


def test_a_high_lab_flag_is_a_translated_word_not_only_a_colour(patient_client, patient):
    builders.lab(patient, flag="H", display="Hemoglobin A1c")
    builders.lab(patient, flag="L", display="Ferritin", value="8", value_number=8)
    builders.lab(patient, flag="N", display="Sodium", value="140", value_number=140)

    labs = section(parse(spanish_get(patient_client, record_url(patient))), "labs-heading")
    rows = {r.find_all("td")[0].text: r for r in labs.one("tbody").find_all("tr")}
    assert rows["Hemoglobin A1c"].one(class_="lab-flag").text.strip() == "▲ Alto"
    assert rows["Ferritin"].one(class_="lab-flag").text.strip() == "▼ Bajo"
    assert "Normal" in rows["Sodium"].text
    assert [th.text for th in labs.one("thead").find_all("th")] == [
        "Prueba",
        "Resultado",
        "Rango normal",
        "Indicador",
        "Fecha de la muestra",
    ]
    assert all(th["scope"] == "col" for th in labs.find_all("th"))
    assert labs.one("caption").text == "Resultados de laboratorio"


def test_the_record_in_english_is_unchanged(patient_client, patient, record):
    page = parse(english_get(patient_client, record_url(patient)))

    assert headings(page) == ENGLISH_HEADINGS
    about = page.one("section", aria_labelledby="about-heading").text
    assert "Date of birth" in about and "April 21, 1980" in about
    visit = section(page, "visits-heading")
    assert "Visit on November 30, 2026" in visit.one("h3").text
    assert "Signed by Dr. Paula Provider on " in visit.text
    allergies = section(page, "allergies-heading")
    assert "Moderate" in allergies.text and "November 30, 2026" in allergies.text
    assert "Heart rate" in section(page, "vitals-heading").text
    upcoming = section(page, "appointments-heading").find("ul")
    assert "Confirmed" in upcoming.text and "with Dr. Paula Provider" in upcoming.text
    assert re.search(r"[A-Z][a-z]+ \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M", upcoming.text)


def test_spanish_and_english_renderings_are_cached_apart(patient_client, patient, record, settings):
    settings.PORTICO_RECORD_CACHE_SECONDS = 600
    url = record_url(patient)
    english_get(patient_client, url)
    spanish_get(patient_client, url)

    # Both are now cached (no list of the record is read again), each in its own language.
    for get, heading in ((english_get, "Allergies"), (spanish_get, "Alergias")):
        with CaptureQueriesContext(connection) as queries:
            page = parse(get(patient_client, url))
        assert not any("charts_allergy" in q["sql"] for q in queries.captured_queries)
        assert headings(page)["allergies-heading"] == heading


def test_the_printable_record_is_spanish(patient_client, patient, record):
    response = spanish_get(patient_client, record_url(patient, "records:download"))
    page = parse(response)

    assert page.one("html")["lang"] == "es"
    assert page.one("h1").text == f"Expediente de salud de {patient.full_name}"
    assert re.search(r"Impreso desde Portico el \d{1,2} de [a-z]+ de \d{4}\.", page.text)
    assert page.one("button").text == "Imprimir o guardar como PDF"
    assert headings(page) == SPANISH_HEADINGS


def test_the_fhir_download_stays_in_english(patient_client, patient, record):
    response = spanish_get(patient_client, record_url(patient, "records:download_fhir"))
    resources = [e["resource"] for e in json.loads(response.content)["entry"]]

    lab = next(r for r in resources if r["resourceType"] == "Observation" and "interpretation" in r)
    assert lab["interpretation"][0]["coding"][0]["display"] == "High"
    texts = {r["code"]["text"] for r in resources if r["resourceType"] == "Observation"}
    assert "Heart rate" in texts


def test_the_access_log_in_spanish(patient_client, patient, provider):
    chart_viewed(provider, patient=patient)

    page = parse(spanish_get(patient_client, record_url(patient, "records:access_log")))

    assert page.one("h1").text == "Registro de accesos"
    (row,) = page.one("tbody").find_all("tr")
    when, who, role, what = (td.text for td in row.find_all("td"))
    assert re.fullmatch(r"\d{1,2} de [a-z]+ de \d{4}, \d{1,2}:\d\d [AP]M", when)
    assert (who, role, what) == (
        "Dr. Paula Provider",
        "Profesional de salud (MD)",
        "Abrió su expediente",
    )


def test_a_link_sent_in_spanish_is_emailed_in_spanish(patient_client, patient, send_email):
    with spanish(patient_client), send_email:
        response = patient_client.post(
            record_url(patient, "records:send"), {"email": "dr.second@example.org"}, follow=True
        )
    page = parse(response)
    assert "El enlace va en camino." in page.text
    assert page.one("tbody").find_all("td")[3].text == "Activo"

    (message,) = mail.outbox
    assert message.subject == "Se compartió con usted un expediente de salud"
    assert "Alguien usó Portico" in message.body
    assert re.search(
        r"El enlace funciona hasta el \d{1,2} de [a-z]+ de \d{4} \(UTC\)", message.body
    )
    html = message.alternatives[0][0]
    assert '<html lang="es">' in html and "Abrir el expediente compartido" in html


def test_a_link_sent_in_english_is_emailed_in_english(patient_client, patient, send_email):
    with translation.override("en"), send_email:
        patient_client.post(record_url(patient, "records:send"), {"email": "dr.second@example.org"})

    (message,) = mail.outbox
    assert message.subject == "A health record was shared with you"
    assert re.search(r"The link works until [A-Z][a-z]+ \d{1,2}, \d{4} \(UTC\)", message.body)
    assert '<html lang="en">' in message.alternatives[0][0]


def test_the_chart_vocabulary_follows_the_language():
    with translation.override("es"):
        assert str(AllergySeverity.SEVERE.label) == "Grave"
        assert str(AllergySeverity.UNKNOWN.label) == "Desconocida"
    assert str(AllergySeverity.SEVERE.label) == "Severe"


def test_no_english_is_left_on_the_spanish_record_pages(
    patient_client, patient, practice, send_email
):
    """Text never marked for translation shows up as English words on a Spanish page. The
    chart's own data here has none, so every English word found would be the portal's."""
    doctor = factories.make_staff(
        practice, role=Role.PROVIDER, credential="MD", full_name="Dra. Ana Ruiz"
    )
    for key, (build, _text) in builders.SECTIONS.items():
        if key == "care_plans":
            build(patient, title="Control de glucosa", text="Caminar 30 minutos al día.")
        else:
            build(patient)
    builders.lab(patient, flag="L", display="Ferritin", value="8", value_number=8)
    builders.lab(patient, flag="N", display="Sodium", value="140", value_number=140)
    builders.problem(patient, display="Asthma", status="resolved", resolved_on=dt.date(2025, 1, 2))
    visit = builders.encounter(patient, doctor, note="Bien.")
    EncounterAmendment.objects.create(encounter=visit, text="Dosis corregida.", author=doctor)
    builders.appointment(patient, doctor, days_from_now=5, visit_type="Control", reason="Tos")
    builders.appointment(patient, doctor, days_from_now=-5, visit_type="Control")
    chart_viewed(doctor, patient=patient)
    with spanish(patient_client), send_email:
        patient_client.post(record_url(patient, "records:send"), {"email": "dr@example.org"})
    shared = re.search(r"https?://[^/\s]+(/shared/[^/\s]+/)", mail.outbox[0].body).group(1)

    pages = [record_url(patient, name) for name in RECORD_PAGES] + [shared, "/shared/gone/"]
    for url in pages:
        html = spanish_get(patient_client, url).content.decode()
        main = html[html.index("<main") : html.index("</main>")]  # the header is not ours
        assert english_words(main, allowed=SPANISH_TOO) == [], url
