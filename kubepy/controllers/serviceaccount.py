"""The service-account controller: a ``default`` ServiceAccount in every active namespace.

Job, as upstream's ``pkg/controller/serviceaccount`` (ServiceAccountsController): for
each namespace in phase Active, make sure every service account in ``names`` (upstream's
``--service-accounts`` list, ``default`` alone by default) exists, creating it when
missing, so one deleted by hand comes back.

Design: keys are namespace names. Namespace adds and updates queue the namespace; a
deleted ServiceAccount queues its namespace. Existence is read from the ServiceAccount
informer; a create that loses a race (AlreadyExists) or hits a namespace that has just
started terminating (cause ``NamespaceTerminating``) is not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepy.client import ApiError, ResourceRef, is_already_exists, object_of
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext

__all__ = ["ServiceAccountsController", "new", "namespace_terminating", "DEFAULT_SERVICE_ACCOUNTS"]

Obj = dict[str, Any]
NAMESPACES = ResourceRef("", "v1", "namespaces", False)
SERVICE_ACCOUNTS = ResourceRef("", "v1", "serviceaccounts", True)
DEFAULT_SERVICE_ACCOUNTS = ("default",)


def namespace_terminating(e: BaseException) -> bool:
    """The API server refused a write because the namespace is terminating."""
    if not isinstance(e, ApiError):
        return False
    causes = e.details.get("causes") or ()
    return any(isinstance(c, dict) and c.get("reason", c.get("type")) == "NamespaceTerminating" for c in causes)


class ServiceAccountsController(Controller):
    NAME = "serviceaccount"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext, names: Sequence[str] = DEFAULT_SERVICE_ACCOUNTS) -> None:
        super().__init__(ctx)
        self.names = tuple(names)
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.service_accounts = ctx.informers.informer(SERVICE_ACCOUNTS)
        self.namespaces.add_event_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new))
        self.service_accounts.add_event_handler(on_delete=self._service_account_deleted)

    def informers(self) -> list[Any]:
        return [self.namespaces, self.service_accounts]

    def _service_account_deleted(self, obj: Any) -> None:
        meta = object_of(obj).get("metadata") or {}
        if meta.get("name") in self.names and meta.get("namespace"):
            self.queue.add(str(meta["namespace"]))

    async def sync(self, key: str) -> None:
        ns = self.namespaces.indexer.get_by_key(key)
        if ns is None or (ns.get("status") or {}).get("phase", "Active") != "Active":
            return
        failures: list[str] = []
        for name in self.names:
            if self.service_accounts.indexer.get_by_name(key, name) is not None:
                continue
            sa: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": key}}
            try:
                await self.client.create(SERVICE_ACCOUNTS, sa, namespace=key)
            except ApiError as e:
                if is_already_exists(e) or namespace_terminating(e):
                    continue
                failures.append(str(e))
        if failures:
            raise RuntimeError("; ".join(failures))


def new(ctx: ControllerContext) -> ServiceAccountsController:
    return ServiceAccountsController(ctx)
