"""HTTPS for the floor: the station's own small certificate authority and server certificate.

Browsers give the camera only to secure pages, so a handheld on the warehouse Wi-Fi needs the
station over HTTPS. Without a certificate of its own (``--tls-cert``/``--tls-key``), the station
makes one on first start in its data directory, under ``tls/``:

* ``station-ca.crt`` / ``station-ca.key``: a CA that exists only on this station (ten years). A
  device that trusts it once (README: "Trust the station on handhelds") trusts every server
  certificate this station makes later.
* ``station.crt`` / ``station.key``: the server certificate, signed by that CA, naming
  ``localhost``, 127.0.0.1, this host's name and the addresses asked for (two years). It is made
  again, by the same CA, when the station is asked to serve a name or address it does not list.

Keys are written readable by the station's user only. Nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 730
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class TlsFiles:
    """The files uvicorn serves with, and what to tell the person who starts the station."""

    cert: Path
    key: Path
    ca_cert: Path | None  # None for a certificate the operator brought (--tls-cert)
    fingerprint: str  # SHA-256 of the server certificate, "AB:CD:…"
    names: tuple[str, ...]  # the DNS names and addresses the certificate is valid for


class TlsError(Exception):
    """A certificate or key that cannot be used; the message says which file and why."""


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as browsers and ``openssl x509 -fingerprint -sha256`` show it."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def lan_addresses() -> list[str]:
    """This host's IPv4 addresses other than loopback, best guess first (the one with a default
    route). Never raises; empty when the host has no network."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, the OS picks the route
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    return [a for i, a in enumerate(found) if a not in found[:i] and not a.startswith("127.")]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: browsers treat them as secure without TLS."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _san_entries(names: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _cert_names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    addresses = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return addresses | set(san.get_values_for_type(x509.DNSName))


def _load_or_make_ca(folder: Path, station_id: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = folder / "station-ca.crt", folder / "station-ca.key"
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except ValueError as exc:
            raise TlsError(
                f"the station's CA in {folder} cannot be read ({exc}): move the tls folder "
                "away to make a new one (devices must then trust the new CA)"
            ) from None
        if cert.not_valid_after_utc > _now() + dt.timedelta(days=RENEW_BEFORE_DAYS):
            return cert, key  # type: ignore[return-value]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Returns Station"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Returns Station CA ({station_id})"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def station_certificate(
    data_dir: Path, *, hosts: Iterable[str] = (), station_id: str = "station"
) -> TlsFiles:
    """The station's generated certificate in ``data_dir/tls``, made (or made again for new
    ``hosts``, or when it expires within a month) as needed. Raises TlsError when the files there
    cannot be read or written."""
    folder = Path(data_dir) / "tls"
    wanted = {"localhost", "127.0.0.1", socket.gethostname().lower()}
    wanted |= {h.lower() for h in hosts if h and h not in ("0.0.0.0", "::")}
    cert_path, key_path = folder / "station.crt", folder / "station.key"
    try:
        ca_cert, ca_key = _load_or_make_ca(folder, station_id)
        if cert_path.exists() and key_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            if (
                cert.issuer == ca_cert.subject
                and wanted <= _cert_names(cert)
                and cert.not_valid_after_utc > _now() + dt.timedelta(days=RENEW_BEFORE_DAYS)
            ):
                return TlsFiles(
                    cert_path,
                    key_path,
                    folder / "station-ca.crt",
                    fingerprint(cert),
                    tuple(sorted(_cert_names(cert))),
                )
            wanted |= _cert_names(cert)  # keep what it already served
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        names = sorted(wanted)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Returns Station {station_id}")])
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(_san_entries(names)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise TlsError(f"cannot write the station's certificate in {folder}: {exc.strerror or exc}") from None
    return TlsFiles(cert_path, key_path, folder / "station-ca.crt", fingerprint(cert), tuple(names))


def given_certificate(cert: Path, key: Path) -> TlsFiles:
    """A certificate and key the operator brought (``--tls-cert``/``--tls-key``), checked before
    the server starts. Raises TlsError naming the file that is missing or not PEM."""
    for path, what in ((cert, "certificate"), (key, "key")):
        if not Path(path).is_file():
            raise TlsError(f"the TLS {what} {path} does not exist")
    try:
        loaded = x509.load_pem_x509_certificate(Path(cert).read_bytes())
    except ValueError:
        raise TlsError(f"the TLS certificate {cert} is not a PEM certificate") from None
    try:
        serialization.load_pem_private_key(Path(key).read_bytes(), password=None)
    except (ValueError, TypeError):
        raise TlsError(f"the TLS key {key} is not an unencrypted PEM private key") from None
    return TlsFiles(Path(cert), Path(key), None, fingerprint(loaded), tuple(sorted(_cert_names(loaded))))
