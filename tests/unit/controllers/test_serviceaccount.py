"""ServiceAccount controller (``default`` in every active namespace) and the root-CA publisher
(``kube-root-ca.crt`` in every active namespace), which share their namespace-keyed shape."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import ApiError, InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.rootca import DESCRIPTION, DESCRIPTION_ANNOTATION, RootCAPublisher
from kubepy.controllers.rootca import new as new_rootca
from kubepy.controllers.serviceaccount import ServiceAccountsController

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def namespace(name: str = "team", phase: str = "Active") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": phase}}


def sa(name: str = "default", ns: str = "team") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}


def root_cm(ns: str = "team", data: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "kube-root-ca.crt", "namespace": ns}
    if annotations is not None:
        meta["annotations"] = annotations
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data if data is not None else {"ca.crt": CA}}


class RefusingClient(FakeClient):
    def __init__(self, error: ApiError) -> None:
        super().__init__()
        self.error = error

    async def create(self, *a: Any, **kw: Any) -> dict[str, Any]:
        raise self.error


def ctx_for(client: FakeClient, **options: Any) -> ControllerContext:
    return ControllerContext(client=client, informers=InformerFactory(client),  # type: ignore[arg-type]
                             recorder=None, options=options)  # type: ignore[arg-type]


def make_sa(*cached: dict[str, Any], client: FakeClient | None = None) -> tuple[ServiceAccountsController, FakeClient]:
    client = client or FakeClient()
    ctrl = ServiceAccountsController(ctx_for(client))
    for o in cached:
        (ctrl.namespaces if o["kind"] == "Namespace" else ctrl.service_accounts).indexer.add(o)
    return ctrl, client


def terminating_error() -> ApiError:
    return ApiError({"kind": "Status", "code": 403, "reason": "Forbidden",
                     "message": "unable to create new content in namespace team because it is being terminated",
                     "details": {"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]}})


# -- service accounts ---------------------------------------------------------------------------

async def test_an_active_namespace_without_a_default_service_account_gets_one() -> None:
    ctrl, client = make_sa(namespace())
    await ctrl.sync("team")
    [created] = client.writes("create", "serviceaccounts")
    assert (created.namespace, created.name) == ("team", "default")


@pytest.mark.parametrize("cached", [
    [namespace(), sa()],
    [namespace(phase="Terminating")],
    [],
], ids=["the account exists already", "the namespace is terminating", "the namespace is gone"])
async def test_nothing_is_created(cached: list[dict[str, Any]]) -> None:
    ctrl, client = make_sa(*cached)
    await ctrl.sync("team")
    assert client.actions == []


@pytest.mark.parametrize("error", [
    ApiError({"kind": "Status", "code": 409, "reason": "AlreadyExists", "message": "exists"}),
    terminating_error(),
], ids=["a create racing another is fine", "a namespace that started terminating is fine"])
async def test_harmless_create_failures_are_not_retried(error: ApiError) -> None:
    ctrl, _ = make_sa(namespace(), client=RefusingClient(error))
    await ctrl.sync("team")


async def test_other_create_failures_are_retried() -> None:
    ctrl, _ = make_sa(namespace(), client=RefusingClient(ApiError({"kind": "Status", "code": 500,
                                                                   "reason": "InternalError", "message": "x"})))
    with pytest.raises(RuntimeError):
        await ctrl.sync("team")


def test_deleting_the_default_service_account_queues_its_namespace_and_others_do_not() -> None:
    ctrl, _ = make_sa()
    ctrl._service_account_deleted(sa("builder"))
    assert len(ctrl.queue) == 0
    ctrl._service_account_deleted(sa())
    assert len(ctrl.queue) == 1


# -- root CA publisher ----------------------------------------------------------------------------

def make_ca(*cached: dict[str, Any], server: list[dict[str, Any]] | None = None) -> tuple[RootCAPublisher, FakeClient]:
    client = FakeClient(*(server or []))
    ctrl = new_rootca(ctx_for(client, root_ca_pem=CA.encode()))
    for o in cached:
        (ctrl.namespaces if o["kind"] == "Namespace" else ctrl.configmaps).indexer.add(o)
    return ctrl, client


async def test_a_namespace_without_the_root_ca_configmap_gets_it_with_the_bundle_and_description() -> None:
    ctrl, client = make_ca(namespace())
    await ctrl.sync("team")
    [created] = client.writes("create", "configmaps")
    assert created.body["data"] == {"ca.crt": CA}
    assert created.body["metadata"]["annotations"] == {DESCRIPTION_ANNOTATION: DESCRIPTION}


@pytest.mark.parametrize("cached", [
    [namespace(), root_cm(annotations={DESCRIPTION_ANNOTATION: DESCRIPTION})],
    [namespace(phase="Terminating")],
], ids=["an up-to-date configmap is left alone", "a terminating namespace gets none"])
async def test_the_publisher_writes_nothing(cached: list[dict[str, Any]]) -> None:
    ctrl, client = make_ca(*cached)
    await ctrl.sync("team")
    assert client.actions == []


@pytest.mark.parametrize("stale", [
    root_cm(data={"ca.crt": "bogus"}, annotations={DESCRIPTION_ANNOTATION: DESCRIPTION, "keep": "me"},
            labels={"l": "v"}),
    root_cm(data={"ca.crt": CA, "extra": "x"}, annotations={"keep": "me"}, labels={"l": "v"}),
], ids=["wrong bundle", "extra key and no description"])
async def test_a_tampered_configmap_is_repaired_keeping_other_metadata(stale: dict[str, Any]) -> None:
    ctrl, client = make_ca(namespace(), stale, server=[stale])
    await ctrl.sync("team")
    [update] = client.writes("update", "configmaps")
    assert update.body["data"] == {"ca.crt": CA}
    assert update.body["metadata"]["annotations"] == {DESCRIPTION_ANNOTATION: DESCRIPTION, "keep": "me"}
    assert update.body["metadata"]["labels"] == {"l": "v"}


def test_the_ca_bundle_comes_from_the_controller_managers_kubeconfig() -> None:
    class Config:
        ca_pem = CA.encode()

    client = FakeClient()
    client.config = Config()  # type: ignore[attr-defined]
    assert new_rootca(ctx_for(client)).root_ca == CA


def test_only_the_root_ca_configmap_is_cached() -> None:
    ctrl, _ = make_ca()
    assert ctrl.configmaps.reflector.lister_watcher.field_selector == "metadata.name=kube-root-ca.crt"  # type: ignore[attr-defined]
