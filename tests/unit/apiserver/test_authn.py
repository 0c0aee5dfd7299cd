"""Authenticators: x509, static token file, service-account JWT, bearer extraction, union."""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from kubepy.apiserver.authn import (
    ALL_AUTHENTICATED,
    CREDENTIAL_ID_KEY,
    AuthenticationError,
    Credentials,
    UserInfo,
)
from kubepy.apiserver.authn.bearer import bearer_token, websocket_bearer_token
from kubepy.apiserver.authn.serviceaccount_token import ServiceAccountAuthenticator
from kubepy.apiserver.authn.token_file import (
    TokenFileAuthenticator,
    TokenFileError,
    parse_token_csv,
)
from kubepy.apiserver.authn.union import UnionAuthenticator
from kubepy.apiserver.authn.x509 import X509Authenticator, peer_certificate
from kubepy.pki import certs
from kubepy.pki.serviceaccount import issue_token, make_username, service_account_claims

ISSUER = "https://kubernetes.default.svc.cluster.local"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def ca() -> certs.CertKey:
    return certs.generate_ca()


@pytest.fixture(scope="module")
def sa_key() -> certs.PrivateKey:
    return certs.generate_rsa_key()


# --------------------------------------------------------------------------- x509


async def test_x509_maps_cn_to_user_and_each_o_to_a_group(ca: certs.CertKey) -> None:
    pair = certs.issue_client_cert(ca, user="alice", groups=["devs", "system:masters"])
    user = await X509Authenticator().authenticate(Credentials(client_cert=pair.cert, bearer_token=None))
    fingerprint = hashlib.sha256(pair.cert.public_bytes(Encoding.DER)).hexdigest()
    assert user == UserInfo(username="alice", groups=("devs", "system:masters"),
                            extra={CREDENTIAL_ID_KEY: [f"X509SHA256={fingerprint}"]})


async def test_x509_without_certificate_is_not_mine() -> None:
    assert await X509Authenticator().authenticate(Credentials(client_cert=None, bearer_token="x")) is None


async def test_x509_certificate_without_cn_is_not_mine(ca: certs.CertKey) -> None:
    key = certs.generate_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "devs")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca.key, hashes.SHA256())
    )
    assert await X509Authenticator().authenticate(Credentials(client_cert=cert)) is None


async def test_x509_names_longer_than_64_characters_work(ca: certs.CertKey) -> None:
    node = "system:node:" + "n" * 100
    pair = certs.issue_client_cert(ca, user=node, groups=["system:nodes"])
    user = await X509Authenticator().authenticate(Credentials(client_cert=pair.cert))
    assert user is not None and (user.username, user.groups) == (node, ("system:nodes",))


async def test_x509_expired_certificate_is_an_error_even_when_cached(ca: certs.CertKey) -> None:
    pair = certs.issue_client_cert(ca, user="alice", valid_days=1)
    clock = Clock(datetime.datetime.now(datetime.timezone.utc).timestamp())
    auth = X509Authenticator(clock=clock)
    assert (await auth.authenticate(Credentials(client_cert=pair.cert))) is not None
    clock.t += 2 * 86400
    with pytest.raises(AuthenticationError, match="expired"):
        await auth.authenticate(Credentials(client_cert=pair.cert))


async def test_x509_serving_only_certificate_is_refused(ca: certs.CertKey) -> None:
    pair = certs.issue_serving_cert(ca, common_name="svc", dns_names=["x"])
    with pytest.raises(AuthenticationError, match="key usage"):
        await X509Authenticator().authenticate(Credentials(client_cert=pair.cert))


class _FakeSSLObject:
    def __init__(self, der: bytes | None) -> None:
        self.der = der
        self.calls = 0

    def getpeercert(self, binary_form: bool = False) -> bytes | None:
        assert binary_form
        self.calls += 1
        return self.der


class _FakeTransport:
    def __init__(self, ssl_object: _FakeSSLObject | None) -> None:
        self.ssl_object = ssl_object

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self.ssl_object if name == "ssl_object" else default


def test_peer_certificate_parses_once_per_connection(ca: certs.CertKey) -> None:
    pair = certs.issue_client_cert(ca, user="bob")
    ssl_object = _FakeSSLObject(pair.cert.public_bytes(Encoding.DER))
    transport = _FakeTransport(ssl_object)
    first = peer_certificate(transport)
    assert first == pair.cert
    assert peer_certificate(transport) is first
    assert ssl_object.calls == 1


@pytest.mark.parametrize(
    "transport",
    [None, _FakeTransport(None), _FakeTransport(_FakeSSLObject(None))],
    ids=["no transport has no certificate", "plain TCP has no certificate",
         "TLS without a client certificate has none"],
)
def test_peer_certificate_absent(transport: _FakeTransport | None) -> None:
    assert peer_certificate(transport) is None


# --------------------------------------------------------------------------- token file


TOKEN_CSV = """\
tok-admin,admin,uid-1,"system:masters,devs"
tok-bob,bob,uid-2

tok-carol,carol,uid-3,ops
,nobody,uid-4
"""


@pytest.mark.parametrize(
    "token, expected",
    [
        ("tok-admin", UserInfo(username="admin", uid="uid-1", groups=("system:masters", "devs"))),
        ("tok-bob", UserInfo(username="bob", uid="uid-2")),
        ("tok-carol", UserInfo(username="carol", uid="uid-3", groups=("ops",))),
        ("unknown", None),
        ("", None),
        (None, None),
    ],
    ids=["a quoted group list splits on commas", "the group column is optional",
         "a single group", "an unknown token is not mine", "an empty token is no token",
         "no token at all is not mine"],
)
async def test_token_file(tmp_path: Path, token: str | None, expected: UserInfo | None) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text(TOKEN_CSV)
    auth = TokenFileAuthenticator(path)
    assert await auth.authenticate(Credentials(client_cert=None, bearer_token=token)) == expected


def test_token_file_with_too_few_columns_is_refused() -> None:
    with pytest.raises(TokenFileError, match="at least 3 columns"):
        parse_token_csv("tok,user\n")


def test_missing_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError):
        TokenFileAuthenticator(tmp_path / "absent.csv")


def test_duplicate_token_last_one_wins() -> None:
    assert parse_token_csv("t,a,1\nt,b,2\n")["t"].username == "b"


# --------------------------------------------------------------------------- service account


def _sa_token(
    key: certs.PrivateKey,
    *,
    audiences: Sequence[str] = (ISSUER,),
    now: float = NOW,
    exp: int = 3600,
    pod: tuple[str, str] | None = None,
    issuer: str = ISSUER,
    jti: str = "j-1",
) -> str:
    return issue_token(
        key,
        subject=make_username("ns1", "builder"),
        audiences=list(audiences),
        expiration_seconds=exp,
        issuer=issuer,
        claims=service_account_claims(namespace="ns1", name="builder", uid="sa-uid", pod=pod),
        now=now,
        jti=jti,
    )


async def test_service_account_token_maps_to_the_upstream_user(sa_key: certs.PrivateKey) -> None:
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW))
    user = await auth.authenticate(Credentials(client_cert=None,
                                               bearer_token=_sa_token(sa_key, pod=("p1", "pod-uid"))))
    assert user == UserInfo(
        username="system:serviceaccount:ns1:builder",
        uid="sa-uid",
        groups=("system:serviceaccounts", "system:serviceaccounts:ns1"),
        extra={
            "authentication.kubernetes.io/pod-name": ["p1"],
            "authentication.kubernetes.io/pod-uid": ["pod-uid"],
            CREDENTIAL_ID_KEY: ["JTI=j-1"],
        },
    )


@pytest.mark.parametrize(
    "token",
    ["opaque-static-token", "x.y.z"],
    ids=["an opaque token is left to others", "a malformed JWT is left to others"],
)
async def test_service_account_not_mine(sa_key: certs.PrivateKey, token: str) -> None:
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW))
    assert await auth.authenticate(Credentials(client_cert=None, bearer_token=token)) is None


async def test_service_account_token_of_another_issuer_is_left_to_others(sa_key: certs.PrivateKey) -> None:
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW))
    token = _sa_token(sa_key, issuer="https://oidc.example")
    assert await auth.authenticate(Credentials(bearer_token=token)) is None


async def test_service_account_wrong_audience_is_an_error(sa_key: certs.PrivateKey) -> None:
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW))
    with pytest.raises(AuthenticationError, match="audiences"):
        await auth.authenticate(Credentials(bearer_token=_sa_token(sa_key, audiences=["vault"])))


async def test_service_account_signed_by_another_key_is_an_error(sa_key: certs.PrivateKey) -> None:
    auth = ServiceAccountAuthenticator(certs.generate_rsa_key().public_key(), ISSUER, [ISSUER],
                                       clock=Clock(NOW))
    with pytest.raises(AuthenticationError, match="could not be verified"):
        await auth.authenticate(Credentials(bearer_token=_sa_token(sa_key)))


async def test_cached_service_account_token_still_expires(sa_key: certs.PrivateKey) -> None:
    clock = Clock(NOW)
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=clock)
    creds = Credentials(bearer_token=_sa_token(sa_key, exp=600))
    assert await auth.authenticate(creds) is not None
    clock.t = NOW + 600 + 61
    with pytest.raises(AuthenticationError, match="expired"):
        await auth.authenticate(creds)
    with pytest.raises(AuthenticationError, match="expired"):  # and after eviction too
        await auth.authenticate(creds)


async def test_deleted_service_account_invalidates_its_tokens(sa_key: certs.PrivateKey) -> None:
    alive = {("ns1", "builder", "sa-uid")}
    seen: list[tuple[str, str, str]] = []

    async def lookup(namespace: str, name: str, uid: str) -> bool:
        seen.append((namespace, name, uid))
        return (namespace, name, uid) in alive

    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW),
                                       lookup=lookup)
    creds = Credentials(bearer_token=_sa_token(sa_key))
    assert await auth.authenticate(creds) is not None
    alive.clear()
    with pytest.raises(AuthenticationError, match="no longer exists"):
        await auth.authenticate(creds)
    assert seen == [("ns1", "builder", "sa-uid")] * 2


async def test_deleted_bound_pod_invalidates_the_token(sa_key: certs.PrivateKey) -> None:
    pods = {("Pod", "ns1", "p1", "pod-uid")}

    async def bound(kind: str, namespace: str, name: str, uid: str) -> bool:
        return (kind, namespace, name, uid) in pods

    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW),
                                       bound_lookup=bound)
    creds = Credentials(bearer_token=_sa_token(sa_key, pod=("p1", "pod-uid")))
    assert await auth.authenticate(creds) is not None
    pods.clear()
    with pytest.raises(AuthenticationError, match="invalidated"):
        await auth.authenticate(creds)


async def test_service_account_token_without_private_claims_is_an_error(sa_key: certs.PrivateKey) -> None:
    token = issue_token(sa_key, subject="system:serviceaccount:ns1:builder", audiences=[ISSUER],
                        expiration_seconds=60, issuer=ISSUER, claims={}, now=NOW)
    auth = ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW))
    with pytest.raises(AuthenticationError, match="private claim"):
        await auth.authenticate(Credentials(bearer_token=token))


# --------------------------------------------------------------------------- bearer extraction


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("Bearer abc extra", "abc"),
        ("Bearer ", None),
        ("Basic dXNlcjpwdw==", None),
        ("", None),
        (None, None),
    ],
    ids=["the bearer scheme yields the token", "the scheme is case-insensitive",
         "trailing words are ignored", "an empty token is no token", "basic auth is not bearer",
         "an empty header is no token", "no header is no token"],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_websocket_bearer_token_is_taken_out_of_the_protocols() -> None:
    encoded = base64.urlsafe_b64encode(b"my-token").rstrip(b"=").decode()
    header = f"base64url.bearer.authorization.k8s.io.{encoded}, v4.channel.k8s.io"
    assert websocket_bearer_token(header) == ("my-token", ["v4.channel.k8s.io"])
    assert websocket_bearer_token("v4.channel.k8s.io") == (None, ["v4.channel.k8s.io"])
    with pytest.raises(AuthenticationError, match="missing additional subprotocol"):
        websocket_bearer_token(f"base64url.bearer.authorization.k8s.io.{encoded}")


# --------------------------------------------------------------------------- union


class _Fixed:
    def __init__(self, result: UserInfo | None | Exception) -> None:
        self.result = result
        self.calls = 0

    async def authenticate(self, creds: Credentials) -> UserInfo | None:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


CREDS = Credentials(client_cert=None, bearer_token="t")


async def test_union_first_user_wins_and_gets_system_authenticated() -> None:
    first, second = _Fixed(None), _Fixed(UserInfo(username="bob", groups=("devs",)))
    third = _Fixed(UserInfo(username="carol"))
    user = await UnionAuthenticator([first, second, third]).authenticate(CREDS)
    assert user == UserInfo(username="bob", groups=("devs", ALL_AUTHENTICATED))
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)


async def test_union_adds_system_authenticated_once() -> None:
    inner = _Fixed(UserInfo(username="bob", groups=(ALL_AUTHENTICATED, "devs")))
    user = await UnionAuthenticator([inner]).authenticate(CREDS)
    assert user is not None and user.groups == (ALL_AUTHENTICATED, "devs")


async def test_union_error_does_not_stop_the_chain() -> None:
    user = await UnionAuthenticator(
        [_Fixed(AuthenticationError("bad jwt")), _Fixed(UserInfo(username="bob"))]
    ).authenticate(CREDS)
    assert user is not None and user.username == "bob"


async def test_union_raises_when_only_errors() -> None:
    with pytest.raises(AuthenticationError, match="bad jwt"):
        await UnionAuthenticator([_Fixed(None), _Fixed(AuthenticationError("bad jwt"))]).authenticate(CREDS)


async def test_union_nobody_recognises_returns_none() -> None:
    assert await UnionAuthenticator([_Fixed(None), _Fixed(None)]).authenticate(CREDS) is None


async def test_union_of_the_real_authenticators(tmp_path: Path, ca: certs.CertKey,
                                                sa_key: certs.PrivateKey) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text(TOKEN_CSV)
    union = UnionAuthenticator([
        X509Authenticator(),
        TokenFileAuthenticator(path),
        ServiceAccountAuthenticator(sa_key.public_key(), ISSUER, [ISSUER], clock=Clock(NOW)),
    ])
    alice = certs.issue_client_cert(ca, user="alice", groups=["devs"])
    by_cert = await union.authenticate(Credentials(client_cert=alice.cert, bearer_token="tok-bob"))
    assert by_cert is not None and (by_cert.username, by_cert.groups) == ("alice", ("devs", ALL_AUTHENTICATED))
    by_static = await union.authenticate(Credentials(client_cert=None, bearer_token="tok-bob"))
    assert by_static == UserInfo(username="bob", uid="uid-2", groups=(ALL_AUTHENTICATED,))
    by_jwt = await union.authenticate(Credentials(client_cert=None, bearer_token=_sa_token(sa_key)))
    assert by_jwt is not None and by_jwt.groups == (
        "system:serviceaccounts", "system:serviceaccounts:ns1", ALL_AUTHENTICATED)
    assert await union.authenticate(Credentials(client_cert=None, bearer_token="nope")) is None
    assert await union.authenticate(Credentials(client_cert=None, bearer_token=None)) is None
    with pytest.raises(AuthenticationError):
        await union.authenticate(Credentials(bearer_token=_sa_token(sa_key, audiences=["vault"])))


def test_user_info_wire_form() -> None:
    user = UserInfo(username="alice", uid="u1", groups=("devs",), extra={"k": ["v"]})
    assert user.to_wire() == {"username": "alice", "uid": "u1", "groups": ["devs"], "extra": {"k": ["v"]}}
