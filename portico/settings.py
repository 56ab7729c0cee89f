"""Portico settings: one module, every value from the environment.

Development and the demo work with no variables set (SQLite under ./var, a local
mailbox for email). Production sets DEBUG=0 and must then provide SECRET_KEY,
ALLOWED_HOSTS and PORTICO_BASE_URL, or start-up fails loudly.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portico.core.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_cache_url,
    parse_email_url,
)
from portico.core.keys import rsa_private_key_pem

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTICO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Demo mode: demo data, the local mailbox page. Implies a development posture.
DEMO = env_bool("PORTICO_DEMO", False)

_DEV_SECRET = "insecure-development-key-only-for-debug-and-demo"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or DEMO:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEBUG or DEMO) else [])

PORTICO_BASE_URL = env_str("PORTICO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base_host = urlsplit(PORTICO_BASE_URL).hostname or "localhost"
# The deployment's mail domain; "127.0.0.1" or "localhost" make poor sender domains.
PORTICO_MAIL_DOMAIN = env_str(
    "PORTICO_MAIL_DOMAIN",
    "portico.test" if _base_host in ("127.0.0.1", "localhost") else _base_host,
)
PORTICO_ENROLLMENT_FROM = env_str("PORTICO_ENROLLMENT_FROM", f"healthrecords@{PORTICO_MAIL_DOMAIN}")
PORTICO_NOTIFICATIONS_FROM = env_str(
    "PORTICO_NOTIFICATIONS_FROM", f"notifications@{PORTICO_MAIL_DOMAIN}"
)
DEFAULT_FROM_EMAIL = PORTICO_NOTIFICATIONS_FROM
SERVER_EMAIL = PORTICO_NOTIFICATIONS_FROM

# Portal enrollment (SPEC §3)
PORTICO_INVITATION_TTL_DAYS = env_int("PORTICO_INVITATION_TTL_DAYS", 30)
PORTICO_INVITATION_MAX_CODE_ATTEMPTS = env_int("PORTICO_INVITATION_MAX_CODE_ATTEMPTS", 5)
# Bulk invite (portico.outreach): charts per transaction, and how long a run may go without
# progress before the periodic job hands it to a new task (its worker was killed).
PORTICO_BULK_INVITE_BATCH_SIZE = env_int("PORTICO_BULK_INVITE_BATCH_SIZE", 500)
PORTICO_BULK_INVITE_STALL_SECONDS = env_int("PORTICO_BULK_INVITE_STALL_SECONDS", 120)
# The phone route: texted security codes (valid minutes, wait between codes, codes per hour).
PORTICO_SECURITY_CODE_TTL_MINUTES = env_int("PORTICO_SECURITY_CODE_TTL_MINUTES", 10)
PORTICO_SECURITY_CODE_RESEND_SECONDS = env_int("PORTICO_SECURITY_CODE_RESEND_SECONDS", 60)
PORTICO_SECURITY_CODES_PER_HOUR = env_int("PORTICO_SECURITY_CODES_PER_HOUR", 5)
# The troubleshooter suggests checking spam when an invitation sent this long ago is unused.
PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS = env_int("PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS", 3)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "oauth2_provider",
    "corsheaders",
    "portico.core",
    "portico.audit",
    "portico.accounts",
    "portico.practices",
    "portico.charts",
    "portico.notifications",
    "portico.portal",
    "portico.outreach",
    "portico.scheduling",
    "portico.records",
    "portico.intake",
    "portico.messaging",
    "portico.booking",
    "portico.fhir",
    "portico.periodic",
    "portico.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CORS answers only under /fhir/ and on the token endpoint (CORS_URLS_REGEX below).
    "corsheaders.middleware.CorsMiddleware",
    "portico.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portico.accounts.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portico.audit.middleware.RequestContextMiddleware",
    "portico.practices.middleware.CurrentPracticeMiddleware",
    "portico.portal.language.LanguageMiddleware",
    "portico.accounts.session_timeout.SessionTimeoutMiddleware",
    "portico.accounts.mfa_middleware.SecondFactorMiddleware",
]

ROOT_URLCONF = "portico.urls"
WSGI_APPLICATION = "portico.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portico" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portico.core.context_processors.portico",
            ],
        },
    },
    {
        # The record renderings (an app's jinja2/ folder): many rows, rendered faster.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "portico.core.jinja.environment"},
    },
]

# Database: SQLite by default, PostgreSQL with DATABASE_URL=postgres://...
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portico.sqlite3'}")
# Connections are kept between requests (for SQLite too: opening one runs the pragmas below and
# closing the last one checkpoints the WAL, about 1 ms per request together).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker share the file: without IMMEDIATE
    # transactions and WAL, concurrent writers fail with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"].setdefault("TEST", {})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign_in"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # Argon2id
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "portico.accounts.passwords.MaximumLengthValidator"},
    {"NAME": "portico.accounts.passwords.ContextValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not (DEBUG or DEMO))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PORTICO_BASE_URL])
_https = PORTICO_BASE_URL.startswith("https://") and not (DEBUG or DEMO)
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto header (set it there!).
if env_bool("PORTICO_TRUST_X_FORWARDED_PROTO", _https):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
# On by default over HTTPS so `portico check --deploy` is clean; both bind every subdomain of the
# operator's domain, so an operator serving plain-HTTP subdomains turns them off here.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# portico.core.security.SecurityHeadersMiddleware. Scripts and styles come only from Portico's
# own static files: no inline scripts or event handlers, no style attributes.
PORTICO_CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PORTICO_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Languages (issue 13): the portal, the public pages, sign-in and the emails in English and
# Spanish; one catalogue, portico/locale/es/LC_MESSAGES/django.po, compiled by `make` (Babel).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "portico" / "locale"]
FORMAT_MODULE_PATH = ["portico.formats"]
LANGUAGE_COOKIE_NAME = "portico_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# portico/static belongs to no app, so the app finder alone never finds portico.css/js.
STATICFILES_DIRS = [BASE_DIR / "portico" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Message attachments (SPEC §7.2): never under a public URL; a view checks access, audits
    # and sends each download. A local folder by default; S3-compatible storage with
    # django-storages (pip install "portico[s3]") and ATTACHMENTS_STORAGE=s3, see README.md.
    "attachments": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env_str("S3_BUCKET", ""),
                "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
                "region_name": env_str("S3_REGION", "") or None,
                "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
                "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
                "location": env_str("S3_PREFIX", "attachments"),
                "default_acl": "private",
                "file_overwrite": False,
            },
        }
        if env_str("ATTACHMENTS_STORAGE", "local") == "s3"
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": env_str("ATTACHMENTS_DIR", str(VAR_DIR / "attachments")),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    ),
}
# Larger uploads go to a temporary file, never whole into memory (attachments up to 25 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Serve static files straight from the apps without collectstatic (demo, dev, tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG or DEMO

# Email: EMAIL_URL=smtp://host:port, smtp+tls://user:pass@host:587, smtps://...,
# console://, mailbox:// (the demo's local mailbox page) or locmem://.
EMAIL_URL = env_str("EMAIL_URL", "mailbox://" if (DEBUG or DEMO) else "smtp://localhost:25")
globals().update(parse_email_url(EMAIL_URL))
PORTICO_MAILBOX_DIR = Path(env_str("PORTICO_MAILBOX_DIR", str(VAR_DIR / "mailbox")))
# The mailbox page exists only in demo or debug mode.
PORTICO_MAILBOX_ENABLED = DEBUG or DEMO

# Text messages (security codes): console://, file:///folder, memory:// (tests) or an
# https:// webhook signed with SMS_WEBHOOK_SECRET (see portico/notifications/sms.py).
# Empty (the production default) means no SMS, and the phone route is not offered.
SMS_URL = env_str("SMS_URL", f"file://{VAR_DIR / 'sms'}" if (DEBUG or DEMO) else "")
SMS_WEBHOOK_SECRET = env_str("SMS_WEBHOOK_SECRET", "")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)

# Background work: django-tasks with the database backend and its db_worker.
# PORTICO_TASKS_BACKEND=immediate runs tasks in-process (tests, one-off scripts).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_task_backend = env_str("PORTICO_TASKS_BACKEND", "database")
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"PORTICO_TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}

# CACHE_URL=locmem:// (default; per process) or redis://host:6379/0 (shared; use it in
# production so that rate limits count across every web process).
CACHE_URL = env_str("CACHE_URL", "locmem://")
CACHES = {
    "default": parse_cache_url(CACHE_URL),
    # Renderings of record pages (portico/charts/record_cache.py) live in their own cache, so that
    # many charts' pages can never push rate-limit counters out of the default one.
    "records": parse_cache_url(env_str("PORTICO_RECORD_CACHE_URL", CACHE_URL)),
}
# Several deployments (or test runs) may share one Redis: a prefix keeps their keys apart.
for _cache in CACHES.values():
    _cache["KEY_PREFIX"] = env_str("PORTICO_CACHE_KEY_PREFIX", "")
if CACHES["records"]["BACKEND"].endswith("LocMemCache"):
    CACHES["records"]["LOCATION"] = "records"
    CACHES["records"]["OPTIONS"] = {"MAX_ENTRIES": env_int("PORTICO_RECORD_CACHE_ENTRIES", 1000)}
# How long a rendering is kept; 0 turns the cache off.
PORTICO_RECORD_CACHE_SECONDS = env_int("PORTICO_RECORD_CACHE_SECONDS", 600)

# Sessions are rows in the database. With a cache every web process shares (CACHE_URL=redis://)
# they are read through it (Django's cached_db engine); a per-process cache must not hold them,
# or one web process would go on reading a session that another has changed since. Ending an
# account's sessions acts at once whatever a cache holds: the session hash changes
# (accounts.sessions.sessions_end_all).
SESSIONS_THROUGH_CACHE = CACHES["default"]["BACKEND"].endswith("RedisCache")
SESSION_ENGINE = "django.contrib.sessions.backends." + (
    "cached_db" if SESSIONS_THROUGH_CACHE else "db"
)

# Sign-in and recovery (SPEC §4.1, §4.2; NIST SP 800-63B, OWASP ASVS L2)
PORTICO_PASSWORD_MAX_LENGTH = 128
# Wrong passwords in a row before the account locks, and how long the lock lasts.
PORTICO_SIGN_IN_LOCK_AFTER = env_int("PORTICO_SIGN_IN_LOCK_AFTER", 10)
PORTICO_SIGN_IN_LOCK_SECONDS = env_int("PORTICO_SIGN_IN_LOCK_SECONDS", 3600)
# Reset links work once, for this many seconds (Django's token generator reads it).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# Proxies in front of Portico that append the client's address to X-Forwarded-For (0: none;
# the limits then count REMOTE_ADDR, which behind a proxy is the proxy's own address).
PORTICO_TRUSTED_PROXY_HOPS = env_int("PORTICO_TRUSTED_PROXY_HOPS", 0)
# Per-address limits, (hits, seconds) per scope; see portico/core/ratelimit.py.
PORTICO_RATE_LIMITS = {
    "sign_in": (20, 600),  # failed sign-ins
    "password_reset": (10, 900),  # reset requests
    "username_reminder": (10, 900),  # username reminders
    "registration": (30, 900),  # answers on the registration pages (access or security code)
    "security_code": (10, 900),  # requests for a texted security code
    "booking_request": (5, 3600),  # appointment requests sent from the public booking pages
}

# Email delivery (notifications/services.py): send rate (0 = unlimited), batch size, the lease a
# sender holds on claimed messages, retries with backoff, and the bounce webhook's secret.
PORTICO_EMAIL_RATE_PER_SECOND = env_int("PORTICO_EMAIL_RATE_PER_SECOND", 0)
PORTICO_EMAIL_BATCH_SIZE = env_int("PORTICO_EMAIL_BATCH_SIZE", 100)
PORTICO_EMAIL_LEASE_SECONDS = env_int("PORTICO_EMAIL_LEASE_SECONDS", 300)
# A drain task works at most this long, then queues a follow-up (a graceful worker stop waits).
PORTICO_EMAIL_DRAIN_SECONDS = env_int("PORTICO_EMAIL_DRAIN_SECONDS", 20)
PORTICO_EMAIL_MAX_ATTEMPTS = env_int("PORTICO_EMAIL_MAX_ATTEMPTS", 8)
PORTICO_EMAIL_MAX_AGE_HOURS = env_int("PORTICO_EMAIL_MAX_AGE_HOURS", 72)
PORTICO_EMAIL_RETRY_BASE_SECONDS = env_int("PORTICO_EMAIL_RETRY_BASE_SECONDS", 60)
PORTICO_EMAIL_RETRY_MAX_SECONDS = env_int("PORTICO_EMAIL_RETRY_MAX_SECONDS", 4 * 3600)
PORTICO_BOUNCE_WEBHOOK_SECRET = env_str("PORTICO_BOUNCE_WEBHOOK_SECRET", "")
PORTICO_BOUNCE_WEBHOOK_TOLERANCE_SECONDS = env_int("PORTICO_BOUNCE_WEBHOOK_TOLERANCE_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "portico.core.logging.RedactSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines can carry registration tokens in paths; keep them out of logs.
        "django.server": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# Second factor and session timeouts (SPEC §4.1, §4.3)
PORTICO_MFA_EMAIL_CODE_MINUTES = env_int("PORTICO_MFA_EMAIL_CODE_MINUTES", 10)
PORTICO_MFA_MAX_CODE_ATTEMPTS = env_int("PORTICO_MFA_MAX_CODE_ATTEMPTS", 5)
PORTICO_REMEMBER_DEVICE_DAYS = env_int("PORTICO_REMEMBER_DEVICE_DAYS", 30)
# Keys that encrypt the stored secrets the server must read back (authenticator-app secrets):
# comma-separated, newest first; the first encrypts, every one decrypts. Each is any secret
# string of at least 32 characters, from which portico.core.crypto derives a Fernet key with
# HKDF-SHA256. Unset: derived from SECRET_KEY (then SECRET_KEY_FALLBACKS). README: rotation.
PORTICO_FIELD_ENCRYPTION_KEYS = env_list("PORTICO_FIELD_ENCRYPTION_KEYS", [])
if any(len(key) < 32 for key in PORTICO_FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured(
        "Each PORTICO_FIELD_ENCRYPTION_KEYS entry must be at least 32 characters long, "
        'e.g. from: python -c "import secrets; print(secrets.token_urlsafe(32))"'
    )
PORTICO_IDLE_TIMEOUT_PATIENT_MINUTES = env_int("PORTICO_IDLE_TIMEOUT_PATIENT_MINUTES", 15)
PORTICO_IDLE_TIMEOUT_STAFF_MINUTES = env_int("PORTICO_IDLE_TIMEOUT_STAFF_MINUTES", 30)
PORTICO_SESSION_ABSOLUTE_TIMEOUT_HOURS = env_int("PORTICO_SESSION_ABSOLUTE_TIMEOUT_HOURS", 12)
# The browser cookie ends with the absolute timeout too.
SESSION_COOKIE_AGE = PORTICO_SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600

# Patient apps: FHIR R4 with SMART App Launch (SPEC §11.1; portico.fhir). django-oauth-toolkit
# runs the authorization server; every RFC 9700 practice it offers is on: PKCE required and
# S256 only, exact redirect URIs, tokens stored hashed (only a SHA-256 checksum is kept),
# refresh tokens rotated with reuse detection, the `iss` in the authorization response.
PORTICO_FHIR_BASE_URL = f"{PORTICO_BASE_URL}/fhir/R4"
# The key that signs OpenID Connect ID tokens (scope openid): a PEM RSA private key. Unset, one
# is made once under PORTICO_VAR_DIR; deployments with several web machines must share one file.
PORTICO_OIDC_KEY_FILE = Path(
    env_str("PORTICO_OIDC_KEY_FILE", str(VAR_DIR / "oidc-signing-key.pem"))
)
# The toolkit's own models (named so that migrations referring to them resolve).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "portico.fhir.scopes.SmartScopes",
    "OAUTH2_VALIDATOR_CLASS": "portico.fhir.oauth.PorticoValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("PORTICO_FHIR_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("PORTICO_FHIR_REFRESH_TOKEN_DAYS", 90) * 86400,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    # http only for loopback addresses (an app on the patient's own computer, RFC 8252 §7.3,
    # which RFC 9700 §2.1 allows): portico.fhir.services.register_app refuses any other http
    # redirect URI outside the demo and DEBUG.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "REQUEST_APPROVAL_PROMPT": "force",
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": PORTICO_BASE_URL,
    "OIDC_RSA_PRIVATE_KEY": rsa_private_key_pem(PORTICO_OIDC_KEY_FILE),
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,  # loopback http, see above
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
# The toolkit's warning that http redirect URIs are allowed: only loopback ones are (see above).
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]
# Browser apps call the FHIR server and the token endpoint from their own origin; nothing else
# answers cross-origin requests. Bearer tokens, never cookies, so no credentials.
CORS_URLS_REGEX = r"^/(fhir/|o/token/|o/revoke_token/)"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["Location", "Content-Location", "ETag", "Last-Modified"]
