"""The Deployment controller's loop: informers, event handlers, and ``sync`` dispatch.

Job: watch Deployments, ReplicaSets and Pods; for each Deployment key, claim its
ReplicaSets (adopt orphans whose labels match, release those that stopped matching) and
hand over to the right concern, as upstream's syncDeployment does: status only while
being deleted; scaling only while paused or when ``spec.replicas`` changed
(sync.py); otherwise the strategy's rollout (rolling.py or recreate.py), which also
report progress (progress.py).

Design: the writing helpers live here (``update_rs``, ``create_rs``, ``write_status``,
``set_revision``) so the concern modules stay plain functions over a ``Deployment``
working copy ``d``. Each write refreshes ``d``'s resourceVersion, so several writes in one
sync do not conflict with each other (upstream re-sends the stale object and retries on
the conflict). The Deployment's own revision annotation is written with a metadata merge
patch: a status write may not change annotations (ours drops them; upstream's happens to
keep them), and the patch works against both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubepy.client import (
    OWNER_UID_INDEX,
    WARNING,
    ApiError,
    DeletedFinalStateUnknown,
    deepcopy,
    is_not_found,
    object_of,
    owner_uid_index,
)
from kubepy.client.events import EventType
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.podcontrol import adopt_patch, claim, controller_of, release_patch, selector_matches
from kubepy.controllers.replicaset import ORPHAN_INDEX, orphan_index

from .progress import check_paused_conditions
from .recreate import rollout_recreate
from .rolling import rollout_rolling
from .sync import is_scaling_event, sync_paused_or_scaled, sync_status_only
from .replicasets import REVISION_ANNOTATION

__all__ = ["DeploymentController"]

Obj = dict[str, Any]


class DeploymentController(Controller):
    """Rolls Deployments out through ReplicaSets."""

    NAME = "deployment"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.d_ref = self.client.resource("apps/v1", "deployments")
        self.rs_ref = self.client.resource("apps/v1", "replicasets")
        inf = ctx.informers
        self.d_informer = inf.for_resource("apps/v1", "deployments")
        self.rs_informer = inf.for_resource(
            "apps/v1", "replicasets", indexers={OWNER_UID_INDEX: owner_uid_index, ORPHAN_INDEX: orphan_index})
        self.pod_informer = inf.for_resource(
            "v1", "pods", indexers={OWNER_UID_INDEX: owner_uid_index, ORPHAN_INDEX: orphan_index})
        self.handle_all(self.d_informer)
        self.rs_informer.add_event_handler(on_add=self._add_rs, on_update=self._update_rs, on_delete=self._delete_rs)
        self.pod_informer.add_event_handler(on_delete=self._delete_pod)

    def informers(self) -> list[Any]:
        return [self.d_informer, self.rs_informer, self.pod_informer]

    # -- event handlers --------------------------------------------------------------------------
    def _resolve(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        if ref is None or ref.get("kind") != "Deployment":
            return None
        d = self.d_informer.indexer.get_by_name(namespace, str(ref.get("name") or ""))
        if d is None or d["metadata"].get("uid") != ref.get("uid"):
            return None
        return d

    def _deployments_for_rs(self, rs: Mapping[str, Any]) -> list[Obj]:
        labels = rs["metadata"].get("labels") or {}
        if not labels:
            return []
        out = []
        for d in self.d_informer.indexer.by_namespace(rs["metadata"].get("namespace", "")):
            try:
                if selector_matches((d.get("spec") or {}).get("selector"))(rs):
                    out.append(d)
            except ValueError:
                continue
        return out

    def _add_rs(self, rs: Obj) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            self._delete_rs(rs)
            return
        ref = controller_of(rs)
        if ref is not None:
            d = self._resolve(rs["metadata"].get("namespace", ""), ref)
            if d is not None:
                self.enqueue(d)
            return
        for d in self._deployments_for_rs(rs):
            self.enqueue(d)

    def _update_rs(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        ns = cur["metadata"].get("namespace", "")
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            d = self._resolve(ns, old_ref)
            if d is not None:
                self.enqueue(d)
        if cur_ref is not None:
            d = self._resolve(ns, cur_ref)
            if d is not None:
                self.enqueue(d)
            return
        labels_changed = (old["metadata"].get("labels") or {}) != (cur["metadata"].get("labels") or {})
        if labels_changed or ref_changed:
            for d in self._deployments_for_rs(cur):
                self.enqueue(d)

    def _delete_rs(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        rs = object_of(obj)
        d = self._resolve(rs["metadata"].get("namespace", ""), controller_of(rs))
        if d is not None:
            self.enqueue(d)

    def _delete_pod(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        """Recreate waits for old pods to be gone: a pod deletion may unblock it."""
        pod = object_of(obj)
        ns = pod["metadata"].get("namespace", "")
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rs_informer.indexer.get_by_name(ns, str(ref.get("name") or ""))
        if rs is None or rs["metadata"].get("uid") != ref.get("uid"):
            return
        d = self._resolve(ns, controller_of(rs))
        if d is None or ((d.get("spec") or {}).get("strategy") or {}).get("type") != "Recreate":
            return
        for sibling in self.rs_informer.indexer.by_index(OWNER_UID_INDEX, d["metadata"]["uid"]):
            if self.pod_informer.indexer.by_index(OWNER_UID_INDEX, sibling["metadata"]["uid"]):
                return
        self.enqueue(d)

    # -- writes used by the concern modules ------------------------------------------------------
    def now(self) -> float:
        return self.clock.time()

    def event(self, d: Mapping[str, Any], type_: EventType, reason: str, message: str) -> None:
        self.recorder.event(d, type_, reason, message)

    async def create_rs(self, rs: Obj) -> Obj:
        created: Obj = await self.client.create(self.rs_ref, rs, namespace=rs["metadata"]["namespace"])
        return created

    async def update_rs(self, rs: Obj) -> Obj:
        updated: Obj = await self.client.update(self.rs_ref, rs, namespace=rs["metadata"]["namespace"])
        return updated

    async def delete_rs(self, rs: Mapping[str, Any]) -> None:
        try:
            await self.client.delete(self.rs_ref, rs["metadata"]["name"], namespace=rs["metadata"]["namespace"])
        except ApiError as e:
            if not is_not_found(e):
                raise

    async def write_status(self, d: Obj) -> None:
        """PUT ``d``'s status; ``d`` picks up the new resourceVersion."""
        updated = await self.client.update_status(self.d_ref, d, namespace=d["metadata"]["namespace"])
        d["metadata"]["resourceVersion"] = updated["metadata"]["resourceVersion"]

    async def set_revision(self, d: Obj, revision: str) -> None:
        """Record the new ReplicaSet's revision on the Deployment (upstream SetDeploymentRevision)."""
        ann = d["metadata"].setdefault("annotations", {})
        if ann.get(REVISION_ANNOTATION) == revision:
            return
        updated = await self.client.patch(
            self.d_ref, d["metadata"]["name"], {"metadata": {"annotations": {REVISION_ANNOTATION: revision}}},
            namespace=d["metadata"]["namespace"], type="merge")
        ann[REVISION_ANNOTATION] = revision
        d["metadata"]["resourceVersion"] = updated["metadata"]["resourceVersion"]

    def pods_by_rs(self, rss: Sequence[Mapping[str, Any]]) -> dict[str, list[Obj]]:
        index = self.pod_informer.indexer
        return {rs["metadata"]["uid"]: index.by_index(OWNER_UID_INDEX, rs["metadata"]["uid"]) for rs in rss}

    # -- sync -------------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        cached = self.d_informer.indexer.get_by_key(key)
        if cached is None:
            return
        d = deepcopy(cached)
        selector = (d.get("spec") or {}).get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            self.event(d, WARNING, "SelectingAll",
                       "This deployment is selecting all pods. A non-empty selector is required.")
            generation = int(d["metadata"].get("generation") or 0)
            if int((d.get("status") or {}).get("observedGeneration") or 0) < generation:
                d.setdefault("status", {})["observedGeneration"] = generation
                await self.write_status(d)
            return
        rs_list = await self._claim_replica_sets(d)
        if d["metadata"].get("deletionTimestamp"):
            await sync_status_only(self, d, rs_list)
            return
        await check_paused_conditions(self, d)
        if (d.get("spec") or {}).get("paused"):
            await sync_paused_or_scaled(self, d, rs_list)
            return
        if await is_scaling_event(self, d, rs_list):
            await sync_paused_or_scaled(self, d, rs_list)
            return
        if ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            await rollout_recreate(self, d, rs_list, self.pods_by_rs(rs_list))
        else:
            await rollout_rolling(self, d, rs_list)

    async def _claim_replica_sets(self, d: Obj) -> list[Obj]:
        meta = d["metadata"]
        index = self.rs_informer.indexer
        owned = index.by_index(OWNER_UID_INDEX, meta["uid"])
        orphans = index.by_index(ORPHAN_INDEX, meta.get("namespace", ""))
        matches = selector_matches((d.get("spec") or {}).get("selector"))
        mine, adopt, release = claim(d, [*owned, *orphans], matches)
        result: list[Obj] = [dict(rs) for rs in mine if rs not in adopt]
        if adopt and await self._can_adopt(d):
            for rs in adopt:
                try:
                    result.append(await self.client.patch(self.rs_ref, rs["metadata"]["name"], adopt_patch(d, rs),
                                                          namespace=meta["namespace"], type="strategic"))
                except ApiError as e:
                    if not (is_not_found(e) or e.code == 422):
                        raise
        for rs in release:
            try:
                await self.client.patch(self.rs_ref, rs["metadata"]["name"], release_patch(d, rs),
                                        namespace=meta["namespace"], type="strategic")
            except ApiError as e:
                if not (is_not_found(e) or e.code == 422):
                    raise
        return result

    async def _can_adopt(self, d: Obj) -> bool:
        meta = d["metadata"]
        try:
            fresh = await self.client.get(self.d_ref, meta["name"], namespace=meta["namespace"])
        except ApiError as e:
            if is_not_found(e):
                return False
            raise
        return bool(fresh["metadata"].get("uid") == meta["uid"] and not fresh["metadata"].get("deletionTimestamp"))

