"""Loopback stand-ins for Azure, driven by the real Azure SDK clients over real HTTPS.

- :class:`LoopbackServer`: a threaded ``http.server`` with TLS (a self-signed certificate made
  here for 127.0.0.1, which is also the CA bundle the clients verify against). Routes map
  (method, path regex) to a handler or to a script of canned replies (429 then 200, 500 then
  200...). Every request is recorded (method, path, query, headers, JSON body).
- :class:`FakeCredential`: a ``TokenCredential`` returning an unsigned JWT (Azurite's OAuth
  "basic" mode checks issuer, audience and lifetime only). It is the only fake here; the SDK
  clients and their pipelines are real.
- ``azurite`` fixture: the Azurite blob emulator (npm) on a free loopback port, HTTPS with the
  same certificate, OAuth basic, in-memory.

Why TLS and not plain HTTP: the SDKs refuse to send bearer tokens over http
(``BearerTokenCredentialPolicy`` raises ServiceRequestError; Azurite refuses Bearer over http),
so the tests exercise exactly the production pipeline with ``connection_verify=<CA bundle>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pullpath.adapters.azure.retry import ClientSettings, Endpoints, RetrySettings
from tests.support import ROOT

LIVE_DATA = ROOT / "tests" / "data" / "live"
NODE_DIR = ROOT / "tests" / "node"

# ----------------------------------------------------------------------------- TLS


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (its own CA). Returns (cert, key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pullpath-test-loopback")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "loopback-cert.pem", folder / "loopback-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# ----------------------------------------------------------------------------- credential


def fake_jwt(lifetime: int = 3600, *, audience: str = "https://storage.azure.com",
             marker: str = "pullpath-test", serial: int = 0) -> str:
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "aud": audience,
        "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + lifetime,
        "oid": "00000000-0000-0000-0000-000000000002",
        "tid": "00000000-0000-0000-0000-000000000001",
        "note": marker,
        "jti": f"{marker}-{serial}",
    }

    def b64(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(claims)}.c2lnbmF0dXJl"


class FakeCredential:
    """A ``TokenCredential``: each call mints a new fake token, valid ``lifetime`` seconds."""

    def __init__(self, lifetime: int = 3600, marker: str = "pullpath-test") -> None:
        self.lifetime = lifetime
        self.marker = marker
        self.calls: list[tuple[str, ...]] = []
        self.tokens: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.calls.append(scopes)
        audience = "https://storage.azure.com" if any("storage" in s for s in scopes) else (
            scopes[0].removesuffix("/.default") if scopes else "https://management.azure.com"
        )
        token = fake_jwt(self.lifetime, audience=audience, marker=self.marker,
                         serial=len(self.tokens))
        self.tokens.append(token)
        return AccessToken(token, int(time.time()) + self.lifetime)

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- server


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (read-timeout tests)."""

    def encoded(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[Request], Reply]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler | None
    script: list[Reply]
    hits: int = 0


class LoopbackServer:
    """HTTPS on 127.0.0.1:<free port>, routes registered by the test."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()}, body,
                )
                reply = outer._dispatch(req)
                if reply.delay:
                    time.sleep(reply.delay)
                data, ctype = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        if k.lower() != "content-type":
                            self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, method: str, pattern: str, handler: Handler | Reply | Sequence[Reply]) -> Route:
        """Answer ``method`` on paths matching ``pattern`` (regex, full match) with a handler,
        a fixed reply, or a script of replies (the last one repeats)."""
        if isinstance(handler, Reply):
            r = Route(method.upper(), re.compile(pattern), None, [handler])
        elif callable(handler):
            r = Route(method.upper(), re.compile(pattern), handler, [])
        else:
            r = Route(method.upper(), re.compile(pattern), None, list(handler))
        self.routes.insert(0, r)
        return r

    def _dispatch(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            for r in self.routes:
                if r.method == req.method and r.pattern.fullmatch(req.path):
                    r.hits += 1
                    if r.handler is not None:
                        break
                    reply = r.script[min(r.hits, len(r.script)) - 1]
                    return reply
            else:
                return Reply(404, {"error": {"code": "NoRoute", "message": req.path}})
        return r.handler(req)  # type: ignore[misc]

    def requests_to(self, pattern: str) -> list[Request]:
        rx = re.compile(pattern)
        return [r for r in self.requests if rx.fullmatch(r.path)]


def loopback_settings(
    server_url: str, ca: Path, *, read_timeout: float = 10.0, retries: int = 3,
) -> ClientSettings:
    """Production settings with tiny back-offs and the loopback endpoints."""
    return ClientSettings(
        retry=RetrySettings(
            total=retries, connect=retries, read=retries, status=retries,
            backoff_factor=0.01, backoff_max=0.05, storage_increment_base=0.01,
            connection_timeout=5.0, read_timeout=read_timeout, query_server_timeout=30,
            query_read_timeout=read_timeout,
        ),
        endpoints=Endpoints(arm=server_url, logs=server_url),
        connection_verify=str(ca),
    )




@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def loopback(tls_cert: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(*tls_cert).start()
    try:
        yield server
    finally:
        server.stop()


def load_example(name: str) -> Any:
    return json.loads((LIVE_DATA / name).read_text(encoding="utf-8"))


def example_body(name: str, code: str = "200") -> Any:
    return load_example(name)["responses"][code]["body"]


# ----------------------------------------------------------------------------- Azurite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


AZURITE_ACCOUNT = "devstoreaccount1"
# the emulator's fixed, published development key (not a secret: Azurite documentation)
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass
class Azurite:
    blob_url: str
    """``https://127.0.0.1:<port>/devstoreaccount1`` (path-style account URL)."""
    ca: Path


def _azurite_binary() -> Path | None:
    candidate = NODE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if candidate.exists() and shutil.which("node"):
        return candidate
    return None


@pytest.fixture(scope="session")
def azurite(tls_cert: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Azurite]:
    binary = _azurite_binary()
    if binary is None:
        reason = ("Azurite is not installed: run `npm install --prefix tests/node` "
                  "(scripts/test does it)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    cert, key = tls_cert
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")  # the working directory: nothing persisted
    log = (workdir / "azurite.log").open("wb")
    proc = subprocess.Popen(
        [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent",
         "--oauth", "basic", "--cert", str(cert), "--key", str(key), "--disableTelemetry"],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                out = (workdir / "azurite.log").read_text(errors="replace")
                pytest.fail(f"Azurite exited with {proc.returncode}: {out[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Azurite did not start listening within 30 s")
                time.sleep(0.1)
        yield Azurite(f"https://127.0.0.1:{port}/{AZURITE_ACCOUNT}", cert)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
