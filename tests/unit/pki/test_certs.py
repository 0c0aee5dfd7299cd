"""Certificates, the first-start PKI, and real TLS handshakes with our contexts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubepy.apiserver.authn.x509 import peer_certificate
from kubepy.pki import bootstrap, certs
from kubepy.pki.tls import client_ssl_context, server_ssl_context


@pytest.fixture(scope="module")
def ca() -> certs.CertKey:
    return certs.generate_ca()


@pytest.fixture(scope="module")
def serving(ca: certs.CertKey) -> certs.CertKey:
    dns, ips = certs.apiserver_sans(hostnames=["api.example.test"], ips=["192.0.2.7"])
    return certs.issue_serving_cert(ca, dns_names=dns, ip_addresses=ips)


# --------------------------------------------------------------------------- certificates


def test_ca_is_a_self_signed_ten_year_ca_named_kubepy_ca(ca: certs.CertKey) -> None:
    cert = ca.cert
    assert cert.subject.rfc4514_string() == "CN=kubepy-ca"
    assert cert.issuer == cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    cert.verify_directly_issued_by(cert)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(days=3649) < lifetime < datetime.timedelta(days=3651)


def test_serving_cert_carries_every_name_clients_dial(ca: certs.CertKey, serving: certs.CertKey) -> None:
    serving.cert.verify_directly_issued_by(ca.cert)
    dns, ips = certs.cert_sans(serving.cert)
    assert set(dns) >= {
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
        socket.gethostname().lower(),
        "api.example.test",
    }
    assert set(ips) >= {ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "10.96.0.1", "192.0.2.7")}
    eku = serving.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_service_ip_argument_replaces_the_default_one() -> None:
    _, ips = certs.apiserver_sans(service_ip="10.43.0.1")
    assert ipaddress.ip_address("10.43.0.1") in ips
    assert ipaddress.ip_address("10.96.0.1") not in ips


def test_client_cert_has_cn_user_and_one_o_per_group(ca: certs.CertKey) -> None:
    pair = certs.issue_client_cert(ca, user="alice", groups=["devs", "system:masters"])
    subject = pair.cert.subject
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["alice"]
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "devs",
        "system:masters",
    ]
    assert certs.subject_user(pair.cert) == ("alice", ("devs", "system:masters"))
    eku = pair.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    pair.cert.verify_directly_issued_by(ca.cert)


def test_pem_round_trip_and_file_modes(tmp_path: Path, ca: certs.CertKey) -> None:
    certs.write_pem(tmp_path / "ca.crt", ca.cert_pem(), private=False)
    certs.write_pem(tmp_path / "ca.key", ca.key_pem(), private=True)
    assert (tmp_path / "ca.crt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    assert certs.read_cert(tmp_path / "ca.crt") == ca.cert
    assert certs.read_key(tmp_path / "ca.key").public_key() == ca.key.public_key()
    assert certs.load_public_key_pem(ca.cert_pem()) == ca.key.public_key()
    assert list(tmp_path.iterdir()).__len__() == 2, "no temporary files left behind"


# --------------------------------------------------------------------------- bootstrap


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_ensure_pki_creates_everything_fast_with_private_keys_0600(tmp_path: Path) -> None:
    started = time.perf_counter()
    paths = bootstrap.ensure_pki(tmp_path)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"first-start PKI took {elapsed:.3f}s"
    names = {p.name for p in paths.dir.iterdir() if not p.name.startswith(".")}
    assert names == {
        "ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key",
        "service-account.key", "service-account.pub",
    }
    for key in (paths.ca_key, paths.apiserver_key, paths.admin_key, paths.service_account_key):
        assert key.stat().st_mode & 0o777 == 0o600, key
    assert paths.dir.stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "tokens.csv").exists()
    admin = certs.read_cert(paths.admin_cert)
    assert certs.subject_user(admin) == ("kubernetes-admin", ("system:masters",))
    sa_key = certs.read_key(paths.service_account_key)
    assert isinstance(sa_key, rsa.RSAPrivateKey) and sa_key.key_size == 2048
    assert certs.load_public_key_pem(paths.service_account_pub.read_bytes()) == sa_key.public_key()


def test_ensure_pki_is_idempotent(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path, hostnames=["node-a"], ips=["192.0.2.1"])
    before = _snapshot(paths.dir)
    again = bootstrap.ensure_pki(tmp_path, hostnames=["node-a"], ips=["192.0.2.1"])
    assert again == paths
    assert _snapshot(paths.dir) == before


def test_concurrent_first_starts_agree_on_one_ca(tmp_path: Path) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: bootstrap.ensure_pki(tmp_path), range(4)))
    paths = results[0]
    ca = certs.read_cert(paths.ca_cert)
    for leaf in (paths.apiserver_cert, paths.admin_cert):
        certs.read_cert(leaf).verify_directly_issued_by(ca)
    assert certs.read_key(paths.ca_key).public_key() == ca.public_key()


def test_new_san_reissues_only_the_serving_cert(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path)
    before = _snapshot(paths.dir)
    bootstrap.ensure_pki(tmp_path, ips=["198.51.100.9"])
    after = _snapshot(paths.dir)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"apiserver.crt", "apiserver.key"}
    _, ips = certs.cert_sans(certs.read_cert(paths.apiserver_cert))
    assert ipaddress.ip_address("198.51.100.9") in ips
    certs.read_cert(paths.apiserver_cert).verify_directly_issued_by(certs.read_cert(paths.ca_cert))


def test_leaf_certs_close_to_expiry_are_renewed_but_the_ca_is_kept(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path)
    before = _snapshot(paths.dir)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=350)
    bootstrap.ensure_pki(tmp_path, now=later)
    after = _snapshot(paths.dir)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"apiserver.crt", "apiserver.key", "admin.crt", "admin.key"}
    assert certs.read_cert(paths.admin_cert).not_valid_after_utc > later + datetime.timedelta(days=300)


def test_a_leaf_signed_by_another_ca_is_replaced(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path)
    stranger = certs.issue_client_cert(certs.generate_ca("other"), user="kubernetes-admin",
                                       groups=["system:masters"])
    certs.write_pem(paths.admin_key, stranger.key_pem(), private=True)
    certs.write_pem(paths.admin_cert, stranger.cert_pem(), private=False)
    bootstrap.ensure_pki(tmp_path)
    certs.read_cert(paths.admin_cert).verify_directly_issued_by(certs.read_cert(paths.ca_cert))


def test_half_a_ca_is_refused_rather_than_replaced(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path)
    paths.ca_key.unlink()
    with pytest.raises(FileNotFoundError, match="ca.key"):
        bootstrap.ensure_pki(tmp_path)


def test_ensure_client_cert_for_a_component(tmp_path: Path) -> None:
    paths = bootstrap.ensure_pki(tmp_path)
    crt, key = bootstrap.ensure_client_cert(paths, "kube-scheduler", user="system:kube-scheduler")
    first = crt.read_bytes()
    assert certs.subject_user(certs.read_cert(crt)) == ("system:kube-scheduler", ())
    assert key.stat().st_mode & 0o777 == 0o600
    bootstrap.ensure_client_cert(paths, "kube-scheduler", user="system:kube-scheduler")
    assert crt.read_bytes() == first
    bootstrap.ensure_client_cert(paths, "kube-scheduler", user="system:kube-scheduler",
                                 groups=["extra"])
    assert certs.subject_user(certs.read_cert(crt)) == ("system:kube-scheduler", ("extra",))


# --------------------------------------------------------------------------- TLS


class _Seen:
    def __init__(self) -> None:
        self.peers: list[tuple[str, tuple[str, ...]] | None] = []


@pytest.fixture
async def tls_server(
    ca: certs.CertKey, serving: certs.CertKey
) -> AsyncIterator[tuple[int, _Seen]]:
    seen = _Seen()
    ctx = server_ssl_context(serving.cert_pem(), serving.key_pem(), client_ca=ca.cert_pem())

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cert = peer_certificate(writer.transport)
        assert peer_certificate(writer.transport) is cert, "cached per connection"
        seen.peers.append(None if cert is None else certs.subject_user(cert))
        alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
        writer.write(f"hello {alpn}\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, seen


async def _greet(port: int, ctx: ssl.SSLContext, server_hostname: str) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname=server_hostname
    )
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ssl.SSLError, ConnectionError):
            pass


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1", "kubernetes.default.svc"],
                         ids=["the server name localhost verifies",
                              "the IP 127.0.0.1 verifies",
                              "the in-cluster DNS name verifies"])
async def test_anonymous_client_connects_and_verifies_the_server(
    tls_server: tuple[int, _Seen], ca: certs.CertKey, hostname: str
) -> None:
    port, seen = tls_server
    line = await _greet(port, client_ssl_context(ca.cert_pem()), hostname)
    assert line == b"hello http/1.1\n"
    assert seen.peers == [None]


@pytest.mark.parametrize(
    "user, groups",
    [("alice", ("devs", "system:masters")),
     ("system:node:" + "n" * 100, ("system:nodes",)),
     ("bob", ())],
    ids=["the server sees CN alice and both O groups",
         "a CN longer than 64 characters passes the handshake",
         "a certificate without groups is fine"],
)
async def test_server_sees_the_client_certificate_cn_and_groups(
    tls_server: tuple[int, _Seen], ca: certs.CertKey, user: str, groups: tuple[str, ...]
) -> None:
    port, seen = tls_server
    pair = certs.issue_client_cert(ca, user=user, groups=groups)
    ctx = client_ssl_context(ca.cert_pem(), pair.cert_pem(), pair.key_pem())
    assert await _greet(port, ctx, "localhost") == b"hello http/1.1\n"
    assert seen.peers == [(user, groups)]


async def test_a_name_missing_from_the_sans_fails_verification(
    tls_server: tuple[int, _Seen], ca: certs.CertKey
) -> None:
    port, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        await _greet(port, client_ssl_context(ca.cert_pem()), "not-in-the-cert.example")


async def test_a_server_from_another_ca_is_not_trusted(tls_server: tuple[int, _Seen]) -> None:
    port, _ = tls_server
    other = certs.generate_ca("someone-else")
    with pytest.raises(ssl.SSLCertVerificationError):
        await _greet(port, client_ssl_context(other.cert_pem()), "localhost")


@pytest.mark.parametrize(
    "issuer",
    ["foreign-ca", "cluster-ca-serving-cert"],
    ids=["a client cert from a foreign CA is rejected in the handshake",
         "a serverAuth-only cert is rejected as a client cert"],
)
async def test_unacceptable_client_certs_are_rejected(
    tls_server: tuple[int, _Seen], ca: certs.CertKey, serving: certs.CertKey, issuer: str
) -> None:
    port, seen = tls_server
    if issuer == "foreign-ca":
        pair = certs.issue_client_cert(certs.generate_ca("foreign"), user="mallory")
    else:
        pair = serving
    ctx = client_ssl_context(ca.cert_pem(), pair.cert_pem(), pair.key_pem())
    try:
        line = await _greet(port, ctx, "localhost")
    except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
        line = b""
    assert line == b""
    assert seen.peers == []


def test_client_context_needs_both_cert_and_key(ca: certs.CertKey) -> None:
    with pytest.raises(ValueError):
        client_ssl_context(ca.cert_pem(), cert_pem=ca.cert_pem())


def test_server_context_settings(ca: certs.CertKey, serving: certs.CertKey, tmp_path: Path) -> None:
    certs.write_pem(tmp_path / "s.crt", serving.cert_pem(), private=False)
    certs.write_pem(tmp_path / "s.key", serving.key_pem(), private=True)
    certs.write_pem(tmp_path / "ca.crt", ca.cert_pem(), private=False)
    ctx = server_ssl_context(tmp_path / "s.crt", tmp_path / "s.key", tmp_path / "ca.crt")
    assert ctx.verify_mode == ssl.CERT_OPTIONAL
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    no_client_ca = server_ssl_context(os.fspath(tmp_path / "s.crt"), tmp_path / "s.key")
    assert no_client_ca.verify_mode == ssl.CERT_NONE
