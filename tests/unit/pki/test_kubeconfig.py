"""Kubeconfig files: what we write, kubectl reads; what kubectl-style files hold, we load."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepy.pki import certs
from kubepy.pki.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig

SERVER = "https://127.0.0.1:6443"


@pytest.fixture(scope="module")
def ca() -> certs.CertKey:
    return certs.generate_ca()


@pytest.fixture(scope="module")
def admin(ca: certs.CertKey) -> certs.CertKey:
    return certs.issue_client_cert(ca, user="kubernetes-admin", groups=["system:masters"])


def test_cert_kubeconfig_round_trips(tmp_path: Path, ca: certs.CertKey, admin: certs.CertKey) -> None:
    path = write_kubeconfig(tmp_path / "admin.conf", server=SERVER, ca_pem=ca.cert_pem(),
                            client_cert_pem=admin.cert_pem(), client_key_pem=admin.key_pem())
    assert path.stat().st_mode & 0o777 == 0o600
    info = load_kubeconfig(path)
    assert info.server == SERVER
    assert info.ca_pem == ca.cert_pem()
    assert info.client_cert_pem == admin.cert_pem()
    assert info.client_key_pem == admin.key_pem()
    assert info.token is None
    assert info.namespace == "default"
    assert (info.context, info.cluster, info.user) == ("kubepy", "kubepy", "admin")


def test_token_kubeconfig_with_namespace_round_trips(tmp_path: Path, ca: certs.CertKey) -> None:
    path = write_kubeconfig(tmp_path / "k", server=SERVER, ca_pem=ca.cert_pem(), token="abc.def",
                            user_name="bob", context_name="bob@kubepy", namespace="team-a")
    info = load_kubeconfig(path)
    assert (info.token, info.namespace, info.user, info.context) == ("abc.def", "team-a", "bob", "bob@kubepy")
    assert info.client_cert_pem is None and info.client_key_pem is None


def test_written_file_is_the_standard_layout(tmp_path: Path, ca: certs.CertKey, admin: certs.CertKey) -> None:
    path = write_kubeconfig(tmp_path / "k", server=SERVER, ca_pem=ca.cert_pem(),
                            client_cert_pem=admin.cert_pem(), client_key_pem=admin.key_pem())
    doc = yaml.safe_load(path.read_text())
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Config"
    assert doc["current-context"] == "kubepy"
    cluster = doc["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca.cert_pem()
    user = doc["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == admin.cert_pem()
    assert base64.b64decode(user["client-key-data"]) == admin.key_pem()


def test_real_kubectl_reads_what_we_write(tmp_path: Path, ca: certs.CertKey, admin: certs.CertKey) -> None:
    path = write_kubeconfig(tmp_path / "admin.conf", server=SERVER, ca_pem=ca.cert_pem(),
                            client_cert_pem=admin.cert_pem(), client_key_pem=admin.key_pem(),
                            namespace="kube-system")
    out = subprocess.run(
        ["kubectl", "config", "view", "--kubeconfig", str(path), "-o", "json", "--raw"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    view = json.loads(out.stdout)
    assert view["current-context"] == "kubepy"
    [cluster] = view["clusters"]
    assert cluster["cluster"]["server"] == SERVER
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == ca.cert_pem()
    [user] = view["users"]
    assert base64.b64decode(user["user"]["client-certificate-data"]) == admin.cert_pem()
    assert base64.b64decode(user["user"]["client-key-data"]) == admin.key_pem()
    [context] = view["contexts"]
    assert context["context"] == {"cluster": "kubepy", "user": "admin", "namespace": "kube-system"}


def test_file_references_resolve_relative_to_the_kubeconfig(tmp_path: Path, ca: certs.CertKey,
                                                            admin: certs.CertKey) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(ca.cert_pem())
    (tmp_path / "pki" / "admin.crt").write_bytes(admin.cert_pem())
    (tmp_path / "pki" / "admin.key").write_bytes(admin.key_pem())
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "a",
        "clusters": [{"name": "c", "cluster": {"server": SERVER, "certificate-authority": "pki/ca.crt"}}],
        "users": [{"name": "u", "user": {"client-certificate": "pki/admin.crt",
                                         "client-key": str(tmp_path / "pki" / "admin.key")}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}},
                     {"name": "b", "context": {"cluster": "c", "user": "u", "namespace": "x"}}],
    }
    (tmp_path / "config").write_text(yaml.safe_dump(doc))
    info = load_kubeconfig(tmp_path / "config")
    assert (info.ca_pem, info.client_cert_pem, info.client_key_pem) == (
        ca.cert_pem(), admin.cert_pem(), admin.key_pem())
    assert load_kubeconfig(tmp_path / "config", context="b").namespace == "x"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update({"current-context": "nope"}), "context 'nope' not found"),
        (lambda d: d.pop("current-context"), "no current-context"),
        (lambda d: d["clusters"][0]["cluster"].pop("server"), "has no server"),
        (lambda d: d.update({"users": []}), "user 'admin' not found"),
    ],
    ids=["an unknown context is an error", "no current context is an error",
         "a cluster without server is an error", "a missing user is an error"],
)
def test_broken_kubeconfigs_are_reported(
    tmp_path: Path, ca: certs.CertKey, mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    path = write_kubeconfig(tmp_path / "k", server=SERVER, ca_pem=ca.cert_pem(), token="t")
    doc = yaml.safe_load(path.read_text())
    mutate(doc)
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(KubeconfigError, match=message):
        load_kubeconfig(path)


def test_cert_without_key_is_refused(tmp_path: Path, ca: certs.CertKey) -> None:
    with pytest.raises(ValueError):
        write_kubeconfig(tmp_path / "k", server=SERVER, ca_pem=ca.cert_pem(),
                         client_cert_pem=ca.cert_pem())
