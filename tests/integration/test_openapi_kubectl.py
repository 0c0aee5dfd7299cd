"""The served OpenAPI documents, checked by the real kubectl.

A tiny HTTPS server on 127.0.0.1 answers /version, legacy discovery, /openapi/v3 (from
``OpenAPIDocuments``) and stub handlers for one deployment, and records every request.
kubectl then runs with a fresh HOME, so nothing comes from its caches.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubepy.api.resources import Registry
from kubepy.apiserver.openapi import OpenAPIDocuments

pytestmark = [
    pytest.mark.integration,
]

VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.4",
    "compiler": "gc", "platform": "linux/amd64",
}
SERVED = {("", "v1", "pods"), ("", "v1", "configmaps"), ("", "v1", "namespaces"),
          ("apps", "v1", "deployments")}

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


@dataclass
class Recorded:
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, query
    bodies: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, content-type, body
    existing: dict[str, Any] | None = None
    #: Serve v3 documents whose PATCH operations lack strategic merge patch, so that
    #: kubectl's apply falls back to /openapi/v2 (which answers 404 here).
    hide_strategic_merge: bool = False


def _self_signed(tmp: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "tls.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "tls.crt", tmp / "tls.key")
    return ctx


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _resource_list(registry: Registry, group: str, version: str) -> dict[str, Any]:
    resources = []
    for info in registry.in_group_version(group, version):
        if (group, version, info.plural) not in SERVED:
            continue
        resources.append({
            "name": info.plural, "singularName": info.singular, "namespaced": info.namespaced,
            "kind": info.kind, "verbs": list(info.verbs), "shortNames": list(info.short_names),
        })
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _app(docs: OpenAPIDocuments, registry: Registry, rec: Recorded) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        rec.requests.append((request.method, request.path, request.query_string))
        if request.can_read_body:
            rec.bodies.append((request.method, request.content_type, await request.read()))
        return await handler(request)

    app = web.Application(middlewares=[record])

    async def version(_: web.Request) -> web.Response:
        return _json(VERSION)

    async def api(_: web.Request) -> web.Response:
        return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})

    async def apis(_: web.Request) -> web.Response:
        group = {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}
        return _json({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})

    async def core_v1(_: web.Request) -> web.Response:
        return _json(_resource_list(registry, "", "v1"))

    async def apps_v1(_: web.Request) -> web.Response:
        return _json(_resource_list(registry, "apps", "v1"))

    async def openapi_root(_: web.Request) -> web.Response:
        return web.Response(body=docs.root_v3(), content_type="application/json")

    async def openapi_gv(request: web.Request) -> web.Response:
        built = docs.group_version_v3(request.match_info["gv"])
        if built is None:
            return web.Response(status=404)
        body, etag = built
        if rec.hide_strategic_merge:
            doc = orjson.loads(body)
            for item in doc["paths"].values():
                if "patch" in item:
                    item["patch"]["requestBody"]["content"].pop("application/strategic-merge-patch+json")
            body = orjson.dumps(doc)
        return web.Response(body=body, content_type="application/json", headers={"ETag": f'"{etag}"'})

    def not_found(name: str) -> web.Response:
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": f'deployments.apps "{name}" not found', "reason": "NotFound",
                      "details": {"name": name, "group": "apps", "kind": "deployments"}, "code": 404}, 404)

    async def get_deployment(request: web.Request) -> web.Response:
        if rec.existing is None:
            return not_found(request.match_info["name"])
        return _json(rec.existing)

    async def create_deployment(request: web.Request) -> web.Response:
        obj = orjson.loads(await request.read())
        obj["metadata"].update(uid="00000000-0000-0000-0000-000000000001", resourceVersion="1",
                               creationTimestamp="2025-01-01T00:00:00Z")
        return _json(obj, 201)

    async def patch_deployment(_: web.Request) -> web.Response:
        assert rec.existing is not None
        return _json(rec.existing)

    app.router.add_get("/version", version)
    app.router.add_get("/api", api)
    app.router.add_get("/apis", apis)
    app.router.add_get("/api/v1", core_v1)
    app.router.add_get("/apis/apps/v1", apps_v1)
    app.router.add_get("/openapi/v3", openapi_root)
    app.router.add_get("/openapi/v3/{gv:.+}", openapi_gv)
    item = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    app.router.add_get(item, get_deployment)
    app.router.add_patch(item, patch_deployment)
    app.router.add_post("/apis/apps/v1/namespaces/{namespace}/deployments", create_deployment)
    return app


@dataclass
class Cluster:
    home: Path
    rec: Recorded

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "KUBECONFIG": str(self.home / ".kube" / "config")}
        return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=60, check=False)

    async def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(self.kubectl, *args, stdin=stdin)


@pytest_asyncio.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    registry = Registry()
    docs = OpenAPIDocuments(registry)
    rec = Recorded()
    runner = web.AppRunner(_app(docs, registry, rec))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_self_signed(tmp_path))
    await site.start()
    port = runner.addresses[0][1]
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n"
        "    insecure-skip-tls-verify: true\n"
        "users:\n- name: u\n  user:\n    token: test-token\n"
        "contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: default\n"
        "current-context: c\n"
    )
    try:
        yield Cluster(home, rec)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("pods.spec.containers", ["KIND:       Pod", "FIELD: containers <[]Container>",
                                              "image\t<string>", "name\t<string> -required-",
                                              "resources\t<ResourceRequirements>"],
                     id="explain pods.spec.containers lists container fields and marks name required"),
        pytest.param("deployment.spec.strategy", ["KIND:       Deployment", "GROUP:      apps",
                                                  "FIELD: strategy <DeploymentStrategy>",
                                                  "rollingUpdate\t<RollingUpdateDeployment>",
                                                  "type\t<string>",
                                                  "The deployment strategy to use to replace existing pods"],
                     id="explain deployment.spec.strategy resolves the wrapped reference with its description"),
        pytest.param("configmaps", ["KIND:       ConfigMap", "data\t<map[string]string>",
                                    "metadata\t<ObjectMeta>"],
                     id="explain configmaps prints the top-level kind"),
    ],
)
async def test_kubectl_explain_reads_the_v3_documents(cluster: Cluster, target: str, expected: list[str]) -> None:
    result = await cluster.run("explain", target)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, f"{text!r} missing from:\n{result.stdout}"
    assert any(m == "GET" and path == "/openapi/v3" for m, path, _ in cluster.rec.requests)


@pytest.mark.parametrize(
    "verb",
    [
        pytest.param(["create", "-f", "-"], id="create -f trusts server-side validation"),
        pytest.param(["apply", "-f", "-"], id="apply -f of a new object trusts server-side validation"),
        pytest.param(["apply", "--dry-run=server", "-f", "-"], id="apply --dry-run=server sends dryRun and Strict"),
    ],
)
async def test_kubectl_sends_strict_field_validation(cluster: Cluster, verb: list[str]) -> None:
    result = await cluster.run(*verb, stdin=DEPLOYMENT_YAML)
    assert result.returncode == 0, result.stderr
    assert "failed to download openapi" not in result.stderr
    posts = [q for m, p, q in cluster.rec.requests
             if m == "POST" and p == "/apis/apps/v1/namespaces/default/deployments"]
    assert len(posts) == 1, cluster.rec.requests
    assert "fieldValidation=Strict" in posts[0]
    if "--dry-run=server" in verb:
        assert "dryRun=All" in posts[0]
    assert any(p.startswith("/openapi/v3/apis/apps/v1") for _, p, _ in cluster.rec.requests)


@pytest.mark.parametrize(
    "hide_strategic_merge",
    [
        pytest.param(False, id="apply to an existing object computes its patch from the v3 schema"),
        pytest.param(True, id="apply falls back past a 404 on /openapi/v2 to compiled-in patch metadata"),
    ],
)
async def test_apply_to_existing_object_sends_a_strategic_merge_patch(
    cluster: Cluster, hide_strategic_merge: bool
) -> None:
    """/openapi/v2 answers 404 here: apply must still compute a strategic merge patch."""
    cluster.rec.hide_strategic_merge = hide_strategic_merge
    created = await cluster.run("create", "-f", "-", stdin=DEPLOYMENT_YAML)
    assert created.returncode == 0, created.stderr
    _, _, body = next(b for b in cluster.rec.bodies if b[0] == "POST")
    existing = orjson.loads(body)
    existing["metadata"].update(uid="00000000-0000-0000-0000-000000000001", resourceVersion="1",
                                annotations={"kubectl.kubernetes.io/last-applied-configuration":
                                             orjson.dumps(existing).decode()})
    cluster.rec.existing = existing

    changed = DEPLOYMENT_YAML.replace("replicas: 2", "replicas: 3").replace("nginx:1.27", "nginx:1.28")
    result = await cluster.run("apply", "-f", "-", stdin=changed)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr
    patches = [(ct, orjson.loads(b)) for m, ct, b in cluster.rec.bodies if m == "PATCH"]
    assert len(patches) == 1, cluster.rec.requests
    content_type, patch = patches[0]
    assert content_type == "application/strategic-merge-patch+json"
    assert patch["spec"]["replicas"] == 3
    # the containers list is merged by its patch merge key "name" from the v3 schema
    assert patch["spec"]["template"]["spec"]["containers"] == [{"image": "nginx:1.28", "name": "web"}]
    assert "$setElementOrder/containers" in patch["spec"]["template"]["spec"]
    patch_query = next(q for m, _, q in cluster.rec.requests if m == "PATCH")
    assert "fieldValidation=Strict" in patch_query
    asked_v2 = any(p == "/openapi/v2" for _, p, _ in cluster.rec.requests)
    assert asked_v2 == hide_strategic_merge, cluster.rec.requests
