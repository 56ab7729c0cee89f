"""A patient app connects to a record through SMART App Launch (SPEC §11.1), end to end against
the real servers, with SMART's own Python client (`fhirclient`) as the app.

The operator registers the app (`portico fhir_app register`) with the https redirect URI of the
app's own little web server. fhirclient reads the server's CapabilityStatement for the
endpoints and builds the authorization address (PKCE S256); Chromium follows it as Jordan
Rivera, the demo patient, who holds three records (her own and her two children's): she signs
in with her second factor, sees what the app will read (in English and in Spanish), picks her
own record and allows. Portico sends the browser back to the app's server, which hands the
address to fhirclient, which exchanges the code. The app reads her Patient, searches her lab
results and vital signs page by page (the same items the portal's record lists, and her access
log names the app), refreshes its token, and fails at once when she disconnects it on
"Connected apps". Then the README's script (scripts/smart_demo_client.py) connects the demo's
registered app through its loopback listener, against a server run as `make demo` runs it.

Each step saves a screenshot in artifacts/e2e/.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fhirclient import client
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRUnauthorizedException
from playwright.sync_api import Page, expect

from tests.e2e import steps
from tests.e2e.conftest import BIN, REPO, _free_port, _server_commands, _start, _stop, _wait_healthy
from tests.e2e.seed import DEMO_PASSWORD, DEMO_PRACTICE_NAME, JORDAN

pytestmark = pytest.mark.e2e

APP_NAME = "Pocket Health"
CALLBACK_PATH = "/smart/callback"
# fhirclient puts "launch/patient" in front: Portico asks which record.
SCOPE = "openid fhirUser offline_access patient/*.rs"
PAGE_SIZE = 4
OWN_RECORD = f"Your record at {DEMO_PRACTICE_NAME}"
CHILDREN = ("Sam Rivera", "Riley Rivera")
DESKTOP = {"width": 1280, "height": 900}
APP_PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Pocket Health</title>'
    b"</head><body><main><h1>Pocket Health is connected</h1></main></body></html>"
)


@dataclass
class AppServer:
    redirect_uri: str
    callbacks: list[str]  # the addresses Portico sent the browser back to


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the browser is told to accept it)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "app-cert.pem", folder / "app-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def app_server(tmp_path) -> Iterator[AppServer]:
    """The app's own web server (https, as a production deployment requires of a redirect URI
    that is not a loopback one): it answers its redirect URI with a page and keeps the address
    it was called at, which the app hands to fhirclient."""
    callbacks: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if urlsplit(self.path).path != CALLBACK_PATH:
                self.send_error(404)
                return
            callbacks.append(f"{origin}{self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(APP_PAGE)))
            self.end_headers()
            self.wfile.write(APP_PAGE)

        def log_message(self, format, *args):  # noqa: A002
            pass

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*_self_signed(tmp_path))
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    origin = f"https://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield AppServer(redirect_uri=origin + CALLBACK_PATH, callbacks=callbacks)
    finally:
        server.shutdown()
        server.server_close()


def portico(stack, *args: str) -> str:
    """Run `portico ARGS` in the servers' environment (as the operator would); its output."""
    result = subprocess.run(
        [str(BIN / "portico"), *args],
        cwd=REPO,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def operator_registers(stack, name: str, redirect_uri: str) -> str:
    """`portico fhir_app register`: the app's client_id, as the command prints it."""
    printed = portico(stack, "fhir_app", "register", "--name", name, "--redirect-uri", redirect_uri)
    match = re.search(r"^client_id: (\S+)$", printed, re.MULTILINE)
    assert match, printed
    return match.group(1)


def smart_client(fhir_base: str, client_id: str, redirect_uri: str) -> client.FHIRClient:
    return client.FHIRClient(
        settings={
            "app_id": client_id,
            "api_base": fhir_base,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
        },
        save_func=lambda state: None,
    )


def search_pages(smart: client.FHIRClient, category: str) -> list[list]:
    """Observation?patient=…&category=…&_count=PAGE_SIZE, every page (the Bundle's `next` link
    followed until there is none): each page's resources."""
    search = Observation.where(
        struct={"patient": smart.patient_id, "category": category, "_count": str(PAGE_SIZE)}
    )
    return [
        [entry.resource for entry in bundle.entry or []]
        for bundle in search.perform_iter(smart.server)
    ]


def portal_rows(page: Page, section: str) -> list[str]:
    """The first cell of each row of a section of the record page (the test, the measurement)."""
    table = page.get_by_role("region", name=section).locator("tbody")
    return [cell.strip() for cell in table.locator("tr > td:first-child").all_inner_texts()]


def switch_language(page: Page, to: str, lang: str) -> None:
    """The header's language switch; the page comes back in `lang`."""
    page.locator("form.language-switch").get_by_role("button", name=to).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def consent_heading(page: Page, app: str):
    return page.get_by_role("heading", level=1, name=re.compile(re.escape(app)))


def allow_as_jordan(page: Page) -> None:
    """On the consent page: pick Jordan's own record and allow the app."""
    picker = page.get_by_role("group", name="Which record may the app read?")
    picker.get_by_role("radio", name=OWN_RECORD).check()
    page.get_by_role("button", name="Allow", exact=True).click()


def test_a_smart_app_connects_reads_pages_refreshes_and_stops_when_disconnected(
    stack, app_server, new_page, shot, artifacts
):
    client_id = operator_registers(stack, APP_NAME, app_server.redirect_uri)
    fhir_base = f"{stack.base_url}/fhir/R4"

    # 1. The app: the endpoints from the CapabilityStatement, an authorization address with a
    # PKCE S256 challenge, the FHIR server as the audience, and the scopes it wants.
    smart = smart_client(fhir_base, client_id, app_server.redirect_uri)
    authorize_url = smart.authorize_url
    assert authorize_url.startswith(f"{stack.base_url}/o/authorize/?"), authorize_url
    asked = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["aud"] == fhir_base
    assert asked["scope"] == f"launch/patient {SCOPE}"
    discovery = requests.get(f"{stack.base_url}/.well-known/smart-configuration", timeout=10)
    assert discovery.json()["authorization_endpoint"] == authorize_url.split("?")[0]
    assert discovery.json()["code_challenge_methods_supported"] == ["S256"]

    # 2. The patient follows it in her browser: sign in, then the second step (a code by email).
    page = new_page(viewport=DESKTOP, ignore_https_errors=True)  # the app's own certificate
    page.goto(authorize_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    steps.patient_sign_in(page, stack.inbox, JORDAN, DEMO_PASSWORD)

    # 3. The consent page: which app, what it will read, and which of her three records.
    expect(consent_heading(page, APP_NAME)).to_have_text(
        f"Connect {APP_NAME} to your health record?"
    )
    reads = page.get_by_role("list").filter(has_text="Lab results")
    expect(reads).to_contain_text("Lab results, vital signs, screenings and assessments")
    expect(reads).to_contain_text("Allergies")
    expect(reads).to_contain_text("Keep reading while you are away, until you disconnect it")
    picker = page.get_by_role("group", name="Which record may the app read?")
    expect(picker.get_by_role("radio")).to_have_count(3)
    expect(picker.get_by_role("radio", name=OWN_RECORD)).to_be_visible()
    for child in CHILDREN:
        expect(picker.get_by_role("radio", name=re.compile(f"^{child}'s record"))).to_be_visible()
    shot(page, "smart-01-consent")
    picker.screenshot(path=str(artifacts / "smart-02-record-picker.png"))

    # The same page in Spanish, and back.
    switch_language(page, "Español", "es")
    expect(consent_heading(page, APP_NAME)).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(3)
    shot(page, "smart-03-consent-es")
    switch_language(page, "English", "en")

    # 4. She picks her own record and allows: Portico sends the browser back to the app.
    allow_as_jordan(page)
    page.wait_for_url(f"{app_server.redirect_uri}?**")
    expect(page.get_by_role("heading", name="Pocket Health is connected")).to_be_visible()
    assert len(app_server.callbacks) == 1
    callback = app_server.callbacks[0]
    assert "code=" in callback and f"state={asked['state']}" in callback

    # 5. The app exchanges the code (with the PKCE verifier) for its tokens.
    smart.handle_callback(callback)
    assert smart.ready and smart.patient_id
    granted = set(smart.launch_context["scope"].split())
    assert {"launch/patient", "offline_access", "patient/*.rs"} <= granted
    assert smart.launch_context["patient"] == smart.patient_id
    first_token = smart.server.auth.access_token
    assert smart.server.auth.refresh_token

    # 6. It reads her Patient: Jordan's record, not one of her children's.
    patient = Patient.read(smart.patient_id, smart.server)
    official = patient.name[0]
    assert official.family == "Rivera" and "Jordan" in official.given
    assert patient.birthDate.isostring == JORDAN.date_of_birth.isoformat()

    # 7. It searches her lab results and vital signs, page by page.
    found = {}
    for category in ("laboratory", "vital-signs"):
        pages = search_pages(smart, category)
        results = [resource for page_ in pages for resource in page_]
        assert all(len(page_) <= PAGE_SIZE for page_ in pages)
        assert len(pages) == -(-len(results) // PAGE_SIZE) or len(results) == 0, category
        assert len({r.id for r in results}) == len(results), f"{category}: an item twice"
        for resource in results:
            assert resource.subject.reference.endswith(f"Patient/{smart.patient_id}")
            codes = {c.code for cat in resource.category for c in cat.coding}
            assert category in codes, resource.id
        found[category] = results
    assert len(found["laboratory"]) > PAGE_SIZE, "paging not exercised: too few lab results"

    # The portal shows her the same items.
    page.goto("/portal/")
    page.get_by_role("region", name="Your records").get_by_role("link", name="Open record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(JORDAN.full_name)
    for category, section in (("laboratory", "Lab results"), ("vital-signs", "Vital signs")):
        in_app = Counter(r.code.text for r in found[category])
        assert in_app == Counter(portal_rows(page, section)), section
    # Her access log lists the app's reads, by the app's name.
    page.get_by_role("navigation", name="Health record").get_by_role(
        "link", name="Access log"
    ).click()
    expect(page.get_by_role("main")).to_contain_text(
        f"Read your record through the app “{APP_NAME}”"
    )

    # 8. The access token is refreshed (offline_access): a new one reads; the old one no more.
    assert smart.reauthorize()
    assert smart.server.auth.access_token != first_token
    assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id
    stale = requests.get(
        f"{fhir_base}/Patient/{smart.patient_id}",
        headers={"Authorization": f"Bearer {first_token}", "Accept": "application/fhir+json"},
        timeout=10,
    )
    assert stale.status_code == 401, stale.text

    # 9. Connected apps: the app, the record it reads, what it may read, when it last read.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connected apps").click()
    expect(page.get_by_role("heading", level=1, name="Connected apps")).to_be_visible()
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", level=2, name=APP_NAME)
    )
    expect(card).to_contain_text(OWN_RECORD)
    expect(card).to_contain_text("Lab results, vital signs, screenings and assessments")
    expect(card.locator("dd").filter(has=page.locator("time"))).to_have_count(2)  # connected, read
    shot(page, "smart-04-connected-apps")
    switch_language(page, "Español", "es")
    expect(page.get_by_role("heading", level=2, name=APP_NAME)).to_be_visible()
    shot(page, "smart-05-connected-apps-es")
    card.get_by_role("link").last.click()  # "Disconnect", in Spanish
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1, name=re.compile(APP_NAME))).to_be_visible()
    shot(page, "smart-06-disconnect-es")
    switch_language(page, "English", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Disconnect {APP_NAME}?")
    page.get_by_role("main").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("heading", level=1, name="Connected apps")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=APP_NAME)).to_have_count(0)
    shot(page, "smart-07-disconnected")

    # 10. The app's next read fails at once, and its refresh token no longer works.
    with pytest.raises(FHIRUnauthorizedException) as refused:
        Patient.read(smart.patient_id, smart.server)
    outcome = refused.value.response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    with pytest.raises(requests.HTTPError) as no_refresh:
        smart.reauthorize()
    assert no_refresh.value.response.status_code == 400
    assert no_refresh.value.response.json()["error"] == "invalid_grant"


# ---------------------------------------------------------------------------
# The README's script, against a server run as `make demo` runs it


@pytest.fixture
def demo_server(stack):
    """Another web server on the same database, cache and mailbox, with PORTICO_DEMO=1 as
    `make demo` runs it (loopback http redirect URIs are for development deployments: RFC 8252
    apps on the patient's computer). Its address."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(stack.env, PORTICO_BASE_URL=base_url, PORTICO_DEMO="1")
    web = _start(_server_commands(port)["web"], env, stack.log_dir, "web-demo")
    try:
        _wait_healthy(base_url, {"web-demo": web}, stack.log_dir)
        yield base_url
    finally:
        _stop(web)


def demo_app_client_id(stack) -> str:
    """The demo app's client_id, as `make demo` prints it."""
    printed = portico(
        stack,
        "shell",
        "-c",
        "from portico.demo.smart_app import demo_smart_app; print(demo_smart_app().client_id)",
    )
    return printed.strip().splitlines()[-1]


def test_the_readme_script_connects_the_demo_app_and_lists_the_lab_results(
    stack, demo_server, new_page, shot, artifacts
):
    client_id = demo_app_client_id(stack)
    script = subprocess.Popen(
        [
            str(BIN / "python"),
            "scripts/smart_demo_client.py",
            "--fhir-base",
            f"{demo_server}/fhir/R4",
            "--client-id",
            client_id,
            "--count",
            str(PAGE_SIZE),
            "--timeout",
            "120",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed: list[str] = []
        reader = threading.Thread(target=lambda: printed.extend(script.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while not any(line.strip().startswith("http") for line in printed):
            assert time.monotonic() < deadline, f"no address printed: {printed}"
            assert script.poll() is None, script.stderr.read()
            time.sleep(0.1)
        authorize_url = next(line.strip() for line in printed if line.strip().startswith("http"))
        assert authorize_url.startswith(f"{demo_server}/o/authorize/?")

        # The patient opens the address, signs in, picks her own record and allows.
        page = new_page(viewport=DESKTOP)
        page.goto(authorize_url)
        steps.patient_sign_in(page, stack.inbox, JORDAN, DEMO_PASSWORD)
        expect(consent_heading(page, "SMART demo client")).to_be_visible()
        reads = page.get_by_role("list").filter(has_text="Lab results")
        expect(reads.get_by_role("listitem").filter(has_text="Allergies")).to_have_count(0)
        shot(page, "smart-08-demo-script-consent")
        allow_as_jordan(page)
        page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/callback\?"))
        expect(page.get_by_role("heading", name="Back in the app")).to_be_visible()

        assert script.wait(timeout=60) == 0, script.stderr.read()
        reader.join(timeout=5)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    output = "".join(printed)
    (artifacts / "smart-demo-script.txt").write_text(output)
    assert f"Patient: {JORDAN.full_name} (born {JORDAN.date_of_birth.isoformat()})" in output
    match = re.search(r"Observations in category laboratory: (\d+) \((\d+) pages?\)", output)
    assert match, output
    count, pages = int(match.group(1)), int(match.group(2))
    assert count > PAGE_SIZE and pages == -(-count // PAGE_SIZE), output
    assert len(re.findall(r"^  \d{4}-\d{2}-\d{2}  .+: .+$", output, re.MULTILINE)) == count
