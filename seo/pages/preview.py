"""`seo preview`: serve the built site on localhost for staff to look at."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> http.server.HTTPServer:
    handler = functools.partial(_Handler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve_in_thread(folder: Path, host: str = "127.0.0.1",
                    port: int = 0) -> tuple[http.server.HTTPServer, str]:
    """Start a server in a daemon thread; returns it and its base URL (port 0 = any free port)."""
    server = make_server(folder, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"
