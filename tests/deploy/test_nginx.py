"""deploy/nginx.conf, as shipped, in front of the gateway: TLS and HTTP/2 to the client,
SSE streamed through without buffering, plain HTTP redirected.

The shipped file is rendered for the test by replacing its example values (upstream
address, listen ports, certificate paths) with the test's; each must appear exactly once,
so a change to the shipped file that the test does not understand fails it.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from app import create_app
from tests.deploy.gateway import (
    ADMIN,
    BOOK_TOPIC,
    PUBLIC_URL,
    WAIT,
    CurlSubscriber,
    assert_http2_stream_of,
    assert_http2_stream_opens,
    gateway_env,
)
from tests.deploy.servers import ROOT, gunicorn, nginx, running
from tests.services import LiveServer, free_port

SHIPPED = ROOT / "deploy" / "nginx.conf"

MAIN = """
worker_processes 1;
pid {tmp}/nginx.pid;
user root;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
daemon off;
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render(replacements: dict[str, str]) -> str:
    text = SHIPPED.read_text()
    for example, value in replacements.items():
        assert text.count(example) == 1, f"{SHIPPED.name} should contain {example!r} once"
        text = text.replace(example, value)
    return text


@pytest.fixture
def gateway(tmp_path: Path, database_url: str, serve: object) -> Iterator[LiveServer]:
    """The gateway (in-memory transport) on a loopback port of this process."""
    application: Flask = create_app(environ=gateway_env(database_url, "memory://"))
    try:
        yield serve(application)  # type: ignore[operator]
    finally:
        application.extensions["mercure_hub"].close()


def configure(tmp_path: Path, upstream_port: int) -> tuple[Path, int, int]:
    """The shipped site in front of ``upstream_port``: (main nginx.conf, HTTP, HTTPS ports)."""
    cert, key = self_signed(tmp_path)
    http_port, https_port = free_port(), free_port()
    site = tmp_path / "site.conf"
    site.write_text(
        render(
            {
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
                "listen 80;": f"listen 127.0.0.1:{http_port};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
                "/etc/ssl/certs/example.com.pem": str(cert),
                "/etc/ssl/private/example.com.key": str(key),
            }
        )
    )
    main = tmp_path / "nginx.conf"
    main.write_text(MAIN.format(tmp=tmp_path, site=site))
    return main, http_port, https_port


def test_nginx_streams_events_over_http2_without_buffering(
    tmp_path: Path, gateway: LiveServer
) -> None:
    main, http_port, https_port = configure(tmp_path, gateway.port)
    base = f"https://127.0.0.1:{https_port}"
    with running(nginx(tmp_path, main, https_port)):
        # Plain HTTP is redirected to HTTPS.
        redirect = httpx.get(f"http://127.0.0.1:{http_port}/books", headers={"Host": "example.com"})
        assert redirect.status_code == 301
        assert redirect.headers["Location"] == "https://example.com/books"

        # A subscriber through nginx, over HTTP/2, gets each event while the stream is open.
        curl = CurlSubscriber(
            f"{base}/.well-known/mercure?topic={quote(BOOK_TOPIC, safe='')}",
            "--http2",
            "--insecure",
            "--include",
        )
        assert_http2_stream_of(curl, lambda n: create_via_nginx(base, f"Through nginx {n}"))


def test_nginx_passes_subscribe_urls_with_1000_topics(tmp_path: Path, database_url: str) -> None:
    """A subscribe URL with the hub's 1000 topics (about 40 KB) gets through nginx, over
    HTTP/2 and HTTP/1.1, to gunicorn run with LIMIT_REQUEST_LINE=0 as the README says: the
    stream starts, and the 1001st topic meets the hub's own limit, not nginx's 414."""
    env = {**gateway_env(database_url, "memory://"), "LIMIT_REQUEST_LINE": "0"}
    with running(gunicorn(tmp_path, env, workers=1)) as upstream:
        main, _http_port, https_port = configure(tmp_path, upstream.port)
        hub = f"https://127.0.0.1:{https_port}/.well-known/mercure"
        query = urlencode([("topic", f"{PUBLIC_URL}/books/{n}") for n in range(1000)])
        assert len(query) > 40_000
        with running(nginx(tmp_path, main, https_port)):
            curl = CurlSubscriber(f"{hub}?{query}", "--http2", "--insecure", "--include")
            assert_http2_stream_opens(curl, "nginx")
            with httpx.Client(verify=False, timeout=WAIT) as client:
                refused = client.get(f"{hub}?{query}&topic=one-more")
            assert (refused.status_code, refused.text) == (400, 'Too many "topic" parameters.\n')


def create_via_nginx(base: str, title: str) -> dict[str, object]:
    with httpx.Client(verify=False) as client:
        response = client.post(
            f"{base}/books",
            json={"title": title, "author": "nginx"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    assert response.status_code == 201, response.text
    book: dict[str, object] = response.json()
    return book


def test_render_fails_when_the_shipped_file_changes_shape() -> None:
    with pytest.raises(AssertionError, match="should contain"):
        render({"listen 8443 quic;": "listen 1;"})
