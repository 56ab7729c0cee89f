"""A practice's own website, for the browser tests: a tiny web server on another origin
(http://localhost:<port>, while Portico answers on http://127.0.0.1:<port>) that serves the
pages a test publishes, such as one framing Portico's booking page with the copy-paste snippet
from the profile settings. Nothing of Portico runs here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<header><p>{title}</p></header>
<main>
<h1>{heading}</h1>
{body}
</main>
</body>
</html>
"""


class Website:
    """The pages published so far, by path; any other path is a 404."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._pages: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def publish(
        self, path: str, body: str, *, title: str, heading: str = "", lang: str = "en"
    ) -> str:
        """Serve an HTML page at `path` with `body` (HTML) in its <main>; its URL."""
        html = PAGE.format(lang=lang, title=title, heading=heading or title, body=body)
        with self._lock:
            self._pages[path] = html.encode()
        return self.origin + path

    def page(self, path: str) -> bytes | None:
        with self._lock:
            return self._pages.get(path)


@contextmanager
def website(host: str = "localhost") -> Iterator[Website]:
    """Run the website's server on 127.0.0.1, a free port, named `host` in its origin."""
    site: Website | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = site.page(self.path.split("?", 1)[0]) if site is not None else None
            if body is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's name)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site = Website(f"http://{host}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
