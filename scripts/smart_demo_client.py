"""A patient app for trying Portico's FHIR API: SMART's Python client (`fhirclient`) connects to
a patient's record through SMART App Launch, then reads the patient and their lab results.

    make demo   # prints the demo app's client_id, then, in another terminal:
    .venv/bin/python scripts/smart_demo_client.py --client-id CLIENT_ID

It listens on a loopback port for the redirect back from Portico (an app on the patient's own
computer: RFC 8252), prints the address to open in a browser — sign in as the patient
(patient@demo.portico.test in the demo), pick the record, allow — then exchanges the code for a
token (PKCE S256), reads the Patient and searches Observation by category, following the
Bundle's `next` links to the last page. fhirclient finds the authorization and token endpoints
in the server's CapabilityStatement (`metadata`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

from fhirclient import client
from fhirclient.models.observation import Observation

DEFAULT_FHIR_BASE = "http://127.0.0.1:8000/fhir/R4"
# fhirclient adds "launch/patient": Portico asks the patient which record the app may read.
DEFAULT_SCOPE = "openid fhirUser patient/Patient.rs patient/Observation.rs"
CALLBACK_PATH = "/callback"

ANSWER_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>SMART demo client</title></head>
<body><main><h1>Back in the app</h1>
<p>Portico sent you back to the SMART demo client. You can close this tab: the script in your
terminal reads the record now.</p></main></body></html>
"""


class _Callback(BaseHTTPRequestHandler):
    """Takes the one redirect back from Portico (its address, with the code or the error)."""

    received: list[str]
    arrived: threading.Event

    def do_GET(self):  # noqa: N802 (http.server's name)
        if urlsplit(self.path).path != CALLBACK_PATH:
            self.send_error(404)
            return
        self.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ANSWER_PAGE)))
        self.end_headers()
        self.wfile.write(ANSWER_PAGE)
        self.arrived.set()

    def log_message(self, format, *args):  # noqa: A002 (http.server's name)
        pass  # the terminal shows the script's own lines only


def _listen(port: int) -> tuple[HTTPServer, list[str], threading.Event]:
    received: list[str] = []
    arrived = threading.Event()
    handler = type("Callback", (_Callback,), {"received": received, "arrived": arrived})
    server = HTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received, arrived


def _value(observation: Observation) -> str:
    if observation.valueQuantity is not None:
        quantity = observation.valueQuantity
        return f"{quantity.value:g} {quantity.unit or ''}".strip()
    if observation.valueString is not None:
        return observation.valueString
    if observation.valueCodeableConcept is not None:
        return observation.valueCodeableConcept.text or ""
    return ""


def _when(observation: Observation) -> str:
    if observation.effectiveDateTime is not None:
        return observation.effectiveDateTime.isostring[:10]
    return "          "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client-id", required=True, help="The app's client_id.")
    parser.add_argument(
        "--client-secret", default=None, help="A confidential app's secret (none for a public one)."
    )
    parser.add_argument(
        "--fhir-base", default=DEFAULT_FHIR_BASE, help=f"default {DEFAULT_FHIR_BASE}"
    )
    parser.add_argument("--scope", default=DEFAULT_SCOPE, help=f'default "{DEFAULT_SCOPE}"')
    parser.add_argument(
        "--category",
        default="laboratory",
        help="The Observation category to list (laboratory, vital-signs, survey, ...).",
    )
    parser.add_argument("--count", type=int, default=20, help="Results per page (_count).")
    parser.add_argument(
        "--port", type=int, default=0, help="The loopback port to listen on (default: any free)."
    )
    parser.add_argument("--open", action="store_true", help="Open the address in a browser.")
    parser.add_argument(
        "--timeout", type=float, default=600, help="Seconds to wait for the patient's answer."
    )
    args = parser.parse_args(argv)

    server, received, arrived = _listen(args.port)
    origin = f"http://127.0.0.1:{server.server_port}"
    redirect_uri = origin + CALLBACK_PATH
    smart = client.FHIRClient(
        settings={
            "app_id": args.client_id,
            "app_secret": args.client_secret,
            "api_base": args.fhir_base,
            "redirect_uri": redirect_uri,
            "scope": args.scope,
        },
        save_func=lambda state: None,
    )
    try:
        authorize_url = smart.authorize_url  # reads the CapabilityStatement first
        print("Open this address in a browser, sign in as the patient and allow the app:")
        print(f"  {authorize_url}", flush=True)
        if args.open:
            webbrowser.open(authorize_url)
        if not arrived.wait(args.timeout):
            print(f"No answer within {args.timeout:g} seconds.", file=sys.stderr)
            return 1
    finally:
        server.shutdown()
        server.server_close()

    try:
        smart.handle_callback(origin + received[0])
    except Exception as error:  # fhirclient says what went wrong in a plain Exception
        print(f"Not connected: {error}", file=sys.stderr)
        return 1
    granted = (smart.launch_context or {}).get("scope", "")
    print(f"Connected: the app reads Patient/{smart.patient_id} with scopes {granted}")

    patient = smart.patient
    name = smart.human_name(patient.name[0] if patient.name else None)
    born = patient.birthDate.isostring if patient.birthDate is not None else "unknown"
    print(f"Patient: {name} (born {born})")

    search = Observation.where(
        struct={"patient": smart.patient_id, "category": args.category, "_count": str(args.count)}
    )
    results, pages = [], 0
    for bundle in search.perform_iter(smart.server):  # follows each page's `next` link
        pages += 1
        results += [entry.resource for entry in bundle.entry or [] if entry.resource is not None]
    pages_text = f"{pages} page" if pages == 1 else f"{pages} pages"
    print(f"Observations in category {args.category}: {len(results)} ({pages_text})")
    for observation in results:
        what = observation.code.text if observation.code is not None else ""
        print(f"  {_when(observation)}  {what}: {_value(observation)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
