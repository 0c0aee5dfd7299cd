"""Kubeconfig files: write the admin/component kubeconfigs, read them back for our clients.

Job: `write_kubeconfig` produces a standard `kind: Config` file (one cluster, one user,
one context, credentials embedded as base64 `*-data` fields or a `token`) that the real
kubectl and the official Python client read unchanged; `load_kubeconfig` resolves one
context of any such file into the few facts an HTTPS client needs (`KubeconfigInfo`).

Design: embedded credentials make a kubeconfig a single self-contained file that can be
copied to another machine; the file is written atomically with mode 0600 because it holds
a private key or token. The loader follows kubectl's rules for the fields we support:
`current-context` unless a context is named, file references (`certificate-authority`,
`client-certificate`, `client-key`, `tokenFile`) resolved relative to the kubeconfig's
directory, `*-data` winning over the file form, and namespace `default` when unset. It
does not merge several files (KUBECONFIG lists) nor run exec/auth-provider plugins.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubepy.pki.certs import write_pem

__all__ = ["KubeconfigInfo", "KubeconfigError", "write_kubeconfig", "load_kubeconfig",
           "render_kubeconfig"]


class KubeconfigError(ValueError):
    """The kubeconfig is missing, malformed, or lacks the requested context/cluster/user."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeconfigInfo:
    """What a client needs from one kubeconfig context."""

    server: str
    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    namespace: str = "default"
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    context: str = ""
    cluster: str = ""
    user: str = ""


def render_kubeconfig(
    *,
    server: str,
    ca_pem: bytes | None,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    token: str | None = None,
    cluster_name: str = "kubepy",
    user_name: str = "admin",
    context_name: str = "kubepy",
    namespace: str | None = None,
) -> str:
    """The kubeconfig YAML text (see write_kubeconfig)."""
    if (client_cert_pem is None) != (client_key_pem is None):
        raise ValueError("client_cert_pem and client_key_pem go together")
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = _b64(ca_pem)
    user: dict[str, Any] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        user["client-certificate-data"] = _b64(client_cert_pem)
        user["client-key-data"] = _b64(client_key_pem)
    if token is not None:
        user["token"] = token
    context: dict[str, Any] = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "contexts": [{"name": context_name, "context": context}],
        "current-context": context_name,
        "preferences": {},
        "users": [{"name": user_name, "user": user}],
    }
    text: str = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)
    return text


def write_kubeconfig(
    path: str | os.PathLike[str],
    *,
    server: str,
    ca_pem: bytes | None,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    token: str | None = None,
    cluster_name: str = "kubepy",
    user_name: str = "admin",
    context_name: str = "kubepy",
    namespace: str | None = None,
) -> Path:
    """Write a one-cluster, one-user, one-context kubeconfig (mode 0600, atomic)."""
    text = render_kubeconfig(
        server=server,
        ca_pem=ca_pem,
        client_cert_pem=client_cert_pem,
        client_key_pem=client_key_pem,
        token=token,
        cluster_name=cluster_name,
        user_name=user_name,
        context_name=context_name,
        namespace=namespace,
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_pem(target, text.encode(), private=True)
    return target


def load_kubeconfig(path: str | os.PathLike[str], context: str | None = None) -> KubeconfigInfo:
    """Resolve `context` (default: current-context) of the kubeconfig at `path`."""
    source = Path(path)
    try:
        doc = yaml.safe_load(source.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise KubeconfigError(f"cannot read kubeconfig {source}: {e}") from e
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {source} is not a mapping")
    name = context or doc.get("current-context") or ""
    if not name:
        raise KubeconfigError(f"kubeconfig {source} has no current-context")
    ctx = _named(doc, "contexts", "context", name, source)
    cluster_name = str(ctx.get("cluster") or "")
    user_name = str(ctx.get("user") or "")
    cluster = _named(doc, "clusters", "cluster", cluster_name, source)
    user = _named(doc, "users", "user", user_name, source) if user_name else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"cluster {cluster_name!r} in {source} has no server")
    base = source.parent
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = _read(base, str(user["tokenFile"])).decode().strip()
    return KubeconfigInfo(
        server=str(server),
        ca_pem=_material(cluster, "certificate-authority", base),
        client_cert_pem=_material(user, "client-certificate", base),
        client_key_pem=_material(user, "client-key", base),
        token=str(token) if token else None,
        namespace=str(ctx.get("namespace") or "default"),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        tls_server_name=cluster.get("tls-server-name") or None,
        context=name,
        cluster=cluster_name,
        user=user_name,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _named(doc: dict[str, Any], section: str, field: str, name: str, source: Path) -> dict[str, Any]:
    for entry in doc.get(section) or ():
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(field) or {}
            if not isinstance(value, dict):
                raise KubeconfigError(f"{section} entry {name!r} in {source} is malformed")
            return value
    raise KubeconfigError(f"{field} {name!r} not found in {source}")


def _read(base: Path, ref: str) -> bytes:
    p = Path(os.path.expanduser(ref))
    try:
        return (p if p.is_absolute() else base / p).read_bytes()
    except OSError as e:
        raise KubeconfigError(f"cannot read {ref}: {e}") from e


def _material(section: dict[str, Any], field: str, base: Path) -> bytes | None:
    data = section.get(f"{field}-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except ValueError as e:
            raise KubeconfigError(f"{field}-data is not valid base64") from e
    ref = section.get(field)
    if ref:
        return _read(base, str(ref))
    return None
