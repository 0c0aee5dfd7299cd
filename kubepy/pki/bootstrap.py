"""First-start PKI: create the cluster's CA, API server, admin and service-account keys once.

Job: `ensure_pki(data_dir, ...)` makes `DATA_DIR/pki/` hold a complete, consistent set of
credentials and returns their paths. On the first start it generates everything; on
later starts it reuses what is there and only re-issues a leaf certificate when it is
missing, unreadable, not signed by the current CA, about to expire, or (for the serving
certificate) missing a requested SAN. The CA and the service-account key are never
replaced while present, because every kubeconfig and every issued token depends on them.

Design: idempotent and cheap, because `kubepy server` calls it on every start and the
API server aims to be ready in under a second: ECDSA P-256 for certificates (<1 ms per
key), RSA-2048 only for the service-account signing key (RS256 is what upstream issues
and what token verifiers expect), each written atomically (see certs.write_pem).
A static token file is not created here; it is only read when `--token-auth-file` is
given.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from kubepy.pki import certs

__all__ = ["PKIPaths", "ensure_pki", "ensure_client_cert", "RENEW_BEFORE"]

# Re-issue leaf certificates that expire within this window.
RENEW_BEFORE = datetime.timedelta(days=30)

ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"


@dataclass(frozen=True, slots=True, kw_only=True)
class PKIPaths:
    """Where the cluster's credentials live (all under `dir`)."""

    dir: Path
    ca_cert: Path
    ca_key: Path
    apiserver_cert: Path
    apiserver_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_pub: Path

    @classmethod
    def under(cls, data_dir: Path) -> PKIPaths:
        d = Path(data_dir) / "pki"
        return cls(
            dir=d,
            ca_cert=d / "ca.crt",
            ca_key=d / "ca.key",
            apiserver_cert=d / "apiserver.crt",
            apiserver_key=d / "apiserver.key",
            admin_cert=d / "admin.crt",
            admin_key=d / "admin.key",
            service_account_key=d / "service-account.key",
            service_account_pub=d / "service-account.pub",
        )

    def ca(self) -> certs.CertKey:
        """The CA certificate and key (read from disk)."""
        return certs.CertKey(cert=certs.read_cert(self.ca_cert), key=certs.read_key(self.ca_key))


def ensure_pki(
    data_dir: Path,
    *,
    hostnames: Sequence[str] = (),
    ips: Sequence[str] = (),
    service_ip: str = certs.DEFAULT_SERVICE_IP,
    now: datetime.datetime | None = None,
) -> PKIPaths:
    """Create (first start) or reuse (later starts) the cluster PKI under `data_dir/pki`.

    Idempotent; safe to call on every start. `hostnames`/`ips` are extra SANs for the
    API server's serving certificate (the defaults of certs.apiserver_sans always apply).
    """
    paths = PKIPaths.under(data_dir)
    paths.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(paths.dir):
        _ensure_all(paths, hostnames=hostnames, ips=ips, service_ip=service_ip,
                    now=now or datetime.datetime.now(datetime.timezone.utc))
    return paths


def _ensure_all(
    paths: PKIPaths,
    *,
    hostnames: Sequence[str],
    ips: Sequence[str],
    service_ip: str,
    now: datetime.datetime,
) -> None:
    at = now
    ca, ca_fresh = _ensure_ca(paths, now=at)

    dns, addrs = certs.apiserver_sans(service_ip=service_ip, hostnames=hostnames, ips=ips)
    current = None if ca_fresh else _load_leaf(paths.apiserver_cert, paths.apiserver_key, ca, at)
    if current is None or not _covers(current, dns, addrs):
        serving = certs.issue_serving_cert(ca, dns_names=dns, ip_addresses=addrs, now=at)
        _write_pair(serving, paths.apiserver_cert, paths.apiserver_key)

    _ensure_client(ca, paths.admin_cert, paths.admin_key, ADMIN_USER, (ADMIN_GROUP,), at,
                   force=ca_fresh)

    if not (paths.service_account_key.exists() and paths.service_account_pub.exists()):
        if paths.service_account_key.exists():
            sa_key = certs.read_key(paths.service_account_key)
        else:
            sa_key = certs.generate_rsa_key(2048)
            certs.write_pem(paths.service_account_key, certs.key_to_pem(sa_key), private=True)
        certs.write_pem(
            paths.service_account_pub, certs.public_key_to_pem(sa_key.public_key()), private=False
        )


def ensure_client_cert(
    paths: PKIPaths,
    name: str,
    *,
    user: str,
    groups: Sequence[str] = (),
    now: datetime.datetime | None = None,
) -> tuple[Path, Path]:
    """Idempotently create `pki/<name>.crt` + `.key`: a client cert for `user` in `groups`.

    For the other components' kubeconfigs (system:kube-controller-manager,
    system:kube-scheduler, system:node:<node> in system:nodes, ...). Re-issued when the
    subject differs, the CA changed, or expiry is near.
    """
    cert_path, key_path = paths.dir / f"{name}.crt", paths.dir / f"{name}.key"
    at = now or datetime.datetime.now(datetime.timezone.utc)
    with _locked(paths.dir):
        _ensure_client(paths.ca(), cert_path, key_path, user, tuple(groups), at, force=False)
    return cert_path, key_path


# --------------------------------------------------------------------------- internals


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive advisory lock on `directory/.lock`: two processes starting at once
    must not each mint a CA and leave a mix of both behind."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _ensure_ca(paths: PKIPaths, *, now: datetime.datetime) -> tuple[certs.CertKey, bool]:
    if paths.ca_cert.exists() and paths.ca_key.exists():
        ca = paths.ca()
        if ca.cert.public_key() != ca.key.public_key():
            raise ValueError(f"{paths.ca_key} does not match {paths.ca_cert}")
        return ca, False
    if paths.ca_cert.exists() or paths.ca_key.exists():
        # Half a CA cannot sign anything; refuse rather than silently replace it.
        missing = paths.ca_key if paths.ca_cert.exists() else paths.ca_cert
        raise FileNotFoundError(f"incomplete cluster CA: {missing} is missing")
    ca = certs.generate_ca(now=now)
    _write_pair(ca, paths.ca_cert, paths.ca_key)
    return ca, True


def _write_pair(pair: certs.CertKey, cert_path: Path, key_path: Path) -> None:
    # Key first: a cert on disk always has its key beside it.
    certs.write_pem(key_path, pair.key_pem(), private=True)
    certs.write_pem(cert_path, pair.cert_pem(), private=False)


def _load_leaf(
    cert_path: Path, key_path: Path, ca: certs.CertKey, now: datetime.datetime
) -> x509.Certificate | None:
    """The existing leaf certificate if it is still good to use, else None."""
    try:
        cert = certs.read_cert(cert_path)
        key = certs.read_key(key_path)
    except (OSError, ValueError):
        return None
    if cert.public_key() != key.public_key():
        return None
    if cert.issuer != ca.cert.subject:
        return None
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (InvalidSignature, ValueError, TypeError):
        return None
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return cert


def _covers(cert: x509.Certificate, dns: Sequence[str], addrs: Sequence[certs.IPAddress]) -> bool:
    have_dns, have_ips = certs.cert_sans(cert)
    return set(dns) <= set(have_dns) and set(addrs) <= set(have_ips)


def _ensure_client(
    ca: certs.CertKey,
    cert_path: Path,
    key_path: Path,
    user: str,
    groups: tuple[str, ...],
    now: datetime.datetime,
    *,
    force: bool,
) -> None:
    current = None if force else _load_leaf(cert_path, key_path, ca, now)
    if current is not None and certs.subject_user(current) == (user, groups):
        return
    pair = certs.issue_client_cert(ca, user=user, groups=groups, now=now)
    _write_pair(pair, cert_path, key_path)
