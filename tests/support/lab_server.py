"""A generic loopback HTTPS server for exercising the real Azure SDK clients in tests.

- TLS with a self-signed certificate for 127.0.0.1 generated per server (the SDKs send bearer
  tokens only over https); clients use ``connection_verify=False``.
- Routes: (method, regex on the path) -> handler(request) -> Reply; the first match wins.
- Long-running operations: :meth:`LoopbackServer.async_operation` (Azure-AsyncOperation status
  URL) and :meth:`LoopbackServer.location_operation` (Location URL polled until 200).
- Every request is recorded (method, path, query, JSON body) for assertions.
- :class:`FakeCredential`: a TokenCredential that hands out a fixed fake token.

Nothing here knows about pullpath: scenario-specific Azure behaviour lives in the tests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import json
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken


class FakeCredential:
    """A TokenCredential for loopback servers: a fixed fake token, valid for an hour."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("fake-token-for-loopback", int(time.time()) + 3600)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    match: re.Match[str] | None = None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._ops = itertools.count(1)
        self._tmp = tempfile.TemporaryDirectory()
        cert, key = _self_signed(Path(self._tmp.name))
        self.cert_path = cert
        """The server's self-signed certificate (a CA bundle for clients that verify)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                req = Request(self.command, url.path, query,
                              {k.lower(): v for k, v in self.headers.items()}, body)
                reply = server.dispatch(req)
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._tmp.cleanup()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- routing
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and a path regex (case-insensitive, full match);
        later registrations take precedence (a test can override a default)."""
        self.routes.insert(0, (method.upper(), re.compile(pattern, re.IGNORECASE), handler))

    def dispatch(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
        for method, pattern, handler in self.routes:
            if method != req.method:
                continue
            m = pattern.fullmatch(req.path)
            if m is not None:
                req.match = m
                try:
                    return handler(req)
                except Exception as exc:  # a test bug: make it visible to the client
                    return Reply(599, {"error": {"code": "TestServerError",
                                                 "message": f"{type(exc).__name__}: {exc}"}})
        return Reply(404, {"error": {"code": "PathNotFound",
                                     "message": f"no route for {req.method} {req.path}"}})

    def sent(self, method: str, pattern: str) -> list[Request]:
        rx = re.compile(pattern, re.IGNORECASE)
        with self._lock:
            return [r for r in self.requests if r.method == method and rx.fullmatch(r.path)]

    # -------------------------------------------------------------- LROs
    def async_operation(self, statuses: list[dict[str, Any]]) -> str:
        """A status URL answering the given bodies in turn (the last one repeats)."""
        op = next(self._ops)
        path = f"/providers/Test/asyncOperations/op{op}"
        remaining = list(statuses)

        def handler(req: Request) -> Reply:
            body = remaining.pop(0) if len(remaining) > 1 else remaining[0]
            return Reply(200, body, {"Retry-After": "0"})

        self.route("GET", re.escape(path), handler)
        return self.url + path

    def location_operation(self, pending: int = 1, final: Reply | None = None) -> str:
        """A Location URL answering 202 ``pending`` times, then ``final`` (200 by default)."""
        op = next(self._ops)
        path = f"/providers/Test/operationResults/op{op}"
        state = {"left": pending}
        done = final or Reply(200, None)

        def handler(req: Request) -> Reply:
            if state["left"] > 0:
                state["left"] -= 1
                return Reply(202, None, {"Location": self.url + path, "Retry-After": "0"})
            return done

        self.route("GET", re.escape(path), handler)
        return self.url + path
