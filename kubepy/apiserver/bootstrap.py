"""Objects every cluster starts with: the system namespaces, the ``kubernetes`` service and
the two system PriorityClasses (``system-node-critical``, ``system-cluster-critical``).

Created on each start when missing (idempotent), through the same ResourceStores as API
writes, so they carry uids, timestamps and defaults like any other object.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from kubepy.apiserver import errors
from kubepy.apiserver.registry.generic import WriteOptions

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_defaults(server: APIServer) -> None:
    ns_store = server.store_for(server.registry.get("", "v1", "namespaces"))  # type: ignore[arg-type]
    for name in SYSTEM_NAMESPACES:
        if await ns_store.current("", name) is None:
            await _create(ns_store, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    await ensure_kubernetes_service(server)
    await ensure_system_priority_classes(server)


async def ensure_system_priority_classes(server: APIServer) -> None:
    """Create the built-in classes when missing (upstream's scheduling post-start hook)."""
    from kubepy.api.validation.scheduling import SYSTEM_PRIORITY_CLASSES

    info = server.registry.get("scheduling.k8s.io", "v1", "priorityclasses")
    if info is None:
        return
    pc_store = server.store_for(info)
    for name, (value, description) in SYSTEM_PRIORITY_CLASSES.items():
        if await pc_store.current("", name) is None:
            await _create(pc_store, "", {
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority",
            })


async def ensure_kubernetes_service(server: APIServer) -> None:
    svc_store = server.store_for(server.registry.get("", "v1", "services"))  # type: ignore[arg-type]
    ip = server.services.allocator.service_ip(1)
    port = server.config.secure_port
    if await svc_store.current("default", "kubernetes") is None:
        await _create(svc_store, "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]},
        })
    if ipaddress.ip_address(server.advertise_address).is_loopback:
        return  # upstream forbids loopback endpoints; a node-reachable address gets them
    ep_store = server.store_for(server.registry.get("", "v1", "endpoints"))  # type: ignore[arg-type]
    subsets = [{"addresses": [{"ip": server.advertise_address}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    cur = await ep_store.current("default", "kubernetes")
    if cur is None:
        await _create(ep_store, "default", {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": subsets,
        })
    elif cur.obj.get("subsets") != subsets:
        obj = dict(cur.obj)
        obj["subsets"] = subsets
        await ep_store.update("default", "kubernetes", obj, WriteOptions())


async def _create(store: Any, namespace: str, obj: dict[str, Any]) -> None:
    from kubepy.api import defaults

    defaults.apply_defaults(obj, store.info.schema)
    try:
        await store.create(namespace, obj, WriteOptions())
    except errors.StatusError as e:
        if e.code != 409:
            raise
