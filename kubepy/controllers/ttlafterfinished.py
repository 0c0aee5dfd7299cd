"""The TTL-after-finished controller: delete finished Jobs ``ttlSecondsAfterFinished`` later.

Job: upstream's ``ttl-after-finished`` controller. A Job with ``spec.ttlSecondsAfterFinished``
whose Complete or Failed condition is True expires at that condition's
``lastTransitionTime`` plus the TTL. Until then its key is requeued for the expiry time (on
the injected clock); after it, the Job is re-read from the API server (the cache may be
stale, and the TTL may just have been changed) and deleted with Foreground propagation and
a UID precondition, so its pods go first and a new Job of the same name is never touched.

Design: level-triggered and stateless: every decision is recomputed from the Job, so a
restart loses nothing. ``expires_at`` is the pure part, tested by a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.client import ApiError, DeleteOptions, Preconditions, is_not_found, split_key
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.job import is_finished, parse_time

__all__ = ["TTLAfterFinishedController", "new", "expires_at"]


def expires_at(job: Mapping[str, Any]) -> float | None:
    """Epoch seconds when a finished Job with a TTL may be deleted; None if it has no TTL,
    is not finished, or is already being deleted."""
    meta = job.get("metadata") or {}
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if ttl is None or meta.get("deletionTimestamp") or not is_finished(job):
        return None
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            finished = parse_time(c.get("lastTransitionTime"))
            if finished is None:
                return None
            return finished + float(ttl)
    return None


class TTLAfterFinishedController(Controller):
    NAME = "ttl-after-finished"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.jobs_ref = self.client.resource("batch/v1", "jobs")
        self.job_informer = ctx.informers.informer(self.jobs_ref)
        self.job_informer.add_event_handler(
            on_add=self._maybe_enqueue, on_update=lambda old, new: self._maybe_enqueue(new))

    def informers(self) -> list[Any]:
        return [self.job_informer]

    def _maybe_enqueue(self, job: dict[str, Any]) -> None:
        if expires_at(job) is not None:
            self.enqueue(job)

    async def sync(self, key: str) -> None:
        job = self.job_informer.indexer.get_by_key(key)
        if job is None:
            return
        expiry = expires_at(job)
        if expiry is None:
            return
        now = self.clock.time()
        if now < expiry:
            self.queue.add_after(key, expiry - now)
            return
        ns, name = split_key(key)
        # the cache may be stale: decide again on the live object
        try:
            fresh = await self.client.get(self.jobs_ref, name, namespace=ns)
        except ApiError as e:
            if is_not_found(e):
                return
            raise
        expiry = expires_at(fresh)
        if expiry is None:
            return
        now = self.clock.time()
        if now < expiry:
            self.queue.add_after(key, expiry - now)
            return
        self.log.info("deleting expired job %s", key)
        try:
            await self.client.delete(self.jobs_ref, name, namespace=ns, options=DeleteOptions(
                propagation_policy="Foreground", preconditions=Preconditions(uid=fresh["metadata"]["uid"])))
        except ApiError as e:
            if not is_not_found(e):
                raise


def new(ctx: ControllerContext) -> TTLAfterFinishedController:
    return TTLAfterFinishedController(ctx)
