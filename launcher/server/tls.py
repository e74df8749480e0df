"""HTTPS for team servers: a self-signed certificate made with ``cryptography``, the certificate
a server shows, and the SSL context the launcher's own calls use (the pinned certificate only).

The server side: :func:`self_signed` makes (once) a key and a certificate valid for the names
colleagues type (this PC's name, ``localhost``, loopback and any address given), kept private
beside the server's config, so its fingerprint stays the same across restarts.

The client side: :func:`context_for` trusts, for an https URL, the certificate pinned for its
``host:port`` (:mod:`launcher.model.tls_pin`) and nothing else; before the first use, the system's
CAs (a company certificate). :func:`pin_on_first_use` keeps a self-signed one the first time.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from launcher.model import atomic, tls_pin
from launcher.model.paths import AppPaths, app_paths

VALID_DAYS = 3650
"""Ten years: a pinned certificate that expires is a certificate that changes."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def pem(self) -> str:
        return self.cert.read_text(encoding="ascii")

    def fingerprint(self) -> str:
        return tls_pin.fingerprint(self.pem())


def default_names(host: str) -> list[str]:
    """The names a self-signed certificate is valid for: what colleagues and scripts type."""
    names = [socket.gethostname(), "localhost", "127.0.0.1", "::1"]
    if host and host not in ("0.0.0.0", "::"):
        names.append(host)
    return list(dict.fromkeys(n for n in names if n))


def self_signed(folder: Path, names: list[str]) -> TlsFiles:
    """This server's certificate and key in ``folder``: kept when there, else made now."""
    files = TlsFiles(folder / "server-cert.pem", folder / "server-key.pem")
    if files.cert.is_file() and files.key.is_file():
        return files
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, (names[0] if names else "mlflow")[:64]),
         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MLflow team server (self-signed)")]
    )  # fmt: skip
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    atomic.write_text(files.key, key_pem, private=True)
    atomic.write_text(files.cert, cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return files


def shown_certificate(host: str, port: int, timeout: float = 10.0) -> str:
    """The PEM of the certificate the server at ``host:port`` shows (not checked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=host) as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{host}:{port} showed no certificate")
    return ssl.DER_cert_to_PEM_cert(der)


def context_for(url: str, paths: AppPaths | None = None) -> ssl.SSLContext | None:
    """The context an https call to ``url`` uses; None for a plain http URL.

    A pinned certificate is the only one trusted for its ``host:port``; the host name is not
    checked against it (the pin is the exact certificate, a stronger check than a name, and a
    colleague may reach the server by an address the certificate does not list).
    """
    where = tls_pin.origin(url)
    if where is None:
        return None
    pin = tls_pin.pin_path(paths or app_paths(), *where)
    if not pin.is_file():
        return ssl.create_default_context()
    context = ssl.create_default_context(cafile=str(pin))
    context.check_hostname = False
    return context


def pin_on_first_use(url: str, paths: AppPaths | None = None) -> tuple[Path, str] | None:
    """Pin the certificate ``url``'s server shows, unless one is pinned: (the pin, fingerprint).

    None for a plain http URL. Raises :class:`~launcher.model.tls_pin.CertificateChanged` when
    the server shows another certificate than the pinned one, OSError when it does not answer.
    """
    where = tls_pin.origin(url)
    if where is None:
        return None
    paths = paths or app_paths()
    shown = shown_certificate(*where)
    tls_pin.check(paths, *where, shown)
    path = tls_pin.pin_path(paths, *where)
    if not path.is_file():
        tls_pin.pin(paths, *where, shown)
    return path, tls_pin.fingerprint(shown)


def trust_own(paths: AppPaths, files: TlsFiles, hosts: list[str], port: int) -> None:
    """The server's own PC pins its certificate for the names it answers on (its readiness
    checks and the admin's launcher), replacing an older pin: this PC made it."""
    pem = files.pem()
    for host in hosts:
        tls_pin.pin(paths, host.strip("[]").lower(), port, pem)


def has_pin(url: str, paths: AppPaths | None = None) -> bool:
    where = tls_pin.origin(url)
    return where is not None and tls_pin.pin_path(paths or app_paths(), *where).is_file()
