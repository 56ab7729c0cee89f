"""SPEC §9.3: a representative never sees the items and visits a provider marked confidential
from representatives — not on the record page, the printable download, the FHIR bundle, nor
through a link they send — while the patient still sees them. Nothing of them leaks as a
count, an empty-section message or a cached rendering made for the patient."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from portico.charts import services as chart_services
from portico.notifications.models import OutboundEmail
from portico.portal import representation
from portico.portal import services as portal
from portico.portal.models import PortalAccess
from portico.records import fhir, selectors
from portico.records import services as records
from portico.records.models import SharedLink
from portico.records.tokens import link_token
from tests import factories
from tests.factories import enroll, enroll_representative, sign_in
from tests.records import builders

pytestmark = pytest.mark.django_db

# Each list section: the builder's values of an item only the patient may see, and the text
# the patient reads of it (the section's ordinary item, from builders.SECTIONS, reads otherwise).
SECRET = {
    "problems": ({"display": "Chlamydial infection", "code": "A56.0"}, "Chlamydial infection"),
    "medications": ({"display": "Sertraline 50 mg tablet"}, "Sertraline 50 mg tablet"),
    "allergies": ({"display": "Latex (condoms)"}, "Latex (condoms)"),
    "immunizations": ({"display": "HPV vaccine, 9-valent"}, "HPV vaccine, 9-valent"),
    "procedures": ({"display": "IUD insertion"}, "IUD insertion"),
    "care_plans": ({"title": "Alcohol use counselling plan"}, "Alcohol use counselling plan"),
    "labs": ({"display": "Chlamydia trachomatis NAAT"}, "Chlamydia trachomatis NAAT"),
    "vitals": ({"kind": "weight", "code": "29463-7", "unit": "[lb_av]"}, "Body weight"),
    "assessments": ({"display": "AUDIT-C alcohol screening"}, "AUDIT-C alcohol screening"),
}
SECRET_NOTE = "Discussed contraception in confidence."
OPEN_NOTE = "Seen for a sore throat."

# Who represents whom: the relationship, and the patient's age today.
VIEWERS = {
    "caregiver of an adult": ("caregiver", 70),
    "parent of a child under 12": ("parent", 8),
    "parent of a 14-year-old": ("parent", 14),
}


def born_years_ago(practice, years: int) -> dt.date:
    today = representation.practice_today(practice)
    return representation.birthday_at_age(today, -years) - dt.timedelta(days=30)


def make_family(admin, practice, relationship: str, age: int):
    """A chart of a patient of `age` with their own account and one representative's."""
    patient = factories.make_patient(practice, date_of_birth=born_years_ago(practice, age))
    patient_account = enroll(admin, patient)
    rep_account, representative = enroll_representative(admin, patient, relationship=relationship)
    return patient, patient_account, rep_account, representative


def own_access(patient) -> PortalAccess:
    return PortalAccess.objects.get(patient=patient)


def url(name: str, access, *args) -> str:
    return reverse(name, args=[access.public_id, *args])


def secret_record(patient, provider) -> dict:
    """One ordinary shared item of each kind and one marked confidential; a shared visit and a
    confidential one. Returns the confidential rows by section (and "encounter")."""
    secrets = {}
    for key, (build, _text) in builders.SECTIONS.items():
        build(patient)
        values, _secret_text = SECRET[key]
        secrets[key] = build(patient, confidential_from_representatives=True, **values)
    builders.encounter(patient, provider, note=OPEN_NOTE, visit_date=dt.date(2024, 4, 1))
    secrets["encounter"] = builders.encounter(
        patient,
        provider,
        note=SECRET_NOTE,
        visit_date=dt.date(2024, 6, 1),
        confidential_from_representatives=True,
    )
    return secrets


def page_text(client, name: str, access) -> str:
    response = client.get(url(name, access))
    assert response.status_code == 200
    return response.content.decode()


def bundle_of(client, access) -> dict:
    response = client.get(url("records:download_fhir", access))
    assert response.status_code == 200
    return json.loads(response.content)


def resource_ids(bundle: dict) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle["entry"]}


def secret_ids(secrets: dict) -> set[str]:
    ids = {str(row.public_id) for key, row in secrets.items() if key != "encounter"}
    visit = [r["id"] for r in fhir.encounter_resources(secrets["encounter"], "urn:uuid:x")]
    return ids | set(visit)


def assert_valid_bundle(bundle: dict) -> None:
    fhir.validate_bundle(bundle)  # every resource validates as its R4 model
    references = set(re.findall(r'"reference": "([^"]+)"', json.dumps(bundle)))
    assert references <= {entry["fullUrl"] for entry in bundle["entry"]}


# --- The record page, the printable download and the FHIR bundle ---------------------------------


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_confidential_items_and_visits_reach_the_patient_and_no_representative(
    client, admin, practice, provider, viewer
):
    relationship, age = VIEWERS[viewer]
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, relationship, age
    )
    secrets = secret_record(patient, provider)
    ordinary = [text for _build, text in builders.SECTIONS.values()]
    hidden = [text for _values, text in SECRET.values()] + [SECRET_NOTE]

    sign_in(client, patient_account)
    for name in ("records:record", "records:download"):
        text = page_text(client, name, own_access(patient))
        for expected in ordinary + hidden + [OPEN_NOTE]:
            assert expected in text, (name, expected)
    patient_bundle = bundle_of(client, own_access(patient))
    assert secret_ids(secrets) <= resource_ids(patient_bundle)
    assert_valid_bundle(patient_bundle)

    sign_in(client, rep_account)
    for name in ("records:record", "records:download"):
        text = page_text(client, name, representative)
        for expected in ordinary + [OPEN_NOTE]:
            assert expected in text, (name, expected)
        for secret in hidden:
            assert secret not in text, (name, secret)
    rep_bundle = bundle_of(client, representative)
    assert not secret_ids(secrets) & resource_ids(rep_bundle)
    assert resource_ids(rep_bundle) == resource_ids(patient_bundle) - secret_ids(secrets)
    assert_valid_bundle(rep_bundle)


@pytest.mark.parametrize("section", list(SECRET))
def test_a_section_holding_only_confidential_items_reads_to_a_representative_as_empty(
    client, admin, practice, section
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "parent", 8
    )
    build, _text = builders.SECTIONS[section]
    values, secret_text = SECRET[section]
    item = build(patient, confidential_from_representatives=True, **values)
    empty = factories.make_patient(practice)  # nothing recorded at all
    _empty_account, empty_rep = enroll_representative(admin, empty, account=rep_account)

    sign_in(client, rep_account)
    seen = page_text(client, "records:record", representative)
    nothing = page_text(client, "records:record", empty_rep)
    assert secret_text not in seen
    assert seen.count("Nothing shared yet.") == nothing.count("Nothing shared yet.") == 9
    # The FHIR bundle holds the Patient alone, as for a chart with nothing shared.
    bundle = bundle_of(client, representative)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    assert str(item.public_id) not in json.dumps(bundle)

    sign_in(client, patient_account)
    assert secret_text in page_text(client, "records:record", own_access(patient))


def test_the_entries_of_a_confidential_visit_are_kept_from_representatives_too(
    client, admin, practice, provider
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "caregiver", 70
    )
    visit = builders.encounter(patient, provider, note=SECRET_NOTE)
    builders.lab(patient, display="HIV-1/2 antigen and antibodies", encounter=visit)
    builders.problem(patient, display="Hypertension")  # of no visit

    sign_in(client, rep_account)
    text = page_text(client, "records:record", representative)
    assert "Hypertension" in text and "HIV-1/2" in text  # the visit is not confidential yet

    chart_services.encounter_confidential_set(provider, encounter=visit, confidential=True)
    text = page_text(client, "records:record", representative)
    assert "Hypertension" in text
    assert "HIV-1/2" not in text and SECRET_NOTE not in text
    assert "HIV-1/2" not in json.dumps(bundle_of(client, representative))

    sign_in(client, patient_account)
    text = page_text(client, "records:record", own_access(patient))
    assert "HIV-1/2" in text and SECRET_NOTE in text


def test_an_adolescents_confidential_item_stays_hidden_from_the_parent_as_they_grow_up(
    client, admin, practice
):
    """Narrowing at 12 takes messages and access-log entries away; confidential items were
    never the parent's to see, before 12 or after."""
    for age in (11, 12, 17):
        patient, _account, rep_account, representative = make_family(admin, practice, "parent", age)
        builders.assessment(
            patient,
            display="CRAFFT substance use screening",
            confidential_from_representatives=True,
        )
        sign_in(client, rep_account)
        assert "CRAFFT" not in page_text(client, "records:record", representative), age


# --- Cached renderings ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["records:record", "records:download"])
def test_the_patients_cached_rendering_is_never_served_to_a_representative(
    client, admin, practice, provider, name
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "parent", 14
    )
    secret_record(patient, provider)
    sign_in(client, patient_account)
    assert SECRET_NOTE in page_text(client, name, own_access(patient))  # cached now

    sign_in(client, rep_account)
    text = page_text(client, name, representative)
    assert SECRET_NOTE not in text
    assert OPEN_NOTE in text

    # And the other way round: the representative's rendering is not the patient's.
    sign_in(client, patient_account)
    assert SECRET_NOTE in page_text(client, name, own_access(patient))


def test_marking_and_clearing_shows_on_the_representatives_next_view(
    client, admin, practice, provider
):
    patient, _account, rep_account, representative = make_family(admin, practice, "parent", 8)
    lab = builders.lab(patient, display="Lead, blood")
    sign_in(client, rep_account)
    assert "Lead, blood" in page_text(client, "records:record", representative)  # cached

    chart_services.item_confidential_set(provider, item=lab, confidential=True)
    assert "Lead, blood" not in page_text(client, "records:record", representative)

    chart_services.item_confidential_set(provider, item=lab, confidential=False)
    assert "Lead, blood" in page_text(client, "records:record", representative)


def test_the_calendar_links_of_a_representatives_page_carry_their_own_access(
    client, admin, practice, provider
):
    """The record page's rendering links each upcoming appointment to its calendar file under
    the viewer's access: one viewer's rendering is never another's."""
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "caregiver", 70
    )
    builders.appointment(patient, provider, days_from_now=3)
    sign_in(client, patient_account)
    assert str(own_access(patient).public_id) in page_text(
        client, "records:record", own_access(patient)
    )

    sign_in(client, rep_account)
    text = page_text(client, "records:record", representative)
    links = re.findall(r'href="(/portal/records/[^"]+calendar\.ics)"', text)
    assert links and all(str(representative.public_id) in link for link in links)
    assert str(own_access(patient).public_id) not in text
    assert client.get(links[0]).status_code == 200


def test_the_record_a_selector_reads_for_each_access_follows_its_scope(admin, practice):
    patient, _account, _rep_account, representative = make_family(admin, practice, "parent", 8)
    assert selectors.record_of(own_access(patient)).variant == "patient"
    assert selectors.record_of(representative).variant == "representative"
    with pytest.raises(TypeError):
        selectors.shared_record(patient, confidential="no")


# --- Links a representative sends ----------------------------------------------------------------


def sent_link(account, access, email="new.doctor@example.test") -> tuple[SharedLink, str]:
    link = records.shared_link_send(account, access=access, email=email)
    return link, link_token(link.link_nonce)


def test_a_link_a_representative_sends_shows_only_what_they_may_see(
    client, admin, practice, provider
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "caregiver", 70
    )
    secrets = secret_record(patient, provider)
    rep_link, rep_token = sent_link(rep_account, representative)
    own_link, own_token = sent_link(patient_account, own_access(patient))
    assert rep_link.representative == representative and own_link.representative is None

    text = client.get(reverse("records:shared", args=[rep_token])).content.decode()
    assert OPEN_NOTE in text and SECRET_NOTE not in text
    for _values, secret in SECRET.values():
        assert secret not in text
    bundle = json.loads(client.get(reverse("records:shared_fhir", args=[rep_token])).content)
    assert not secret_ids(secrets) & resource_ids(bundle)
    assert_valid_bundle(bundle)

    # The patient's own link, opened after (and before) it, shows everything shared.
    text = client.get(reverse("records:shared", args=[own_token])).content.decode()
    assert SECRET_NOTE in text
    bundle = json.loads(client.get(reverse("records:shared_fhir", args=[own_token])).content)
    assert secret_ids(secrets) <= resource_ids(bundle)
    text = client.get(reverse("records:shared", args=[rep_token])).content.decode()
    assert SECRET_NOTE not in text


def test_a_representatives_link_is_sent_through_the_send_page_and_the_email_names_nothing(
    client, admin, practice, provider
):
    patient, _account, rep_account, representative = make_family(admin, practice, "parent", 8)
    secret_record(patient, provider)
    sign_in(client, rep_account)
    response = client.post(url("records:send", representative), {"email": "dr@example.test"})
    assert response.status_code == 302
    link = SharedLink.objects.get()
    assert link.representative == representative and link.created_by == rep_account
    email = OutboundEmail.objects.get(subject_id=link.public_id)
    assert email.to_address == "dr@example.test"
    page = page_text(client, "records:send", representative)
    assert "dr@example.test" in page
    assert "The link shows what you can see of this record" in page


def test_a_representatives_link_stops_working_when_their_access_ends(
    client, admin, practice, provider
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "caregiver", 70
    )
    _link, token = sent_link(rep_account, representative)
    assert client.get(reverse("records:shared", args=[token])).status_code == 200

    portal.representative_end(
        patient_account, access=own_access(patient), representative=representative
    )
    assert client.get(reverse("records:shared", args=[token])).status_code == 410
    assert client.get(reverse("records:shared_fhir", args=[token])).status_code == 410


def test_a_parents_link_works_for_a_child_without_portal_access_of_their_own(
    client, admin, practice, provider
):
    child = factories.make_patient(practice, date_of_birth=born_years_ago(practice, 6))
    rep_account, representative = enroll_representative(admin, child, relationship="parent")
    builders.immunization(child, display="MMR vaccine")
    builders.procedure(child, display="Tonsillectomy", confidential_from_representatives=True)
    _link, token = sent_link(rep_account, representative)
    text = client.get(reverse("records:shared", args=[token])).content.decode()
    assert "MMR vaccine" in text and "Tonsillectomy" not in text


def test_a_representative_sees_and_stops_only_the_links_they_sent(
    client, admin, practice, provider
):
    patient, patient_account, rep_account, representative = make_family(
        admin, practice, "parent", 14
    )
    own_link, _token = sent_link(patient_account, own_access(patient), "clinic@example.test")
    rep_link, _token = sent_link(rep_account, representative, "pediatrician@example.test")

    sign_in(client, rep_account)
    page = page_text(client, "records:send", representative)
    assert "pediatrician@example.test" in page and "clinic@example.test" not in page
    stop_own = reverse("records:revoke_link", args=[representative.public_id, own_link.public_id])
    assert client.post(stop_own).status_code == 404
    own_link.refresh_from_db()
    assert own_link.revoked_at is None

    # The patient sees both, who sent theirs, and may stop the representative's.
    sign_in(client, patient_account)
    page = page_text(client, "records:send", own_access(patient))
    assert "clinic@example.test" in page and "pediatrician@example.test" in page
    assert f"Sent by {representative.name}" in page
    stop_rep = reverse(
        "records:revoke_link", args=[own_access(patient).public_id, rep_link.public_id]
    )
    assert client.post(stop_rep).status_code == 302
    rep_link.refresh_from_db()
    assert rep_link.revoked_at is not None


def test_another_charts_representative_cannot_open_this_record_or_its_downloads(
    client, admin, practice, provider
):
    patient, _account, _rep_account, representative = make_family(admin, practice, "caregiver", 70)
    secret_record(patient, provider)
    _other, _other_account, stranger, _their_rep = make_family(admin, practice, "caregiver", 70)
    sign_in(client, stranger)
    for name in ("records:record", "records:download", "records:download_fhir", "records:send"):
        assert client.get(url(name, own_access(patient))).status_code == 404
        assert client.get(url(name, representative)).status_code == 404
