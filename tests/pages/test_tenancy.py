"""Tenancy: another practice's staff get 404 on every chart URL of this practice, whatever
the method (DESIGN "Tenancy": never a 403 that reveals the chart exists).

The test walks `portico.charts.urls`, so a chart URL added later is covered without
anyone remembering to add it here.
"""

import datetime as dt

import pytest
from django.urls import URLPattern, reverse

from portico.audit.models import AuditEvent
from portico.charts import services
from portico.charts import urls as chart_urls
from portico.charts.models import LabResult
from portico.portal.models import Invitation, PortalAccess
from portico.portal.staff_views import ACTIONS
from tests import factories
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

# Practice-wide pages that take no chart: the list and the new-chart form work inside the
# visitor's own practice. Any other URL without a chart id must be added here on purpose.
PRACTICE_WIDE = {"patient_list", "patient_new", "code_search"}
# Placeholders for ids of things on the chart, made by the test (see _chart_things).
ITEM, ENCOUNTER = "item", "encounter"


def _values_for(pattern: URLPattern) -> list[dict[str, str]]:
    """Every way to fill the pattern's parameters, with a placeholder for the chart id."""
    names = set(pattern.pattern.converters)
    unknown = names - {"patient_id", "action", "kind", "item_id", "encounter_id"}
    assert not unknown, f"teach test_tenancy about URL parameter(s) {unknown} of {pattern.name}"
    actions = list(ACTIONS) if "action" in names else [None]
    placeholders = {"kind": "labs", "item_id": ITEM, "encounter_id": ENCOUNTER}
    fixed = {k: v for k, v in placeholders.items() if k in names}
    return [{"action": a, **fixed} if a else dict(fixed) for a in actions]


def _chart_things(actor, patient, values: dict) -> dict:
    """Fill the placeholders with an encounter and a lab result of the chart."""
    if not {ITEM, ENCOUNTER} & set(values.values()):
        return values
    encounter = services.encounter_create(actor, patient=patient, visit_date=dt.date(2026, 1, 2))
    item = services.item_create(
        actor,
        patient=patient,
        model=LabResult,
        encounter=encounter,
        code="2345-7",
        value="90",
        recorded_on=dt.date(2026, 1, 2),
    )
    ids = {ITEM: str(item.public_id), ENCOUNTER: str(encounter.public_id)}
    return {k: ids.get(v, v) for k, v in values.items()}


def chart_url_cases():
    cases = []
    for pattern in chart_urls.urlpatterns:
        names = set(pattern.pattern.converters)
        if "patient_id" not in names:
            assert pattern.name in PRACTICE_WIDE, f"{pattern.name} takes no chart: is that right?"
            continue
        for values in _values_for(pattern):
            for method in ("get", "post"):
                for query in ("", "?portal=open"):
                    label = "/".join(filter(None, [pattern.name, values.get("action")]))
                    cases.append(
                        pytest.param(
                            pattern.name, values, method, query, id=f"{method}-{label}{query}"
                        )
                    )
    return cases


POST_BODIES = [
    {},
    {"confirmed": "yes", "email": "attacker@example.test", "phone": ""},
    {
        "legal_first_name": "X",
        "legal_last_name": "Y",
        "date_of_birth": "1980-01-01",
        "sex": "male",
        "email": "x@example.test",
    },
]


@pytest.mark.parametrize(("name", "values", "method", "query"), chart_url_cases())
def test_staff_of_another_practice_get_404_on_every_chart_url(
    client, outsider, admin, practice, name, values, method, query
):
    patient = factories.make_patient(practice)
    factories.invite(admin, patient)
    values = _chart_things(admin, patient, values)
    before = (
        Invitation.objects.count(),
        AuditEvent.objects.count(),
        patient.legal_last_name,
        patient.email,
    )
    url = reverse(f"charts:{name}", kwargs={"patient_id": patient.public_id, **values}) + query
    sign_in(client, outsider)

    bodies = POST_BODIES if method == "post" else [None]
    for body in bodies:
        response = getattr(client, method)(url, body) if body is not None else client.get(url)
        assert response.status_code == 404, (url, method, body)

    patient.refresh_from_db()
    assert before == (
        Invitation.objects.count(),
        AuditEvent.objects.count(),
        patient.legal_last_name,
        patient.email,
    )
    assert PortalAccess.objects.get(patient=patient).state == "invited"


def test_another_practices_chart_is_not_listed_or_found_by_search(client, outsider, practice):
    patient = factories.make_patient(practice, legal_last_name="Hidden")
    sign_in(client, outsider)

    for query in ("", "Hidden", patient.date_of_birth.isoformat()):
        response = client.get(reverse("charts:patient_list"), {"q": query})
        assert str(patient.public_id) not in response.content.decode()
        assert parse(response).find("table", class_="patients") is None


def test_chart_404_looks_the_same_as_a_chart_that_does_not_exist(client, outsider, practice):
    import uuid

    patient = factories.make_patient(practice)
    sign_in(client, outsider)

    real = client.get(reverse("charts:chart", args=[patient.public_id]))
    made_up = client.get(reverse("charts:chart", args=[uuid.uuid4()]))
    assert real.status_code == made_up.status_code == 404
    # What a person reads is the same; the bytes are not (the signed-in page's session-warning
    # form carries a fresh CSRF token and the page's own address).
    assert parse(real).text == parse(made_up).text
