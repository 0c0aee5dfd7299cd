"""DefaultBinder: binds a pod to its chosen node by POSTing a v1 Binding to the pod's
``binding`` subresource (upstream plugins/defaultbinder).

Design: the only Bind plugin of the default profile and the scheduler's one write on the
hot path: one request per pod, through the handle's client (never storage), with the pod's
UID in the Binding's metadata so the API server refuses to bind a pod that was deleted and
recreated under the same name meanwhile. Any client error becomes an ERROR status, which
makes the scheduler forget the assumed pod and retry it.
"""

from __future__ import annotations

from typing import Any

from kubepy.scheduler.framework.interface import SUCCESS, BindPlugin, ClusterEvent, CycleState, EnqueueExtensions, Handle, Status

__all__ = ["NAME", "DefaultBinder", "binding_for", "new"]

Obj = dict[str, Any]

NAME = "DefaultBinder"


def binding_for(pod: Obj, node_name: str) -> Obj:
    """The v1 Binding that assigns ``pod`` to ``node_name``."""
    meta = pod.get("metadata") or {}
    binding_meta: Obj = {"name": meta.get("name", ""), "namespace": meta.get("namespace", "")}
    if meta.get("uid"):
        binding_meta["uid"] = meta["uid"]
    return {"apiVersion": "v1", "kind": "Binding", "metadata": binding_meta,
            "target": {"kind": "Node", "name": node_name}}


class DefaultBinder(BindPlugin, EnqueueExtensions):
    NAME = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        body = binding_for(pod, node_name)
        client = self.handle.client
        meta = body["metadata"]
        try:
            await client.create(client.resource("v1", "pods"), body, namespace=meta["namespace"],
                                subresource="binding", name=meta["name"])
        except Exception as e:  # noqa: BLE001 - any failure aborts this binding cycle
            return Status.error(str(e), plugin=NAME)
        return SUCCESS

    def events_to_register(self) -> list[ClusterEvent]:
        return []


def new(args: dict[str, Any], handle: Handle) -> DefaultBinder:
    return DefaultBinder(handle)
