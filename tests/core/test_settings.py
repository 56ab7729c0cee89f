"""Settings come from the environment; production refuses to start without what it needs."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from portico.core.env import env_bool, env_int, parse_email_url


def _load_settings(**env):
    """Import the settings module in a fresh interpreter with exactly this environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "PORTICO_",
                "DEBUG",
                "SECRET_KEY",
                "DATABASE_URL",
                "EMAIL_URL",
                "ALLOWED_HOSTS",
                "DJANGO_",
            )
        )
    }
    clean.update(env)
    code = (
        "import portico.settings as s;"
        "print(s.EMAIL_BACKEND, s.DATABASES['default']['ENGINE'], s.PORTICO_ENROLLMENT_FROM,"
        " s.PASSWORD_HASHERS[0], s.SESSION_COOKIE_SECURE, s.PORTICO_INVITATION_TTL_DAYS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_without_secret_key_refuses_to_start():
    result = _load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_use_smtp_argon2_and_secure_cookies(tmp_path):
    result = _load_settings(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        PORTICO_VAR_DIR=str(tmp_path),
        PORTICO_BASE_URL="https://portal.example.org",
        DATABASE_URL="postgres://u@db.example.org/portico",
        PORTICO_INVITATION_TTL_DAYS="14",
    )
    assert result.returncode == 0, result.stderr
    backend, engine, sender, hasher, secure, ttl = result.stdout.split()
    assert backend == "django.core.mail.backends.smtp.EmailBackend"
    assert engine == "django.db.backends.postgresql"
    assert sender == "healthrecords@portal.example.org"
    assert hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert secure == "True"
    assert ttl == "14"


def test_demo_settings_use_the_local_mailbox_and_sqlite(tmp_path):
    result = _load_settings(PORTICO_DEMO="1", PORTICO_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    backend, engine, sender, *_ = result.stdout.split()
    assert backend == "portico.notifications.mailbox.MailboxBackend"
    assert engine == "django.db.backends.sqlite3"
    assert sender == "healthrecords@portico.test"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.example.org:2525",
            {
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 2525,
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+tls://me%40x.org:p%2Fw@mail.example.org:587",
            {"EMAIL_HOST_USER": "me@x.org", "EMAIL_HOST_PASSWORD": "p/w", "EMAIL_USE_TLS": True},
        ),
        ("smtps://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
    ],
)
def test_email_url_becomes_django_email_settings(url, expected):
    config = parse_email_url(url)
    for key, value in expected.items():
        assert config[key] == value


def test_unknown_email_url_scheme_is_a_clear_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme"):
        parse_email_url("carrier-pigeon://coop")


def test_yes_no_and_number_settings_reject_nonsense(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "thirty")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 30)


@pytest.mark.real_hashing
def test_passwords_are_stored_with_argon2id(db):
    from tests.factories import make_user

    user = make_user(password="a long and unusual passphrase")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a long and unusual passphrase")


def test_unknown_api_paths_answer_with_the_json_error_body(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        ("redis://127.0.0.1:6379/0", "django.contrib.sessions.backends.cached_db"),
        ("locmem://", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_go_through_the_cache_only_when_every_web_process_shares_it(
    tmp_path, cache_url, engine
):
    """A per-process cache would let one web process keep reading a session another changed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "CACHE_URL"))}
    clean.update(PORTICO_DEMO="1", PORTICO_VAR_DIR=str(tmp_path), CACHE_URL=cache_url)
    result = subprocess.run(
        [sys.executable, "-c", "import portico.settings as s; print(s.SESSION_ENGINE)"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == engine
