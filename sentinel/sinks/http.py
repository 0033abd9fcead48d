"""The metrics endpoint: prometheus-client's WSGI app behind optional TLS and basic auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from sentinel.config.model import MetricsConfig

log = logging.getLogger("sentinel.metrics")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


REQUEST_TIMEOUT = 10.0  # seconds a client may take to shake hands or send its request


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the request's own thread: in accept() a client
        # that never speaks would hold up every scrape.
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(REQUEST_TIMEOUT)
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError) as error:
                log.debug("metrics TLS handshake failed: %s", error)
                return
        super().finish_request(request, client_address)


class _IPv6Server(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics request: " + format, *args)


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9817', '[::1]:9817' or ':9817' (all addresses) -> (host, port)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def _password_ok(stored: str, given: str) -> bool:
    """`stored` is `sha256:<hex>`; compared in constant time."""
    scheme, _, digest = stored.partition(":")
    if scheme != "sha256":
        return False
    actual = hashlib.sha256(given.encode()).hexdigest()
    return hmac.compare_digest(actual, digest)


def with_basic_auth(app: WSGIApp, users: dict[str, str]) -> WSGIApp:
    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if user in users and _password_ok(users[user], password):
                return app(environ, start_response)
        start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="sentinel"')])
        return [b"authentication required\n"]

    return guarded


class MetricsServer:
    """Serves /metrics in a thread. One lifecycle: start(), stop() shuts down and joins."""

    def __init__(self, settings: MetricsConfig, registry: CollectorRegistry) -> None:
        self.settings = settings
        app: WSGIApp = make_wsgi_app(registry)
        if settings.basic_auth:
            app = with_basic_auth(app, dict(settings.basic_auth))
        self.app = app
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int] | None:
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        host, port = parse_listen(self.settings.listen)
        server_class = _IPv6Server if ":" in host else _ThreadingServer
        server = make_server(host, port, self.app, server_class, _QuietHandler)
        if self.settings.tls_cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
            server.socket = context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="metrics-http"
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        self._server = None
        self._thread = None
