"""DESIGN "Audit": every URL that shows health information writes an audit event.

The walk covers every URL pattern of the project. Each is either a page that shows health
information (READS: requested here, and it must write its read event), an action that only
changes things (ACTIONS: its GET is refused, and the service audits the change), or a page
that shows none (NO_HEALTH_INFORMATION, with the reason). A new URL fails this test until
someone decides which it is.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portico.accounts.services import api_token_create
from portico.audit.models import AuditEvent
from portico.charts import services as chart_services
from portico.charts.models import CLINICAL_LISTS
from portico.outreach.models import BulkInviteRun
from portico.portal import registration
from portico.portal import tokens as portal_tokens
from portico.portal.models import PortalAccess
from portico.records import services as record_services
from portico.records import tokens as record_tokens
from tests import factories
from tests.charts.test_clinical_services import VALID
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


@dataclass
class Read:
    """A page showing health information: who opens it, and the audit action it must write."""

    who: str  # "staff", "patient", "nobody" (a link's recipient) or "api"
    action: str
    query: dict = field(default_factory=dict)


READS = {
    "charts:patient_list": Read("staff", "chart.list", {"q": "Rivera"}),
    "charts:patient_edit": Read("staff", "chart.view"),
    "charts:chart": Read("staff", "chart.view"),
    "charts:chart_summary": Read("staff", "chart.view"),
    "charts:item_list": Read("staff", "chart.view"),
    "charts:item_new": Read("staff", "chart.view"),
    "charts:item_edit": Read("staff", "chart.view"),
    "charts:encounter_new": Read("staff", "chart.view"),
    "charts:encounter": Read("staff", "chart.view"),
    "outreach:bulk_invite": Read("staff", "chart.list"),
    "portal:home": Read("patient", "phr.view"),
    "records:record": Read("patient", "phr.view"),
    "records:download": Read("patient", "phr.download"),
    "records:download_fhir": Read("patient", "phr.download"),
    "records:send": Read("patient", "phr.view"),
    "records:access_log": Read("patient", "phr.view"),
    "records:shared": Read("nobody", "phr.link_opened"),
    "records:shared_fhir": Read("nobody", "phr.link_opened"),
    "api:list_patients": Read("api", "chart.list"),
    "api:get_patient": Read("api", "chart.view"),
    "api:get_portal_status": Read("api", "chart.view"),
    "charts:timeline": Read("staff", "chart.view"),
    "messaging:patient_list": Read("patient", "message.list"),
    "messaging:patient_new": Read("patient", "message.list"),
    "messaging:patient_renewal": Read("patient", "message.list"),
    "messaging:patient_thread": Read("patient", "message.read"),
    "messaging:patient_attachment": Read("patient", "message.attachment_download"),
    "messaging:inbox": Read("staff", "message.list"),
    "messaging:staff_thread": Read("staff", "message.read"),
    "messaging:staff_attachment": Read("staff", "message.attachment_download"),
    "api:list_threads": Read("api", "message.list"),
    "api:get_thread": Read("api", "message.read"),
    # The appointment book.
    "api:list_appointments": Read("api", "chart.list"),
    "api:get_appointment": Read("api", "chart.view"),
    "records:appointment_calendar": Read("patient", "phr.download"),
    "scheduling:schedule": Read("staff", "schedule.view"),
    "scheduling:book": Read("staff", "chart.list", {"q": "Rivera"}),
    "scheduling:appointment": Read("staff", "appointment.view"),
    # Online booking: what a request carries (name, date of birth, reason) is read at the practice.
    "api:list_appointment_requests": Read("api", "booking.request_list"),
    "api:get_appointment_request": Read("api", "booking.request_view"),
    "booking:requests": Read("staff", "booking.request_list"),
    "booking:request": Read("staff", "booking.request_view"),
    "booking:patient_appointments": Read("patient", "phr.view"),
    "booking:patient_reschedule": Read("patient", "phr.view"),
    "booking:patient_cancel": Read("patient", "phr.view"),
    "booking:patient_withdraw": Read("patient", "phr.view"),
    "charts:appointments": Read("staff", "chart.view"),
    # Representatives (SPEC §9): who sees a chart on the patient's behalf is the chart's too.
    "charts:representative_troubleshooter": Read("staff", "chart.view"),
    "api:list_representatives": Read("api", "chart.view"),
    "api:get_representative": Read("api", "chart.view"),
    "portal:representatives": Read("patient", "phr.view"),
    "portal:representative_end": Read("patient", "phr.view"),
    "portal:representative_renew": Read("patient", "phr.view"),
    # Connected apps (SPEC §11.1): which record each app reads names the record (a represented
    # patient's name), like the portal home's list; the confirm step names it too.
    "fhir_portal:connected_apps": Read("patient", "phr.view"),
    "fhir_portal:disconnect": Read("patient", "phr.view"),
    "api:list_intake_forms": Read("api", "chart.list"),
    "api:get_intake_form": Read("api", "chart.view"),
    "api:get_intake_form_response": Read("api", "chart.view"),
    # Intake (SPEC §10): a form's answers are the chart's; the day's list names patients.
    "intake:list": Read("staff", "chart.list"),
    "intake:chart_forms": Read("staff", "chart.view"),
    "intake:form": Read("staff", "chart.view"),
    "intake:form_print": Read("staff", "chart.view"),
    "intake:patient_forms": Read("patient", "intake.form_view"),
    "intake:patient_form": Read("patient", "intake.form_view"),
    "intake:patient_form_review": Read("patient", "intake.form_view"),
    # "link": the browser that entered the date of birth on the form's emailed link.
    "intake:link_form": Read("link", "intake.form_view"),
    "intake:link_form_review": Read("link", "intake.form_view"),
}

# Changes only: a GET is refused; the service audits the change (tests of each service).
ACTIONS = {
    "api:send_intake_form",
    "intake:send",
    "intake:resend",
    "intake:withdraw",
    "intake:review_item",
    "intake:process",
    "intake:patient_form_submit",
    "intake:link_form_submit",
    "intake:settings_change",
    "intake:settings_active",
    "charts:item_share",
    "charts:encounter_sign",
    "charts:encounter_amend",
    "charts:encounter_share",
    "charts:portal_action",
    "records:revoke_link",
    "outreach:run_cancel",
    "api:create_patient",
    "api:invite",
    "api:resend",
    "api:cancel",
    "api:revoke",
    "messaging:patient_settings",
    "messaging:staff_reply",
    "messaging:staff_status",
    "messaging:staff_assign",
    "messaging:staff_file",
    "messaging:staff_renewal",
    "api:reply_to_thread",
    "api:set_thread_status",
    "api:assign_thread",
    "api:file_thread",
    "api:answer_renewal",
    "api:create_appointment",
    "api:move_appointment",
    "api:cancel_appointment",
    "api:mark_appointment",
    "api:update_visit_type",
    "api:update_location",
    "api:delete_blocked_time",
    "charts:appointment_reminders",
    "scheduling:move",
    "scheduling:cancel",
    "scheduling:mark",
    "scheduling:blocked_remove",
    "api:approve_appointment_request",
    "api:deny_appointment_request",
    "api:propose_appointment_time",
    "booking:patient_accept",
    "booking:request_approve",
    "booking:request_deny",
    "booking:request_propose",
    "booking:appointment_confirm",
    "booking:profile_status",
    "booking:npi_attest",
    "charts:representative_invite",
    "charts:representative_action",
    "api:resend_representative_invite",
    "api:reinvite_representative",
    "api:cancel_representative_invite",
    "api:revoke_representative",
    "api:invite_representative",
    "api:update_representative",
}

# Actions whose path also answers a GET that is one of the READS (the same URL, another method).
GET_IS_A_READ = {
    "api:create_patient": "api:list_patients",
    "api:create_appointment": "api:list_appointments",
    "api:invite_representative": "api:list_representatives",
    "api:update_representative": "api:get_representative",
}

NO_HEALTH_INFORMATION = {
    "portal:switch": "redirects to one of the account's records, whose page audits the read",
    "practices:representative_ages": "the practice's ages for representatives' access",
    "home": "redirects each person to their side",
    "healthz": "answers ok",
    "system_requirements": "a public page: browsers, cookies, sender addresses",
    "accounts:sign_in": "sign-in form",
    "accounts:sign_out": "signs out",
    "accounts:language": "the language of the pages (the account's choice is audited)",
    "accounts:password_forgot": "recovery form",
    "accounts:username_forgot": "recovery form",
    "accounts:password_reset_link": "recovery form",
    "accounts:password_reset_new": "recovery form",
    "accounts:profile": "the account's own settings (email, devices, tokens)",
    "accounts:password_change": "the account's own password",
    "accounts:token_revoke": "the account's own API tokens",
    "accounts:mfa_verify": "second-factor step",
    "accounts:mfa_enroll": "second-factor set-up",
    "accounts:mfa_remove": "second-factor set-up",
    "accounts:recovery_codes_new": "second-factor set-up",
    "accounts:device_forget": "the account's own remembered devices",
    "accounts:session_status": "seconds left in the session",
    "accounts:session_keepalive": "keeps the session",
    "charts:patient_new": "an empty form",
    "charts:code_search": "the shipped code lists",
    "practices:settings": "practice settings",
    "practices:phr_invite": "practice settings and staff rights",
    "practices:auto_invite": "practice settings",
    "practices:users": "the practice's staff",
    "practices:user_remove": "the practice's staff",
    "practices:switch_practice": "chooses the practice",
    "fhir_settings:apps": "practice settings: the patient apps the practice registered",
    "fhir_settings:remove": "practice settings: one of the practice's patient apps",
    "outreach:run": "a run's counts, no chart",
    "outreach:run_status": "a run's counts, no chart",
    "portal:register": "the practice's name, before the patient proved who they are",
    "portal:register_account": "the practice's name and the invitation's email",
    "portal:register_text": "the practice's name, before the patient proved who they are",
    "portal:register_text_code": "the practice's name, before the patient proved who they are",
    "notifications:bounces": "a webhook that takes delivery reports",
    "api:openapi-json": "the API's description",
    "api:openapi-view": "the API's description",
    "api:api-root": "the API's description",
    "api:get_auto_invite": "a practice setting",
    "api:put_auto_invite": "a practice setting",
    "api:get_messaging_settings": "practice settings",
    "api:put_messaging_settings": "practice settings",
    "practices:messaging": "practice settings and staff rights",
    "mailbox": "the demo's mailbox: emails hold no health information",
    "mailbox_message": "the demo's mailbox: emails hold no health information",
    "mailbox_html": "the demo's mailbox: emails hold no health information",
    "dev_sms": "the demo's text messages: security codes only",
    "api:list_schedule_providers": "the practice's providers",
    "api:list_visit_types": "practice settings",
    "api:create_visit_type": "practice settings (its GET is the list)",
    "api:list_locations": "practice settings",
    "api:create_location": "practice settings (its GET is the list)",
    "api:get_working_hours": "a provider's working hours",
    "api:set_working_hours": "a provider's working hours",
    "api:list_blocked_times": "the practice's blocked times (staff's labels, no chart)",
    "api:create_blocked_time": "the practice's blocked times (its GET is the list)",
    "api:list_open_times": "free times only",
    "scheduling:unsubscribe": "the practice's name and a button (the opt-out is audited)",
    "practices:reminders": "practice settings and provider names",
    "scheduling:settings": "providers' hours, visit types and locations",
    "scheduling:hours": "a provider's working week",
    "scheduling:visit_type_new": "practice settings",
    "scheduling:visit_type_edit": "practice settings",
    "scheduling:location_new": "practice settings",
    "scheduling:location_edit": "practice settings",
    "scheduling:blocked": "blocked times: provider names, times and staff's labels",
    "booking:profile_settings": "a provider's online profile settings (no chart)",
    "booking:search": "a directory of providers' published profiles",
    "booking:profile": "what the provider published, and open times",
    "booking:book": "open times and an empty form (a request it stores is audited)",
    "booking:embed": "the booking page inside the practice's website",
    "booking:sitemap": "public profile addresses",
    "booking:robots": "crawler rules",
    "booking:website_settings": "practice settings: websites allowed to frame the booking pages",
    "api:list_online_profiles": "providers' online profiles",
    "api:get_online_profile": "a provider's online profile",
    "api:update_online_profile": "a provider's online profile (its GET is the profile)",
    "api:set_online_profile_status": "a provider's online profile",
    "api:set_npi_attestation": "a provider's online profile",
    "<unnamed> ^api/v1/.*$": "the API's not-found answer",
    "api:list_intake_templates": "intake templates: questions, no answers",
    "api:get_intake_template": "an intake template as a Questionnaire: questions, no answers",
    "api:import_intake_template": "creates an intake template (its GET is the list)",
    "intake:settings": "practice settings: intake templates and the form each visit type sends",
    "intake:settings_template": "practice settings: an intake template's questions",
    "intake:settings_preview": "practice settings: an intake template's questions",
    "intake:settings_section": "practice settings: an intake template's questions",
    "intake:settings_question": "practice settings: an intake template's questions",
    "intake:link": "asks the date of birth; names only the practice",
    "intake:link_submitted": "thanks for a form submitted by link; names only the practice",
    "oauth2_provider:authorize": (
        "an app's consent page: the account's record names and what the app asks to read "
        "(the consent is audited: fhir.app_connected)"
    ),
    "oauth2_provider:token": "issues tokens; names the patient by an opaque id only",
    "oauth2_provider:revoke-token": "revokes a token",
    "oauth2_provider:oidc-connect-discovery-info": "OpenID Connect discovery: endpoints",
    "oauth2_provider:jwks-info": "the public keys of ID tokens",
    "oauth2_provider:user-info": "the account's opaque id and its Patient's id",
    "smart_configuration": "SMART discovery: endpoints and capabilities",
    "fhir:smart_configuration": "SMART discovery: endpoints and capabilities",
}


def url_names() -> list[tuple[str, str]]:
    """(name, route) of every URL pattern, with its namespace."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if pattern.name:
                    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                else:
                    name = f"<unnamed> {route}"
                yield name, route

    return list(walk(get_resolver().url_patterns))


def test_every_url_is_an_audited_read_an_action_or_shows_no_health_information():
    known = READS.keys() | ACTIONS | NO_HEALTH_INFORMATION.keys()
    undecided = sorted({name for name, _route in url_names()} - known)
    assert not undecided, (
        f"Decide for {undecided}: a page showing health information must write a read "
        "audit event (add it to READS), or list it with the reason it shows none."
    )
    stale = sorted(known - {name for name, _route in url_names()})
    assert not stale, f"{stale} no longer exist: remove them here"


@pytest.fixture
def world(client, practice, admin, provider):
    patient = factories.make_patient(practice, legal_first_name="Jordan", legal_last_name="Rivera")
    account = factories.enroll(admin, patient)
    access = PortalAccess.objects.get(patient=patient)
    problems = CLINICAL_LISTS["problems"]
    item = chart_services.item_create(provider, patient=patient, model=problems,
                                      **VALID["problems"])  # fmt: skip
    encounter = chart_services.encounter_create(
        provider, patient=patient, visit_date=dt.date(2026, 11, 2), note="Seen."
    )
    link = record_services.shared_link_send(account, access=access, email="me@example.test")
    run = BulkInviteRun.objects.create(practice=practice, created_by=admin)
    _token, api_key = api_token_create(admin, practice=practice, name="audit walk")
    invitation = factories.invite(admin, factories.make_patient(practice))
    thread, attachment = _thread_with_attachment(practice, account, access, provider)
    book = _appointment_book(practice, admin, patient, provider)
    online = _online_booking(practice, admin, provider, book, account, access)
    connection = _app_connection(account, access)
    return {
        "admin": admin,
        "account": account,
        "api_key": api_key,
        "kwargs": {
            "patient_id": patient.public_id,
            "kind": "problems",
            "item_id": item.public_id,
            "encounter_id": encounter.public_id,
            "access_id": access.public_id,
            "link_id": link.public_id,
            "run_id": run.public_id,
            "token": record_tokens.link_token(link.link_nonce),
            "registration_token": portal_tokens.link_token(invitation.link_nonce),
            "action": "invite",
            "thread_id": thread.public_id,
            "attachment_id": attachment.public_id,
            "appointment_id": book["appointment"].public_id,
            "visit_type_id": book["visit_type"].public_id,
            "location_id": book["location"].public_id,
            "blocked_id": book["blocked"].public_id,
            "blocked_time_id": book["blocked"].public_id,
            "provider_id": provider.public_id,
            "user_id": provider.public_id,
            "request_id": online["request"].public_id,
            "booking_id": online["profile"].booking_id,
            "slug": online["slug"],
            "representative_id": factories.invite_representative(admin, patient).public_id,
            **_intake(admin, book["appointment"]),
            "connection_id": connection.public_id,
            "client_id": _practice_app(admin, practice).client_id,
        },
        "patient": patient,
        "link_form": _intake_by_link(admin, book),
    }


def _app_connection(account, access):
    """A patient app connected to the patient's record."""
    from portico.fhir import services as fhir

    app = fhir.register_app(
        None, name="Health Tracker", redirect_uris="https://app.example/cb", confidential=False
    ).application
    return fhir.connect(account, application=app, access=access, scopes=["patient/*.rs"])


def _practice_app(admin, practice):
    from portico.fhir import services as fhir

    return fhir.register_app(
        admin,
        name="Clinic Sync",
        redirect_uris="https://sync.example/cb",
        confidential=False,
        practice=practice,
    ).application


def _appointment_book(practice, admin, patient, provider):
    """A visit type, a location, the provider's working week, a blocked hour and an upcoming
    appointment of the patient."""
    from portico.scheduling import services as scheduling
    from portico.scheduling.calendar import Stretch

    visit_type = scheduling.visit_type_save(
        admin, practice=practice, name="Follow-up", duration_minutes=20
    )
    location = scheduling.location_save(admin, practice=practice, name="Main office")
    scheduling.working_hours_set(
        admin,
        practice=practice,
        provider=provider,
        stretches=[Stretch(day, dt.time(8), dt.time(18), location.pk) for day in range(7)],
    )
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    day = dt.datetime.now(tz=zone).date() + dt.timedelta(days=3)
    blocked = scheduling.blocked_time_add(
        admin,
        practice=practice,
        provider=provider,
        start_at=dt.datetime.combine(day, dt.time(12), tzinfo=zone),
        end_at=dt.datetime.combine(day, dt.time(13), tzinfo=zone),
        label="Team meeting",
    )
    appointment = scheduling.appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=dt.datetime.combine(day, dt.time(9), tzinfo=zone),
        reason="Follow-up",
    )
    return {
        "visit_type": visit_type,
        "location": location,
        "blocked": blocked,
        "appointment": appointment,
    }


def _online_booking(practice, admin, provider, book, account, access):
    """The provider's public online profile (Follow-up offered online), a visitor's pending
    request for one of its open times, and the patient's pending request to move their
    appointment (the request the pages open: staff's and the patient's)."""
    from portico.booking import selectors as booking_selectors
    from portico.booking import services as booking
    from portico.scheduling import selectors as scheduling_selectors

    profile = booking.profile_ensure(admin, practice=practice, provider=provider)
    booking.profile_save(
        admin, profile=profile, online_visit_types=[book["visit_type"]], npi="1234567893"
    )
    booking.npi_attest(admin, profile=profile, attested=True)
    booking.profile_status_set(admin, profile=profile, on=True)
    first_open = scheduling_selectors.open_times(practice, provider, book["visit_type"], days=14)[0]
    booking.request_submit(
        profile=profile,
        visit_type=book["visit_type"],
        start_at=first_open.start,
        patient_kind="new",
        first_name="Casey",
        last_name="Quinn",
        date_of_birth=dt.date(1990, 5, 6),
        email="casey@example.test",
        reason="Checkup",
    )
    appointment = book["appointment"]
    other_time = next(
        t.start
        for t in scheduling_selectors.open_times(
            practice, provider, book["visit_type"], days=14, ignore=appointment
        )
        if t.start != appointment.start_at
    )
    request = booking.reschedule_request(
        account, access=access, appointment=appointment, start_at=other_time, note="Later?"
    )
    slug = booking_selectors.profile_slug(profile, "MD")
    return {"profile": profile, "request": request, "slug": slug}


def _thread_with_attachment(practice, account, access, provider):
    """A thread the patient started with a text file attached (messaging is on; the
    administrator who opens the staff pages may answer patient messages)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portico.messaging import services as messaging_services
    from portico.practices import services as practice_services
    from portico.practices.models import Membership

    admin = Membership.objects.get(practice=practice, role="admin")
    practice_services.messaging_settings_set(admin.user, practice=practice, enabled=True)
    practice_services.message_helpers_set(
        admin.user, practice=practice, allowed_member_ids={admin.pk}
    )
    thread = messaging_services.thread_start(
        account,
        access=access,
        provider=provider,
        kind="general",
        subject="A question",
        body="Hello.",
        upload=SimpleUploadedFile("note.txt", b"Readings: 120/80\n"),
    )
    return thread, thread.messages.get().attachment


def _intake(admin, appointment) -> dict:
    from portico.intake import services as intake

    template = intake.ready_template_install(
        admin, practice=appointment.practice, which="follow_up"
    )
    form = intake.form_send(admin, appointment=appointment, template=template)
    return {"form_id": form.public_id, "template_id": template.public_id}


def _intake_by_link(admin, book):
    """A form sent to a patient without portal access (it has a link of its own)."""
    from portico.intake import services as intake
    from portico.scheduling import services as scheduling

    appointment = book["appointment"]
    other = factories.make_patient(appointment.practice, email="no.portal@example.test")
    later = scheduling.appointment_book(
        admin,
        patient=other,
        provider=appointment.provider,
        appointment_type=book["visit_type"],
        start_at=appointment.start_at + dt.timedelta(hours=2),
    )
    template = appointment.practice.intake_templates.get()
    return intake.form_send(admin, appointment=later, template=template)


def _url(name: str, world) -> str:
    pattern_kwargs = world["kwargs"]
    for candidate in (
        {},
        {"patient_id": pattern_kwargs["patient_id"]},
        {k: pattern_kwargs[k] for k in ("patient_id", "kind")},
        {k: pattern_kwargs[k] for k in ("patient_id", "kind", "item_id")},
        {k: pattern_kwargs[k] for k in ("patient_id", "encounter_id")},
        {k: pattern_kwargs[k] for k in ("patient_id", "action")},
        {"access_id": pattern_kwargs["access_id"]},
        {k: pattern_kwargs[k] for k in ("access_id", "link_id")},
        {"run_id": pattern_kwargs["run_id"]},
        {"token": pattern_kwargs["token"]},
        {k: pattern_kwargs[k] for k in ("access_id", "thread_id")},
        {k: pattern_kwargs[k] for k in ("access_id", "thread_id", "attachment_id")},
        {"thread_id": pattern_kwargs["thread_id"]},
        {k: pattern_kwargs[k] for k in ("thread_id", "attachment_id")},
        {k: pattern_kwargs[k] for k in ("access_id", "appointment_id")},
        {"appointment_id": pattern_kwargs["appointment_id"]},
        {"visit_type_id": pattern_kwargs["visit_type_id"]},
        {"location_id": pattern_kwargs["location_id"]},
        {"blocked_id": pattern_kwargs["blocked_id"]},
        {"blocked_time_id": pattern_kwargs["blocked_time_id"]},
        {"provider_id": pattern_kwargs["provider_id"]},
        {"user_id": pattern_kwargs["user_id"]},
        {"request_id": pattern_kwargs["request_id"]},
        {"booking_id": pattern_kwargs["booking_id"]},
        {"slug": pattern_kwargs["slug"]},
        {k: pattern_kwargs[k] for k in ("access_id", "request_id")},
        {k: pattern_kwargs[k] for k in ("patient_id", "representative_id")},
        {k: pattern_kwargs[k] for k in ("patient_id", "representative_id", "action")},
        {"representative_id": pattern_kwargs["representative_id"]},
        {k: pattern_kwargs[k] for k in ("access_id", "representative_id")},
        {"form_id": pattern_kwargs["form_id"]},
        {k: pattern_kwargs[k] for k in ("access_id", "form_id")},
        {"template_id": pattern_kwargs["template_id"]},
        {"connection_id": pattern_kwargs["connection_id"]},
        {"client_id": pattern_kwargs["client_id"]},
    ):
        try:
            return reverse(name, kwargs=candidate)
        except Exception:  # noqa: BLE001, S112 (try the next set of arguments)
            continue
    raise AssertionError(f"no arguments fit {name}")


@pytest.mark.parametrize("name", sorted(READS))
def test_each_page_showing_health_information_writes_its_read_event(name, client, world):
    read = READS[name]
    headers = {}
    if read.who == "staff":
        sign_in(client, world["admin"])
    elif read.who == "patient":
        sign_in(client, world["account"])
    elif read.who == "api":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {world['api_key']}"}
    url = _url(name, world)
    if read.who == "link":
        from portico.intake.patient_views import LINK_SESSION_KEY

        form = world["link_form"]
        session = client.session
        session[LINK_SESSION_KEY] = {str(form.public_id): form.link_token_hash}
        session.save()
        url = reverse(name, kwargs={"form_id": form.public_id})
    if name == "portal:home":
        # With one record the home page goes straight to it; with two it lists them.
        other = factories.invite(world["admin"], factories.make_patient(world["patient"].practice))
        registration.registration_link_account(world["account"], invitation_id=str(other.public_id))
    before = AuditEvent.objects.filter(action=read.action).count()

    response = client.get(url, read.query, **headers)

    assert response.status_code == 200, (name, response.status_code)
    assert AuditEvent.objects.filter(action=read.action).count() > before, (
        f"{name} showed health information without a {read.action} audit event"
    )


@pytest.mark.parametrize("name", sorted(ACTIONS - GET_IS_A_READ.keys()))
def test_each_action_refuses_a_get_so_it_shows_nothing(name, client, world):
    sign_in(client, world["admin"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world['api_key']}"}
    response = client.get(_url(name, world), **headers)
    assert response.status_code == 405, (name, response.status_code)
