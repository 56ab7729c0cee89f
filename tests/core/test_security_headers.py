"""Every page carries the security headers; production settings pass `check --deploy`."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

import portico
from portico.notifications.mailbox import MailboxBackend, mailbox_messages

PROJECT_DIR = Path(portico.__file__).resolve().parent


def _directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


@pytest.mark.django_db
def test_pages_forbid_inline_scripts_and_framing_by_other_sites(client):
    response = client.get(reverse("accounts:sign_in"))
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_api_answers_carry_the_policy_too(client):
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_view_with_its_own_policy_keeps_it(client, settings, tmp_path):
    """The demo mailbox shows an email's HTML in a sandboxed frame with its own, stricter rule."""
    settings.PORTICO_MAILBOX_ENABLED = True
    settings.PORTICO_MAILBOX_DIR = tmp_path / "mailbox"
    message = EmailMultiAlternatives("Hello", "text", "a@example.org", ["b@example.org"])
    message.attach_alternative("<p>html</p>", "text/html")
    MailboxBackend().send_messages([message])
    key = mailbox_messages()[0].key
    response = client.get(reverse("mailbox_html", args=[key]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def _page_templates():
    for path in sorted(PROJECT_DIR.rglob("templates/**/*.html")):
        # Email bodies are read in mail programs, never served under the page policy.
        if "email" in path.parts:
            continue
        yield path


@pytest.mark.parametrize(
    "pattern, what",
    [
        (INLINE_SCRIPT, "an inline <script>"),
        (INLINE_HANDLER, "an inline event handler"),
        (STYLE_ATTRIBUTE, "a style attribute"),
    ],
)
def test_no_page_template_needs_what_the_policy_blocks(pattern, what):
    """The browser would refuse these under the policy; put the code in portico/static instead."""
    offenders = [
        str(path.relative_to(PROJECT_DIR))
        for path in _page_templates()
        if pattern.search(path.read_text())
    ]
    assert offenders == [], f"{what} in: {', '.join(offenders)}"


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PORTICO_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "ALLOWED_HOSTS")
        )
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        PORTICO_FIELD_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="portal.example.org",
        PORTICO_BASE_URL="https://portal.example.org",
        PORTICO_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://portico@db.example.org/portico",
        EMAIL_URL="smtp://mail.example.org:587",
    )
    result = subprocess.run(
        [sys.executable, "-m", "portico", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_DIR.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_turn_on_hsts_and_secure_cookies(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "DEBUG"))}
    env.update(
        DEBUG="0",
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="portal.example.org",
        PORTICO_BASE_URL="https://portal.example.org",
        PORTICO_VAR_DIR=str(tmp_path),
    )
    code = (
        "import portico.settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True", "True", "True"]
