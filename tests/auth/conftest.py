"""A real JWKS server on 127.0.0.1 standing in for an external OpenID Connect provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class JwksServer:
    """Serves ``self.keys`` at ``/jwks`` and counts every request it gets."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.httpd.timeout = 5
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(self.path)
                    body = json.dumps({"keys": server.keys}).encode()
                status = 200 if self.path == "/jwks" else 404
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def publish(self, *keys: dict[str, Any]) -> None:
        with self.lock:
            self.keys = list(keys)

    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(timeout=5)
