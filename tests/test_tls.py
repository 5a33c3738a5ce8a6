"""HTTPS for the floor: the station's own CA and certificate, the flags that choose TLS, and a
station actually serving HTTPS/WSS on loopback with its generated certificate."""

from __future__ import annotations

import argparse
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from app.cli import CommandError, build_parser
from app.commands.ui import _check_tls_options, _tls_for
from app.config import load_settings
from app.tls import TlsError, fingerprint, given_certificate, is_loopback, station_certificate
from app.ui.web import free_port


def names(cert_path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return addresses | set(san.get_values_for_type(x509.DNSName))


def test_first_start_makes_a_ca_and_a_server_certificate_it_signed(tmp_path):
    tls = station_certificate(tmp_path, hosts=["192.168.7.20", "dock3.local"], station_id="dock-3")
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(tls.cert.read_bytes())
    server.verify_directly_issued_by(ca)  # raises when the CA did not sign it
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert {"localhost", "127.0.0.1", "192.168.7.20", "dock3.local"} <= names(tls.cert)
    assert "dock-3" in ca.subject.rfc4514_string()
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", tls.fingerprint)
    # the private keys are for the station's user only
    assert os.stat(tls.key).st_mode & 0o077 == 0
    assert os.stat(tls.ca_cert.with_suffix(".key")).st_mode & 0o077 == 0


def test_a_later_start_keeps_the_certificate_and_a_new_address_keeps_the_ca(tmp_path):
    first = station_certificate(tmp_path, hosts=["192.168.7.20"])
    ca_before = first.ca_cert.read_bytes()
    again = station_certificate(tmp_path, hosts=["192.168.7.20"])
    assert again.fingerprint == first.fingerprint
    moved = station_certificate(tmp_path, hosts=["10.0.0.5"])
    assert moved.fingerprint != first.fingerprint
    assert {"10.0.0.5", "192.168.7.20"} <= names(moved.cert)  # the old address still works
    assert moved.ca_cert.read_bytes() == ca_before  # devices that trust the CA keep trusting it


def test_a_brought_certificate_that_is_missing_or_not_pem_is_named(tmp_path):
    good = station_certificate(tmp_path / "a")
    with pytest.raises(TlsError, match="does not exist"):
        given_certificate(tmp_path / "nope.crt", good.key)
    junk = tmp_path / "junk.crt"
    junk.write_text("hello")
    with pytest.raises(TlsError, match="junk.crt is not a PEM certificate"):
        given_certificate(junk, good.key)
    assert given_certificate(good.cert, good.key).fingerprint == good.fingerprint


def test_loopback_names_are_recognised():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("dock.lan")


def ui_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", "--web", *argv])


def test_a_network_address_gets_https_unless_plain_http_is_asked_for(tmp_path):
    settings = load_settings(data_dir=tmp_path, station_id="dock-1", environ={})
    assert _tls_for(ui_args("--host", "127.0.0.1"), settings, []) is None
    lan = _tls_for(ui_args("--host", "192.168.7.20"), settings, [])
    assert lan is not None and "192.168.7.20" in lan.names
    everywhere = _tls_for(ui_args("--host", "0.0.0.0"), settings, ["10.1.2.3"])
    assert "10.1.2.3" in everywhere.names
    assert _tls_for(ui_args("--host", "0.0.0.0", "--insecure-http"), settings, ["10.1.2.3"]) is None
    assert _tls_for(ui_args("--tls"), settings, []) is not None  # loopback on request


def test_contradictory_tls_flags_are_refused():
    with pytest.raises(CommandError, match="go together"):
        _check_tls_options(ui_args("--tls-cert", "a.crt"))
    with pytest.raises(CommandError, match="plain HTTP"):
        _check_tls_options(ui_args("--tls", "--insecure-http"))


@pytest.mark.slow
def test_station_serves_https_with_its_own_certificate_and_prints_the_fingerprint(tmp_path):
    port = free_port()
    env = {**os.environ, "STATION_DATA_DIR": str(tmp_path), "STATION_ERP_URL": "http://a:b@127.0.0.1:9/x"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--web", "--tls", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith(f"Returns Station is at https://127.0.0.1:{port}/"), lines
        printed = re.search(r"fingerprint: (\S+)", lines[1]).group(1)
        assert "/station-ca.crt" in lines[2]
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "station-ca.crt"))
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=context, timeout=5) as r:
                    page = r.read()
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert b"flutter" in page.lower()
        served = x509.load_pem_x509_certificate(ssl.get_server_certificate(("127.0.0.1", port)).encode())
        assert fingerprint(served) == printed
        # a handheld fetches the CA from the station itself
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/station-ca.crt", context=context) as r:
            assert r.read() == (tmp_path / "tls" / "station-ca.crt").read_bytes()
        # plain HTTP on the HTTPS port gets no page
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
