"""Certificates: a cluster CA, serving certificates and client certificates, plus PEM I/O.

Job: mint the X.509 material a cluster needs (a self-signed CA, serving certificates
with the SANs clients dial, client certificates whose subject CN/O carry a user and
groups) and read/write it as PEM files with safe permissions.

Design: ECDSA P-256 everywhere for certificates, because key generation takes well under
a millisecond (RSA-2048 takes tens of ms) and every client we target (Go's crypto/tls in
kubectl, OpenSSL in Python) speaks it. Keys are written as PKCS#8 PEM, which Go, OpenSSL
and `cryptography` all read. Writes are atomic (temporary file + rename) so that a crash
or a concurrent reader never sees half a key; private keys are created 0600 from the
start rather than chmod-ed afterwards. Leaf certificates are back-dated a few minutes so
that small clock differences between machines do not make a fresh cert "not yet valid".
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertKey",
    "PrivateKey",
    "PublicKey",
    "IPAddress",
    "DEFAULT_SERVICE_IP",
    "CA_VALID_DAYS",
    "LEAF_VALID_DAYS",
    "generate_key",
    "generate_rsa_key",
    "generate_ca",
    "issue_serving_cert",
    "issue_client_cert",
    "apiserver_sans",
    "cert_sans",
    "cert_to_pem",
    "key_to_pem",
    "public_key_to_pem",
    "load_cert_pem",
    "load_certs_pem",
    "load_key_pem",
    "load_public_key_pem",
    "read_cert",
    "read_key",
    "write_pem",
    "subject_user",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_SERVICE_IP = "10.96.0.1"
CA_VALID_DAYS = 3650
LEAF_VALID_DAYS = 365
_BACKDATE = datetime.timedelta(minutes=5)

# The names every in-cluster and local client uses to reach the API server.
_APISERVER_DNS = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)
_APISERVER_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class CertKey:
    """A certificate together with its private key."""

    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return cert_to_pem(self.cert)

    def key_pem(self) -> bytes:
        return key_to_pem(self.key)


# --------------------------------------------------------------------------- keys


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key (sub-millisecond)."""
    return ec.generate_private_key(ec.SECP256R1())


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A fresh RSA key (tens of milliseconds for 2048 bits)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


# --------------------------------------------------------------------------- certificates


def _utcnow(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.timezone.utc)
    return now


def _ski(key: PublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key)


def generate_ca(
    common_name: str = "kubepy-ca",
    *,
    valid_days: int = CA_VALID_DAYS,
    key: PrivateKey | None = None,
    now: datetime.datetime | None = None,
) -> CertKey:
    """A self-signed CA certificate (CN=`common_name`) and its key."""
    key = key or generate_key()
    start = _utcnow(now)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - _BACKDATE)
        .not_valid_after(start + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(_ski(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert=cert, key=key)


def _leaf_builder(
    ca: CertKey,
    subject: x509.Name,
    public: PublicKey,
    *,
    valid_days: int,
    now: datetime.datetime | None,
) -> x509.CertificateBuilder:
    start = _utcnow(now)
    end = min(start + datetime.timedelta(days=valid_days), ca.cert.not_valid_after_utc)
    rsa_key = isinstance(public, rsa.RSAPublicKey)
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - _BACKDATE)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=rsa_key,  # RSA key exchange only; ECDSA signs
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
    )


def _name_attribute(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    """A subject attribute without RFC 5280's 64-character upper bound.

    Kubernetes user and group names (system:node:<253-char node name>) may be longer
    than that bound; Go and OpenSSL accept such certificates, `cryptography` only warns.
    """
    if 0 < len(value.encode()) <= 64:
        return x509.NameAttribute(oid, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return x509.NameAttribute(oid, value, _validate=False)


def apiserver_sans(
    *,
    service_ip: str = DEFAULT_SERVICE_IP,
    hostnames: Iterable[str] = (),
    ips: Iterable[str] = (),
    include_hostname: bool = True,
) -> tuple[list[str], list[IPAddress]]:
    """DNS names and IPs the API server's serving certificate must cover.

    Always: kubernetes, kubernetes.default, kubernetes.default.svc,
    kubernetes.default.svc.cluster.local, localhost, this machine's hostname,
    127.0.0.1, ::1 and the first service IP; then the extra names/IPs given.
    Order is kept, duplicates dropped.
    """
    dns: list[str] = list(_APISERVER_DNS)
    if include_hostname:
        host = socket.gethostname()
        if host:
            dns.append(host.lower())
    dns.extend(h.lower() for h in hostnames)
    addrs: list[IPAddress] = [ipaddress.ip_address(a) for a in (*_APISERVER_IPS, service_ip)]
    addrs.extend(ipaddress.ip_address(a) for a in ips)
    return list(dict.fromkeys(dns)), list(dict.fromkeys(addrs))


def issue_serving_cert(
    ca: CertKey,
    *,
    common_name: str = "kube-apiserver",
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[IPAddress | str] = (),
    client_auth: bool = False,
    valid_days: int = LEAF_VALID_DAYS,
    key: PrivateKey | None = None,
    now: datetime.datetime | None = None,
) -> CertKey:
    """A TLS serving certificate signed by `ca` with the given SANs.

    ExtendedKeyUsage is serverAuth (plus clientAuth when `client_auth`, for components
    such as the kubelet that both serve and dial).
    """
    key = key or generate_key()
    public = key.public_key()
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans.extend(x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH]
    if client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = _leaf_builder(ca, subject, public, valid_days=valid_days, now=now)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return CertKey(cert=cert, key=key)


def issue_client_cert(
    ca: CertKey,
    *,
    user: str,
    groups: Sequence[str] = (),
    valid_days: int = LEAF_VALID_DAYS,
    key: PrivateKey | None = None,
    now: datetime.datetime | None = None,
) -> CertKey:
    """A TLS client certificate: subject O=<group>... (one RDN each), CN=<user>; clientAuth."""
    key = key or generate_key()
    public = key.public_key()
    if not user:
        raise ValueError("a client certificate needs a user (subject CN)")
    attrs = [_name_attribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(_name_attribute(NameOID.COMMON_NAME, user))
    subject = x509.Name(attrs)
    builder = _leaf_builder(ca, subject, public, valid_days=valid_days, now=now)
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
    )
    cert = builder.sign(ca.key, hashes.SHA256())
    return CertKey(cert=cert, key=key)


def cert_sans(cert: x509.Certificate) -> tuple[list[str], list[IPAddress]]:
    """The DNS names and IP addresses of a certificate's SubjectAlternativeName."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    addrs = [
        a
        for a in ext.get_values_for_type(x509.IPAddress)
        if isinstance(a, (ipaddress.IPv4Address, ipaddress.IPv6Address))
    ]
    return ext.get_values_for_type(x509.DNSName), addrs


def subject_user(cert: x509.Certificate) -> tuple[str, tuple[str, ...]]:
    """(CN, O values) of a certificate subject: Kubernetes' user and groups.

    CN is "" when absent. Over-long attributes (see _name_attribute) are accepted.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        subject = cert.subject
    cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = cns[0].value if cns else ""
    groups = tuple(
        str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    )
    return (cn if isinstance(cn, str) else cn.decode()), groups


# --------------------------------------------------------------------------- PEM


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_to_pem(key: PrivateKey) -> bytes:
    """PKCS#8, unencrypted (readable by Go, OpenSSL and cryptography)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_to_pem(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM ("PUBLIC KEY")."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_cert_pem(data: bytes) -> x509.Certificate:
    """The first certificate of a PEM blob."""
    return x509.load_pem_x509_certificate(data)


def load_certs_pem(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle."""
    return x509.load_pem_x509_certificates(data)


def load_key_pem(data: bytes) -> PrivateKey:
    """An RSA or EC private key from PEM (PKCS#8, PKCS#1 or SEC1)."""
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key_pem(data: bytes) -> PublicKey:
    """An RSA or EC public key from PEM; a private key or a certificate also works."""
    if b"PRIVATE KEY" in data:
        return load_key_pem(data).public_key()
    public: object
    if b"CERTIFICATE" in data:
        public = load_cert_pem(data).public_key()
    else:
        public = serialization.load_pem_public_key(data)
    if not isinstance(public, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise ValueError(f"unsupported public key type {type(public).__name__}")
    return public


def read_cert(path: str | os.PathLike[str]) -> x509.Certificate:
    return load_cert_pem(Path(path).read_bytes())


def read_key(path: str | os.PathLike[str]) -> PrivateKey:
    return load_key_pem(Path(path).read_bytes())


def write_pem(path: str | os.PathLike[str], data: bytes, *, private: bool) -> None:
    """Atomically write `data` to `path`: mode 0600 when `private`, else 0644.

    The temporary file is created with the final mode, in the same directory, then
    renamed over `path`; readers see either the old or the new content, never a mix.
    """
    target = Path(path)
    mode = 0o600 if private else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
