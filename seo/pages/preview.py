"""`seo preview`: serve the built site on localhost for staff to look at.

A path the build doesn't have answers 404 with a page, as a real host would: the site's own
`404.html` when the build has one, else a short built-in page linking home (so a broken link is
seen as one, not as the browser's bare error).
"""

from __future__ import annotations

import functools
import html
import http.server
import threading
from http import HTTPStatus
from pathlib import Path

NOT_FOUND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,
initial-scale=1"><meta name="robots" content="noindex"><title>Page not found (404)</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
code{{word-break:break-all}}</style></head>
<body><main><h1>Page not found</h1>
<p>The built site has no page at <code>{path}</code>.</p>
<p><a href="/">Go to the home page</a></p>
<p><small>seo preview: answered 404, as the live site would. A link that leads here is broken.</small></p>
</main></body></html>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != HTTPStatus.NOT_FOUND or self.command not in ("GET", "HEAD"):
            super().send_error(code, message, explain)
            return
        own = Path(self.directory) / "404.html"
        try:
            body = own.read_bytes() if own.is_file() and not own.is_symlink() else b""
        except OSError:
            body = b""
        if not body:
            body = NOT_FOUND.format(path=html.escape(self.path.split("?")[0][:300])).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> http.server.HTTPServer:
    handler = functools.partial(_Handler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve_in_thread(folder: Path, host: str = "127.0.0.1",
                    port: int = 0) -> tuple[http.server.HTTPServer, str]:
    """Start a server in a daemon thread; returns it and its base URL (port 0 = any free port)."""
    server = make_server(folder, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"
