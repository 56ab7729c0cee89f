"""The real stack for browser tests, run as production runs it.

gunicorn serves the pages, `portico db_worker` sends the email through an aiosmtpd
SMTP server that lives in this test process, and Playwright drives Debian's
Chromium. Nothing here touches the database directly (no `db` fixture): the tests
see only what a browser and a mailbox see.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.nu_html import PageCollector

# aiosmtpd logs every SMTP command at INFO; a failing test's report needs none of it.
logging.getLogger("mail.log").setLevel(logging.WARNING)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the .venv running pytest
ARTIFACTS = REPO / "artifacts" / "e2e"
HTML_ARTIFACTS = REPO / "artifacts" / "html"  # the pages the Nu Html Checker validated
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 30  # seconds for migrate + gunicorn + worker to come up
MAIL_TIMEOUT = 20  # seconds for the worker to deliver an email
UI_TIMEOUT_MS = 10_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The mailbox: a real SMTP server


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    @property
    def everything(self) -> str:
        """Headers and every part, decoded: what "not in the email" is checked against."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.message.items())
        return "\n".join([headers, self.text, self.html])


class Inbox:
    """aiosmtpd handler that keeps every message it receives.

    A test can make it refuse mail for an address: `inbox.refuse[address] = "550 …"`.
    """

    def __init__(self) -> None:
        self._messages: list[ReceivedEmail] = []
        self._lock = threading.Lock()
        self.refuse: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        for address in envelope.rcpt_tos:
            if address in self.refuse:
                return self.refuse[address]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(
                ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[ReceivedEmail]:
        with self._lock:
            return [m for m in self._messages if address in m.rcpt_tos]

    def wait_for(self, address: str, count: int, timeout: float = MAIL_TIMEOUT) -> ReceivedEmail:
        """The `count`-th email to `address`, once it has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.to(address)
            if len(received) >= count:
                return received[count - 1]
            time.sleep(0.1)
        raise AssertionError(
            f"expected {count} email(s) to {address} within {timeout}s, got {len(self.to(address))}"
        )


# ---------------------------------------------------------------------------
# The servers


@dataclass
class Stack:
    base_url: str
    inbox: Inbox
    log_dir: Path
    env: dict[str, str]


@contextmanager
def _database(tmp: Path) -> Iterator[str]:
    """SQLite in the temp directory; or, with E2E_POSTGRES_URL, a throwaway PostgreSQL database.

    E2E_POSTGRES_URL names the server (postgres://postgres@127.0.0.1:5432/postgres); a
    database of its own is created for the run and dropped afterwards.
    """
    server = os.environ.get("E2E_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{tmp / 'e2e.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    name = f"portico_e2e_{secrets.token_hex(4)}"
    parts = urlsplit(server)
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _shared_cache_env() -> dict[str, str]:
    """Redis as production runs it (sessions read through it by every gunicorn worker, shared
    rate limits), under a key prefix of this run's own; without a Redis server here, none."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return {}
    return {
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "PORTICO_CACHE_KEY_PREFIX": f"e2e-{secrets.token_hex(6)}",
    }


def _server_env(tmp: Path, database_url: str, http_port: int, smtp_port: int) -> dict[str, str]:
    # Start from a clean slate: the pytest process carries test defaults
    # (portico.testing) that must not leak into the "production" servers.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "DJANGO_"))
        and k not in {"DATABASE_URL", "EMAIL_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="e2e-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        PORTICO_BASE_URL=f"http://127.0.0.1:{http_port}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        SESSION_COOKIE_SECURE="0",
        PORTICO_VAR_DIR=str(tmp),
        DEBUG="0",
        # `portico shell` imports tests.factories for the seed data.
        PYTHONPATH=str(REPO),
        **_shared_cache_env(),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str], log_dir: Path, name: str) -> None:
    result = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    (log_dir / f"{name}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def _start(args: list[str], env: dict[str, str], log_dir: Path, name: str) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed by the process' end)
    # Own process group, so teardown can stop the server and every child it forked.
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    """Stop a server and every process it forked (its process group), gently first."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    # The group may outlive its leader (a gunicorn worker, say): make sure it is gone.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def _log_tail(log_dir: Path, name: str, lines: int = 40) -> str:
    path = log_dir / f"{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(base_url: str, processes: dict[str, subprocess.Popen], log_dir: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{_log_tail(log_dir, name)}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base_url}/healthz did not answer:\n{_log_tail(log_dir, 'web')}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Migrate, seed, start the web server, the task worker and the SMTP server."""
    tmp = tmp_path_factory.mktemp("e2e")
    http_port, smtp_port = _free_port(), _free_port()
    portico = str(BIN / "portico")

    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(_database(tmp))
        env = _server_env(tmp, database_url, http_port, smtp_port)
        base_url = env["PORTICO_BASE_URL"]
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        cleanup.callback(smtp.stop)

        _run([portico, "migrate", "--no-input"], env, tmp, "migrate")
        _run(
            [portico, "shell", "-c", "from tests.e2e.seed import seed; seed()"],
            env,
            tmp,
            "seed",
        )
        processes = {}
        for name, args in _server_commands(http_port).items():
            processes[name] = _start(args, env, tmp, name)
            cleanup.callback(_stop, processes[name])
        _wait_healthy(base_url, processes, tmp)

        yield Stack(base_url=base_url, inbox=inbox, log_dir=tmp, env=env)


def _server_commands(http_port: int) -> dict[str, list[str]]:
    """The web server and the task worker, as production runs them."""
    return {
        "web": [
            str(BIN / "python"),
            "-m",
            "gunicorn",
            "portico.wsgi",
            "--bind",
            f"127.0.0.1:{http_port}",
            "--workers",
            "2",
            "--no-control-socket",
        ],
        "worker": [
            str(BIN / "portico"),
            "db_worker",
            "--no-reload",
            "--interval",
            "0.2",
            "--no-startup-delay",
        ],
    }


@pytest.fixture
def servers_later(stack) -> Iterator:
    """`servers_later(days)` starts another web server and task worker on the same database,
    cache and mailbox whose clocks run `days` ahead (Debian's libfaketime, through the
    `faketime` command), and returns that web server's address: what the same people see on
    a later day, for rules that change with the date (a child's birthday). They stop when the
    test ends: the later worker takes tasks from the same queue, so it must not outlive the
    test and send other tests' emails with its own address and clock."""
    started: dict[int, str] = {}
    with ExitStack() as cleanup:

        def start(days: int) -> str:
            if days in started:
                return started[days]
            port = _free_port()
            base_url = f"http://127.0.0.1:{port}"
            env = dict(stack.env, PORTICO_BASE_URL=base_url)
            processes = {}
            for name, args in _server_commands(port).items():
                label = f"{name}-plus-{days}-days"
                processes[label] = _start(["faketime", "-f", f"+{days}d", *args], env,
                                          stack.log_dir, label)  # fmt: skip
                cleanup.callback(_stop, processes[label])
            _wait_healthy(base_url, processes, stack.log_dir)
            started[days] = base_url
            return base_url

        yield start


# ---------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def html_pages() -> PageCollector:
    """Every distinct HTML page the browser tests receive, for the Nu Html Checker
    (test_valid_html.py checks them once the browser tests have run)."""
    return PageCollector(HTML_ARTIFACTS)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "after_browser_tests: runs after every browser test of the session"
    )


def pytest_collection_modifyitems(items) -> None:
    """The check of every visited page runs after the browser tests that visit them."""
    last = [item for item in items if item.get_closest_marker("after_browser_tests")]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture
def new_page(browser, stack, html_pages, request):
    """Open a page in a fresh browser context: a separate person with their own cookies.

    A stylesheet, script or image that fails to load breaks the page for a person
    even when its text is right, so any such failure fails the test; so does anything the
    Content-Security-Policy blocks (an inline script or style the browser refused to run).
    Every HTML page the context receives from Portico goes to the Nu Html Checker
    (`html_pages`), framed ones included.
    """
    contexts = []
    broken: list[str] = []

    def watch(response) -> None:
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"  # pages answer 403/410 by design
            and not request.url.endswith("/favicon.ico")
        ):
            broken.append(f"{response.status} {request.url}")

    def failed(request) -> None:
        # Leaving a page cancels what it was still loading; that is no fault.
        if "ERR_ABORTED" not in (request.failure or ""):
            broken.append(f"{request.failure} {request.url}")

    def console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            broken.append(f"CSP: {message.text[:300]}")

    def open_page(**context_options):
        context = browser.new_context(base_url=stack.base_url, **context_options)
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.on("response", watch)
        context.on("requestfailed", lambda request: failed(request))
        context.on("console", console)
        html_pages.watch(context, request.node.nodeid, origin=stack.base_url)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    if broken:
        pytest.fail("resources the pages could not load:\n" + "\n".join(sorted(set(broken))))


@pytest.fixture
def shot(artifacts):
    """Save a full-page screenshot: artifacts/e2e/NN-name.png."""

    def save(page, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    return save
