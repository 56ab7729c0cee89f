"""Every patient-facing string has Spanish (issue 13).

Two checks that meet from both sides:
1. Every string marked for translation in a patient-facing file (templates, Jinja2 renderings,
   forms, views, emails, services the portal calls) has a Spanish translation in
   portico/locale/es/LC_MESSAGES/django.po: read the way makemessages reads them (Django's
   templatize for templates, then a Python extractor), so a string added untranslated fails.
2. The patient-facing pages and emails, rendered in Spanish, hold no English words: this finds
   text that was never marked at all (a literal in a template or in Python).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils.translation.template import templatize

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "portico" / "locale" / "es" / "LC_MESSAGES" / "django.po"

# The patient-facing and public sources. Staff pages stay English (marked, not translated).
PATIENT_FACING = [
    "portico/templates/*.html",
    "portico/templates/includes/field.html",
    "portico/templates/includes/form_errors.html",
    "portico/templates/includes/language_switch.html",
    "portico/templates/includes/pager.html",
    "portico/accounts/*.py",
    "portico/accounts/templates/**/*.html",
    "portico/accounts/templates/**/*.txt",
    "portico/portal/forms.py",
    "portico/portal/registration.py",
    "portico/portal/patient_views.py",
    "portico/portal/emails.py",
    "portico/portal/language.py",
    "portico/portal/templates/portal/home.html",
    "portico/portal/templates/portal/_own_records.html",
    "portico/portal/templates/portal/representative*.html",
    "portico/portal/representation.py",
    "portico/portal/templatetags/portal_patient.py",
    "portico/portal/templates/portal/no_access.html",
    "portico/portal/templates/portal/register_*.html",
    "portico/portal/templates/portal/email/*",
    "portico/records/*.py",
    "portico/records/templates/**/*.html",
    "portico/records/templates/**/*.txt",
    "portico/records/jinja2/**/*.html",
    "portico/charts/jinja2/**/*.html",
    "portico/core/forms.py",
    "portico/core/views.py",
    "portico/messaging/models.py",
    "portico/messaging/attachments.py",
    "portico/messaging/services.py",
    "portico/messaging/forms.py",
    "portico/messaging/patient_views.py",
    "portico/messaging/templates/messaging/patient_*.html",
    "portico/messaging/templates/messaging/_urgent_notice.html",
    "portico/messaging/templates/messaging/_messages.html",
    "portico/messaging/templates/messaging/_no_providers.html",
    "portico/messaging/emails.py",
    "portico/messaging/templates/messaging/email/base.html",
    "portico/messaging/templates/messaging/email/patient_*",
    "portico/messaging/templates/messaging/email/record_update.*",
    "portico/scheduling/emails.py",
    "portico/scheduling/ics.py",
    "portico/scheduling/templates/scheduling/email/*",
    "portico/scheduling/templates/scheduling/unsubscribe*.html",
    # Online profiles and booking (issue 16): the public pages, the portal's Appointments
    # tab, the request emails, and the services' messages they show.
    "portico/booking/models.py",
    "portico/booking/vocabulary.py",
    "portico/booking/services.py",
    "portico/booking/emails.py",
    "portico/booking/public.py",
    "portico/booking/public_views.py",
    "portico/booking/public_forms.py",
    "portico/booking/patient_views.py",
    "portico/booking/patient_forms.py",
    "portico/booking/templates/booking/public/**/*.html",
    "portico/booking/templates/booking/patient/**/*.html",
    # Intake (issue 18): the check-in pages (portal and emailed link), the email, the prompts,
    # and the answer and link rules whose messages they show.
    "portico/intake/definition.py",
    "portico/intake/services.py",
    "portico/intake/fill.py",
    "portico/intake/patient_views.py",
    "portico/intake/emails.py",
    "portico/intake/templatetags/intake_patient.py",
    "portico/intake/templates/intake/patient/**/*.html",
    "portico/intake/templates/intake/email/*",
    "portico/fhir/templates/fhir/*.html",
    "portico/fhir/patient_views.py",
    "portico/fhir/scopes.py",
    "portico/fhir/authorize_views.py",
]
STAFF_ONLY = {"portico/templates/base_staff.html"}

KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def patient_facing_files() -> list[Path]:
    files = {path for pattern in PATIENT_FACING for path in REPO.glob(pattern) if path.is_file()}
    return sorted(p for p in files if str(p.relative_to(REPO)) not in STAFF_ONLY)


def marked_strings(path: Path) -> list[tuple[int, str | tuple[str, ...], str | None]]:
    """(line, msgid, context) of every string marked in the file, as makemessages sees it."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        # Django's stand-in for the template, as xgettext reads it; flush left, so that a
        # Python tokenizer reads it too (the line numbers stay).
        source = "\n".join(
            line.lstrip() for line in templatize(source, origin=str(path)).splitlines()
        )
    found = []
    for line, funcname, message, _comments in extract_python(
        io.BytesIO(source.encode("utf-8")), KEYWORDS, [], {}
    ):
        context = None
        if funcname.startswith(("pgettext", "npgettext")):
            context, message = message[0], message[1:]
            message = message[0] if len(message) == 1 else message
        if isinstance(message, tuple):
            message = tuple(m for m in message if m is not None)
            if len(message) == 1:
                message = message[0]
        if message:
            found.append((line, message, context))
    return found


@pytest.fixture(scope="module")
def spanish():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="es")
    return {
        (m.id if isinstance(m.id, str) else tuple(m.id), m.context): m for m in catalogue if m.id
    }


def test_the_patient_facing_sources_are_found():
    names = {str(p.relative_to(REPO)) for p in patient_facing_files()}
    assert "portico/portal/templates/portal/register_verify.html" in names
    assert "portico/records/jinja2/records/sections.html" in names
    assert "portico/accounts/templates/accounts/sign_in.html" in names
    assert "portico/templates/base_staff.html" not in names


def test_every_patient_facing_string_has_a_spanish_translation(spanish):
    missing = []
    for path in patient_facing_files():
        for line, message, context in marked_strings(path):
            key = (message if isinstance(message, str) else tuple(message), context)
            entry = spanish.get(key)
            strings = () if entry is None else entry.string
            strings = (strings,) if isinstance(strings, str) else tuple(strings)
            if entry is None or "fuzzy" in entry.flags or not strings or not all(strings):
                first = message if isinstance(message, str) else message[0]
                missing.append(f"{path.relative_to(REPO)}:{line}: {first!r}")
    assert not missing, (
        "strings without Spanish (run `make messages`, translate them in "
        f"{CATALOGUE.relative_to(REPO)}):\n" + "\n".join(missing)
    )


def test_translations_keep_every_placeholder(spanish):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    wrong = []
    for (msgid, _context), entry in spanish.items():
        ids = (msgid,) if isinstance(msgid, str) else msgid
        strings = (entry.string,) if isinstance(entry.string, str) else entry.string
        expected = set(placeholder.findall(ids[-1]))
        for text in strings:
            extra = set(placeholder.findall(text)) - set(placeholder.findall(ids[0])) - expected
            if text and extra:
                wrong.append(f"{ids[0]!r} -> {text!r}")
            if text and len(ids) == 1 and set(placeholder.findall(text)) != expected:
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "translations whose placeholders differ:\n" + "\n".join(wrong)


# ---------------------------------------------------------------------------------------------
# Rendered pages: no English left.

# Common English words of the portal's wording that Spanish never uses. Words both languages
# share ("portal", "total", "error", "no", "me") are left out, and so are words test data use.
_ENGLISH = """the your you and with sign password email record records access code date birth please
    enter continue download send back account settings health help not this that from for are
    was have has will can our link page here open new time when what which who how why there
    their they these those been into than then only also about after before again must should
    would could may might any each other same such very just more most some many much every
    both while where used using show shows shown see saw view read write wrote get got
    give given take taken make made know find found keep kept try tried call called ask asked
    phone mobile number address name first last today yesterday tomorrow week month year
    days hours minutes expired expires works working invited invite registered register
    create created change changed remove removed verify verified step next previous cancel
    save saved submit sent message messages allergies medications problems immunizations
    results vital signs procedures plan visit visits notes note provider practice doctor
    high low none never always yes"""
ENGLISH_WORDS = frozenset(_ENGLISH.split())
# Visible attributes a screen reader reads.
READ_ALOUD = ("aria-label", "title", "alt", "placeholder")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._lang_stack: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        # Text marked as another language on purpose (the switcher's "English") is fine.
        if attrs.get("lang", "es").startswith("en") and tag != "html":
            self._skip += 1
            self._lang_stack.append(tag)
        for name in READ_ALOUD:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._skip -= 1
        if self._lang_stack and self._lang_stack[-1] == tag:
            self._lang_stack.pop()
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def english_words(html: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The English words of a rendered Spanish page's visible (and read-aloud) text."""
    reader = _VisibleText()
    reader.feed(html)
    text = " ".join(reader.parts)
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)  # addresses and links are not wording
    words = re.findall(r"[A-Za-z]+", text)
    return sorted({w for w in words if w.lower() in ENGLISH_WORDS and w.lower() not in allowed})


def test_the_english_word_finder_finds_english_and_passes_spanish():
    assert english_words("<p>Enter your access code</p>") == ["Enter", "access", "code", "your"]
    assert english_words('<p aria-label="Sign out">x</p>') == ["Sign"]
    assert english_words("<p>Ingrese su código de acceso</p>") == []
    assert english_words('<button lang="en">English</button><script>var the;</script>') == []


@pytest.fixture
def spanish_patient(db, practice, admin, provider):
    """A chart whose preferred language is Spanish, with something in every record section,
    registered: (patient, account)."""
    from tests import factories
    from tests.records.builders import full_record

    patient = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    full_record(patient, provider)
    account = factories.enroll(admin, patient)
    _spanish_thread(admin, practice, patient, account, provider)
    _spanish_intake_form(admin, patient, provider)
    return patient, account


# A template the practice wrote in Spanish, with a question of every type.
SPANISH_INTAKE = {
    "sections": [
        {
            "key": "s1",
            "title": "Sobre usted",
            "questions": [
                {"key": "apodo", "type": "short_text", "text": "Apodo", "required": True},
                {"key": "historia", "type": "long_text", "text": "Cirugías anteriores"},
                {"key": "fuma", "type": "yes_no", "text": "¿Fuma?"},
                {
                    "key": "paquetes",
                    "type": "number",
                    "text": "Paquetes al día",
                    "unit": "paq.",
                    "min": "0",
                    "max": "5",
                    "show_if": {"question": "fuma", "equals": "yes"},
                },
                {
                    "key": "color",
                    "type": "single_choice",
                    "text": "Color favorito",
                    "choices": ["Rojo", "Azul"],
                },
                {
                    "key": "comidas",
                    "type": "multiple_choice",
                    "text": "Comidas",
                    "choices": ["Huevos", "Leche"],
                },
                {"key": "fecha", "type": "date", "text": "Última consulta"},
                {
                    "key": "acepto",
                    "type": "consent",
                    "text": "Consentimiento",
                    "consent_text": "Acepto el tratamiento.",
                    "required": True,
                },
                {"key": "alergias", "type": "allergies", "text": "Sus alergias"},
                {"key": "medicinas", "type": "medications", "text": "Sus medicamentos"},
            ],
        }
    ]
}


def _spanish_intake_form(admin, patient, provider) -> None:
    """A check-in form of SPANISH_INTAKE sent for an upcoming appointment of the chart."""
    import datetime as dt

    from django.utils import timezone

    from portico.intake import services as intake
    from portico.scheduling import services as scheduling

    visit_type = scheduling.visit_type_save(
        admin, practice=patient.practice, name="Consulta de control", duration_minutes=20
    )
    appointment = scheduling.appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=timezone.now() + dt.timedelta(days=3),
        check_hours=False,
        notify=False,  # the booked email names the provider, whose name is English
    )
    template = intake.template_create(
        admin, practice=patient.practice, name="Registro", definition=SPANISH_INTAKE
    )
    intake.form_send(admin, appointment=appointment, template=template)


def _form(patient):
    return patient.intake_forms.get().public_id


def _spanish_thread(admin, practice, patient, account, provider) -> None:
    """Messaging on, and a thread the patient wrote (in Spanish) to the provider."""
    from portico.messaging import services as messaging
    from portico.notifications.models import OutboundEmail
    from portico.portal.models import PortalAccess
    from portico.practices.services import messaging_settings_set

    messaging_settings_set(admin, practice=practice, enabled=True)
    messaging.thread_start(
        account,
        access=PortalAccess.objects.get(patient=patient),
        provider=provider,
        kind="medical",
        subject="Pregunta sobre la receta",
        body="Buenos días, doctora.",
    )
    # The provider's "new message" email is the practice's, in English: not under test here.
    OutboundEmail.objects.filter(kind=messaging.PRACTICE_EMAIL).delete()


def _access(patient):
    from portico.portal.models import PortalAccess

    return PortalAccess.objects.get(patient=patient).public_id


def _thread(patient):
    from portico.messaging.models import Thread

    return Thread.objects.get(patient=patient).public_id


def _registration_path(admin, practice) -> str:
    from urllib.parse import urlsplit

    from portico.portal.emails import registration_url
    from tests import factories

    patient = factories.make_patient(practice, preferred_language="es", email="bea@example.test")
    return urlsplit(registration_url(factories.invite(admin, patient))).path


# Pages a person reaches without signing in (the switcher's Spanish chosen in the browser).
PUBLIC_PAGES = {
    "accounts:sign_in": lambda **_: reverse("accounts:sign_in"),
    "accounts:password_forgot": lambda **_: reverse("accounts:password_forgot"),
    "accounts:username_forgot": lambda **_: reverse("accounts:username_forgot"),
    "system_requirements": lambda **_: reverse("system_requirements"),
    "portal:register": lambda admin, practice, **_: _registration_path(admin, practice),
    "page not found": lambda **_: "/no-such-page/",
}
# Pages of a signed-in patient whose chart prefers Spanish.
PATIENT_PAGES = {
    "portal:home": lambda patient: reverse("portal:home"),
    "portal:representatives": lambda patient: reverse(
        "portal:representatives", args=[_access(patient)]
    ),
    "records:record": lambda patient: reverse("records:record", args=[_access(patient)]),
    "records:download": lambda patient: reverse("records:download", args=[_access(patient)]),
    "records:send": lambda patient: reverse("records:send", args=[_access(patient)]),
    "records:access_log": lambda patient: reverse("records:access_log", args=[_access(patient)]),
    "messaging:patient_list": lambda patient: reverse(
        "messaging:patient_list", args=[_access(patient)]
    ),
    "messaging:patient_new": lambda patient: reverse(
        "messaging:patient_new", args=[_access(patient)]
    ),
    "messaging:patient_renewal": lambda patient: reverse(
        "messaging:patient_renewal", args=[_access(patient)]
    ),
    "messaging:patient_thread": lambda patient: reverse(
        "messaging:patient_thread", args=[_access(patient), _thread(patient)]
    ),
    "intake:patient_forms": lambda patient: reverse(
        "intake:patient_forms", args=[_access(patient)]
    ),
    "intake:patient_form": lambda patient: reverse(
        "intake:patient_form", args=[_access(patient), _form(patient)]
    ),
    "intake:patient_form_review": lambda patient: reverse(
        "intake:patient_form_review", args=[_access(patient), _form(patient)]
    ),
    "fhir_portal:connected_apps": lambda patient: reverse("fhir_portal:connected_apps"),
    "oauth2_provider:authorize": lambda patient: _consent_page(patient),
    "accounts:profile": lambda patient: reverse("accounts:profile"),
    "accounts:password_change": lambda patient: reverse("accounts:password_change"),
}


def _consent_page(patient) -> str:
    """The consent page of an app asking for everything SMART scopes name."""
    from urllib.parse import urlencode

    from django.conf import settings

    from portico.fhir import services

    app = services.register_app(
        None, name="Medisalud", redirect_uris="https://app.example/cb", confidential=False
    ).application
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": "https://app.example/cb",
        "scope": "openid fhirUser launch/patient offline_access patient/*.rs",
        "state": "x",
        "aud": settings.PORTICO_FHIR_BASE_URL,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return reverse("oauth2_provider:authorize") + "?" + urlencode(query)


# Words of the test chart's own data, which staff wrote in English and the record shows as
# written: the provider "Dr. Paula Provider", the care plan "Blood sugar plan" ("Walk 30
# minutes a day.") and the visit type "Follow-up visit".
CHART_DATA_WORDS = frozenset({"provider", "plan", "minutes", "visit"})


def _assert_spanish(response, allowed: frozenset[str] = frozenset()) -> None:
    assert response["Content-Language"] == "es"
    html = response.content.decode()
    assert '<html lang="es"' in html
    found = english_words(html, allowed)
    assert not found, f"English words on the Spanish page: {found}"


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_in_spanish_has_no_english_left(client, admin, practice, name):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = client.get(PUBLIC_PAGES[name](admin=admin, practice=practice), follow=True)
    assert response.status_code in (200, 404)
    _assert_spanish(response)


@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_patient_page_in_spanish_has_no_english_left(client, spanish_patient, name):
    from tests.factories import sign_in

    patient, account = spanish_patient
    sign_in(client, account)
    response = client.get(PATIENT_PAGES[name](patient), follow=True)
    assert response.status_code == 200
    _assert_spanish(response, CHART_DATA_WORDS)


def test_patient_emails_in_spanish_have_no_english_left(
    client, spanish_patient, admin, practice, django_capture_on_commit_callbacks
):
    from django.conf import settings
    from django.core import mail

    from portico.notifications.services import outbox_drain
    from tests import factories

    patient, account = spanish_patient
    with django_capture_on_commit_callbacks(execute=True):
        factories.invite(admin, factories.make_patient(practice, preferred_language="es"))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
        client.post(reverse("accounts:password_forgot"), {"email": account.email})
        client.post(reverse("accounts:username_forgot"), {"email": account.email})
        factories.sign_in(client, account)
        client.post(reverse("records:send", args=[_access(patient)]), {"email": "dr@example.org"})
        _messaging_emails(patient, account, admin, practice)
    outbox_drain()

    assert len(mail.outbox) >= 4, [m.subject for m in mail.outbox]
    assert {"messaging.new_for_patient", "messaging.record_update", "intake.form"} <= _kinds_sent()
    for message in mail.outbox:
        assert message.extra_headers["Content-Language"] == "es", message.subject
        html = message.alternatives[0][0] if message.alternatives else ""
        found = english_words(f"<p>{message.subject}</p><pre>{message.body}</pre>{html}")
        assert not found, f"English words in the email {message.subject!r}: {found}"


def _messaging_emails(patient, account, admin, practice):
    """The patient's messaging emails: a reply by the practice, and something newly shared."""
    from portico.messaging import services as messaging_services
    from portico.messaging.record_updates import record_update_notify
    from portico.notifications.models import OutboundEmail
    from portico.portal.models import PortalAccess
    from portico.practices import services as practice_services

    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    access = PortalAccess.objects.get(patient=patient)
    provider = messaging_services.messaging_providers(practice)[0].user
    thread = messaging_services.thread_start(
        account, access=access, provider=provider, kind="general", subject="Hola", body="Hola"
    )
    # The practice's email about it is English by design (staff side): not under test here.
    OutboundEmail.objects.filter(kind=messaging_services.PRACTICE_EMAIL).delete()
    messaging_services.staff_reply(provider, thread=thread, body="Hello")
    record_update_notify(patient.pk)


def _kinds_sent() -> set[str]:
    from portico.notifications.models import EmailState, OutboundEmail

    return set(OutboundEmail.objects.filter(state=EmailState.SENT).values_list("kind", flat=True))
