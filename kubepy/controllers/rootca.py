"""The root CA publisher: a ``kube-root-ca.crt`` ConfigMap in every namespace.

Job, as upstream's ``pkg/controller/certificates/rootcacertpublisher``: every active
namespace holds a ConfigMap ``kube-root-ca.crt`` whose ``ca.crt`` is the cluster CA bundle
(what pods use to verify the API server through ``kubernetes.default.svc``), annotated
``kubernetes.io/description``. One that is deleted is created again; one whose data or
annotation was changed is repaired (other annotations and labels are left alone).

Design: keys are namespace names, queued by namespace adds and updates (active ones) and
by updates and deletions of a ``kube-root-ca.crt`` ConfigMap. The ConfigMap informer
watches only that name (a ``metadata.name`` field selector), so the controller does not
cache every ConfigMap of the cluster. The CA bundle is the controller-manager's own
(its kubeconfig's certificate authority), as upstream falls back to when no
``--root-ca-file`` is given.
"""

from __future__ import annotations

from typing import Any

from kubepy.client import ApiError, ResourceRef, deepcopy, is_not_found, object_of
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.serviceaccount import namespace_terminating

__all__ = ["RootCAPublisher", "new", "CONFIGMAP_NAME", "DESCRIPTION_ANNOTATION", "DESCRIPTION", "desired_configmap"]

Obj = dict[str, Any]
NAMESPACES = ResourceRef("", "v1", "namespaces", False)
CONFIGMAPS = ResourceRef("", "v1", "configmaps", True)
CONFIGMAP_NAME = "kube-root-ca.crt"
DATA_KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
    "clusters."
)


def desired_configmap(namespace: str, ca: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP_NAME, "namespace": namespace,
                     "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
        "data": {DATA_KEY: ca},
    }


class RootCAPublisher(Controller):
    NAME = "root-ca-cert-publisher"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext, root_ca: str) -> None:
        super().__init__(ctx)
        self.root_ca = root_ca
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.configmaps = ctx.informers.informer(CONFIGMAPS, field_selector=f"metadata.name={CONFIGMAP_NAME}")
        self.namespaces.add_event_handler(on_add=self._namespace_changed,
                                          on_update=lambda old, new: self._namespace_changed(new))
        self.configmaps.add_event_handler(on_update=lambda old, new: self._configmap_changed(new),
                                          on_delete=self._configmap_changed)

    def informers(self) -> list[Any]:
        return [self.namespaces, self.configmaps]

    def _namespace_changed(self, ns: Obj) -> None:
        if (ns.get("status") or {}).get("phase", "Active") == "Active":
            self.enqueue(ns)

    def _configmap_changed(self, obj: Any) -> None:
        meta = object_of(obj).get("metadata") or {}
        if meta.get("name") == CONFIGMAP_NAME and meta.get("namespace"):
            self.queue.add(str(meta["namespace"]))

    async def sync(self, key: str) -> None:
        if not self.root_ca:
            self.log.debug("no root CA bundle to publish")
            return
        cm = self.configmaps.indexer.get_by_name(key, CONFIGMAP_NAME)
        if cm is None:
            ns = self.namespaces.indexer.get_by_key(key)
            if ns is None or (ns.get("status") or {}).get("phase", "Active") != "Active":
                return
            try:
                await self.client.create(CONFIGMAPS, desired_configmap(key, self.root_ca), namespace=key)
            except ApiError as e:
                # a namespace that is gone or terminating needs no bundle (AlreadyExists: the
                # cache is behind; retried, as upstream, until it has the ConfigMap to check)
                if is_not_found(e) or namespace_terminating(e):
                    return
                raise
            return
        annotations = (cm.get("metadata") or {}).get("annotations") or {}
        if cm.get("data") == {DATA_KEY: self.root_ca} and annotations.get(DESCRIPTION_ANNOTATION):
            return
        fixed = deepcopy(cm)
        fixed["data"] = {DATA_KEY: self.root_ca}
        fixed["metadata"].setdefault("annotations", {})[DESCRIPTION_ANNOTATION] = DESCRIPTION
        try:
            await self.client.update(CONFIGMAPS, fixed, namespace=key)
        except ApiError as e:
            if is_not_found(e):
                return  # deleted meanwhile: the delete event queues the namespace again
            raise


def new(ctx: ControllerContext) -> RootCAPublisher:
    ca: Any = ctx.options.get("root_ca_pem")
    if ca is None:
        config = getattr(ctx.client, "config", None)
        ca = getattr(config, "ca_pem", None)
    if isinstance(ca, bytes):
        ca = ca.decode("utf-8", "replace")
    return RootCAPublisher(ctx, str(ca or ""))
