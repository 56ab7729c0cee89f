"""Saving a page of answers costs a fixed number of queries whatever the number of questions
(issue 18's performance rule): a 10-question page and a 60-question page, through the portal
page, take the same queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.portal.models import PortalAccess
from tests import factories
from tests.intake.test_patient_pages import form_url, make_form

pytestmark = pytest.mark.django_db


def definition(n: int) -> dict:
    kinds = ["short_text", "yes_no", "number", "date", "long_text"]
    questions = [
        {"key": f"q{i}", "type": kinds[i % len(kinds)], "text": f"Question {i}"} for i in range(n)
    ]
    return {"sections": [{"key": "all", "title": "All", "questions": questions}]}


def answers(n: int) -> dict:
    values = {"short_text": "text", "yes_no": "yes", "number": "3", "date": "2026-01-02"}
    kinds = ["short_text", "yes_no", "number", "date", "long_text"]
    return {f"q-q{i}": values.get(kinds[i % len(kinds)], "long text") for i in range(n)}


def test_saving_a_page_takes_the_same_queries_for_10_and_60_questions(
    client, now, admin, staff, practice, appointment, patient
):
    account = factories.enroll(staff, patient)
    access = PortalAccess.objects.get(patient=patient)
    small = make_form(admin, staff, practice, appointment, definition(10), name="Ten")
    large = make_form(admin, staff, practice, appointment, definition(60), name="Sixty")
    factories.sign_in(client, account)
    counts = []
    for form, n in ((small, 10), (large, 60)):
        data = {"section": "1", "action": "continue", **answers(n)}
        client.post(form_url(access, form), data)  # warm (session, first save)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(form_url(access, form), data)
        assert response.status_code == 302
        form.refresh_from_db()
        assert len(form.answers) == n
        counts.append(len(queries))

    assert counts[0] == counts[1]
