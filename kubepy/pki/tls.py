"""TLS contexts for the API server (and other servers) and for our own clients.

Job: build `ssl.SSLContext`s with the settings Kubernetes clients expect: TLS 1.2 or
newer, ALPN `http/1.1` (kubectl offers h2 and http/1.1; we serve HTTP/1.1 only, which
it accepts), and, on the server, an *optional* request for a client certificate
verified against the cluster CA.

Design: `CERT_OPTIONAL` makes OpenSSL ask every client for a certificate and verify it
against the client CA when one is sent, while letting clients without one (bearer
tokens, anonymous discovery) complete the handshake. The verified certificate is then
read per connection by authn.x509.peer_certificate. Unlike Go's kube-apiserver, which
requests but verifies in the authenticator, a certificate that does not chain to the CA
fails the handshake itself. The stdlib `ssl` module reads certificates and keys only
from files, so PEM held in memory is written to a private temporary directory just long
enough to load it.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

__all__ = ["server_ssl_context", "client_ssl_context", "ALPN_PROTOCOLS"]

ALPN_PROTOCOLS = ["http/1.1"]

PathLike = str | os.PathLike[str]


def server_ssl_context(
    cert: PathLike | bytes,
    key: PathLike | bytes,
    client_ca: PathLike | bytes | None = None,
) -> ssl.SSLContext:
    """A server context serving `cert`/`key` (file paths or PEM bytes).

    With `client_ca` (a CA bundle path or PEM bytes) clients are asked for an optional
    certificate, verified against it; without it no client certificate is requested.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(ALPN_PROTOCOLS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    if hasattr(ssl, "OP_NO_RENEGOTIATION"):
        ctx.options |= ssl.OP_NO_RENEGOTIATION
    _load_chain(ctx, cert, key)
    if client_ca is not None:
        if isinstance(client_ca, bytes):
            ctx.load_verify_locations(cadata=client_ca.decode("ascii"))
        else:
            ctx.load_verify_locations(cafile=os.fspath(client_ca))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_ssl_context(
    ca_pem: bytes | None,
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
    *,
    insecure_skip_verify: bool = False,
) -> ssl.SSLContext:
    """A client context trusting `ca_pem` (or the system store when None).

    Presents `cert_pem`/`key_pem` as the client certificate when both are given.
    Hostname checking is on (DNS names and IP literals), unless `insecure_skip_verify`,
    kubeconfig's `insecure-skip-tls-verify`.
    """
    if (cert_pem is None) != (key_pem is None):
        raise ValueError("a client certificate needs both cert_pem and key_pem")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(ALPN_PROTOCOLS)
    if insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_pem is not None:
        ctx.load_verify_locations(cadata=ca_pem.decode("ascii"))
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if cert_pem is not None and key_pem is not None:
        _load_chain(ctx, cert_pem, key_pem)
    return ctx


def _load_chain(ctx: ssl.SSLContext, cert: PathLike | bytes, key: PathLike | bytes) -> None:
    if not isinstance(cert, bytes) and not isinstance(key, bytes):
        ctx.load_cert_chain(os.fspath(cert), os.fspath(key))
        return
    with tempfile.TemporaryDirectory(prefix="kubepy-tls-") as tmp:  # created 0700
        cert_file = Path(tmp) / "tls.crt"
        key_file = Path(tmp) / "tls.key"
        cert_file.write_bytes(cert if isinstance(cert, bytes) else Path(cert).read_bytes())
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key if isinstance(key, bytes) else Path(key).read_bytes())
        ctx.load_cert_chain(cert_file, key_file)
