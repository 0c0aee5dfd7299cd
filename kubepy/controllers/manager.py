"""The controller manager: builds the enabled controllers and runs them while leading.

``CONTROLLERS`` is the explicit table of controller name → ``module:factory``; a factory
takes the ControllerContext and returns a Controller. Controllers are built before the
informers start (so every informer they ask for exists), then run only while this copy
holds the ``kube-controller-manager`` Lease, as upstream's does.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from kubepy.client import Client, EventRecorder, InformerFactory, LeaderElectionConfig, LeaderElector
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext

log = logging.getLogger(__name__)

#: name -> "module:factory" (upstream's controller names)
CONTROLLERS: dict[str, str] = {
    "replicaset": "kubepy.controllers.replicaset:new_replicaset",
    "replicationcontroller": "kubepy.controllers.replicaset:new_replicationcontroller",
    "deployment": "kubepy.controllers.deployment:new",
    "statefulset": "kubepy.controllers.statefulset:new",
    "daemonset": "kubepy.controllers.daemonset:new",
    "job": "kubepy.controllers.job:new",
    "cronjob": "kubepy.controllers.cronjob:new",
    "ttl-after-finished": "kubepy.controllers.ttlafterfinished:new",
    "garbagecollector": "kubepy.controllers.garbagecollector:new",
    "namespace": "kubepy.controllers.namespace:new",
    "endpoints": "kubepy.controllers.endpoints:new",
    "endpointslice": "kubepy.controllers.endpointslice:new",
    "serviceaccount": "kubepy.controllers.serviceaccount:new",
    "root-ca-cert-publisher": "kubepy.controllers.rootca:new",
    "nodelifecycle": "kubepy.controllers.nodelifecycle:new",
    "podgc": "kubepy.controllers.podgc:new",
    "nodeipam": "kubepy.controllers.nodeipam:new",
    "disruption": "kubepy.controllers.disruption:new",
}

LEASE_NAME = "kube-controller-manager"


def factory(name: str) -> Callable[[ControllerContext], Controller] | None:
    module_name, _, attr = CONTROLLERS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            return None
        raise
    fn: Callable[[ControllerContext], Controller] = getattr(module, attr)
    return fn


def enabled(spec: Iterable[str]) -> list[str]:
    """Upstream's --controllers syntax: ``*`` (all), ``name``, ``-name``."""
    items = [s.strip() for part in spec for s in part.split(",") if s.strip()]
    names: list[str] = []
    if not items or "*" in items:
        names = list(CONTROLLERS)
    for item in items:
        if item.startswith("-"):
            names = [n for n in names if n != item[1:]]
        elif item != "*" and item not in names:
            if item not in CONTROLLERS:
                raise ValueError(f'"{item}" is not in the list of known controllers')
            names.append(item)
    return names


class ControllerManager:
    def __init__(
        self,
        client: Client,
        *,
        controllers: Iterable[str] = ("*",),
        leader_elect: bool = True,
        identity: str | None = None,
        options: dict[str, Any] | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
    ) -> None:
        self.client = client
        self.names = enabled(controllers)
        self.leader_elect = leader_elect
        self.identity = identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.options = options or {}
        self.election = LeaderElectionConfig(
            name=LEASE_NAME, namespace="kube-system", identity=self.identity,
            lease_duration=lease_duration, renew_deadline=renew_deadline, retry_period=retry_period,
        )
        self.controllers: list[Controller] = []

    def _build(self) -> tuple[InformerFactory, EventRecorder]:
        informers = InformerFactory(self.client)
        recorder = EventRecorder(self.client, component="kube-controller-manager", host=socket.gethostname())
        ctx = ControllerContext(client=self.client, informers=informers, recorder=recorder, options=self.options)
        self.controllers = []
        for name in self.names:
            make = factory(name)
            if make is None:
                log.debug("controller %s is not available in this build", name)
                continue
            self.controllers.append(make(ctx))
        return informers, recorder

    async def _run_controllers(self) -> None:
        informers, recorder = self._build()
        log.info("starting controllers: %s", ", ".join(c.NAME for c in self.controllers))
        informers.start()
        try:
            await asyncio.gather(*(c.run() for c in self.controllers))
        finally:
            await informers.stop()
            await recorder.close()

    async def run(self) -> None:
        if not self.leader_elect:
            await self._run_controllers()
            return

        async def lead() -> None:
            await self._run_controllers()

        elector = LeaderElector(
            self.client, self.election,
            on_started_leading=lead,
            on_new_leader=lambda who: log.info("new leader elected: %s", who),
        )
        await elector.run()
        # upstream exits when it loses the lease; the supervisor starts a fresh copy
        log.error("leader election lost")
        raise LeadershipLost()


class LeadershipLost(Exception):
    """This copy stopped leading; its caches and queues are stale, so the process ends."""
