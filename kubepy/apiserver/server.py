"""The API server process: storage, watch cache, request pipeline and HTTPS listener.

``APIServer.start()`` opens the store, fills the watch cache, creates the default
objects, and listens; it writes ``<data-dir>/admin.kubeconfig`` so kubectl works at once.
Everything is one asyncio loop; SQLite work runs in the store's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kubepy.api.resources import Registry, ResourceInfo, is_stored
from kubepy.apiserver import authz
from kubepy.apiserver.admission import Chain
from kubepy.apiserver.admission.default_tolerations import DefaultTolerationSeconds
from kubepy.apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from kubepy.apiserver.admission.service_account import ServiceAccount
from kubepy.apiserver.app import App
from kubepy.apiserver.authn import Authenticator, UserInfo
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.handlers.discovery import Discovery
from kubepy.apiserver.registry.generic import ResourceStore, rfc3339
from kubepy.apiserver.registry import make_strategy
from kubepy.apiserver.registry.services import Allocator, ServiceStrategy
from kubepy.apiserver.registry.strategy import Strategy
from kubepy.apiserver.watchcache import WatchCache
from kubepy.storage import Store, open_store

log = logging.getLogger(__name__)

KUBE_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0+kubepy",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-27T00:00:00Z",
    "goVersion": "go1.23.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(kw_only=True)
class Config:
    data_dir: Path
    bind_address: str = "127.0.0.1"
    secure_port: int = 6443
    storage: str = "sqlite"
    token_auth_file: str | None = None
    service_cidr: str = "10.96.0.0/12"
    advertise_address: str | None = None
    authorization_mode: str = "AllowAuthenticated"  # or AlwaysAllow
    extra_sans: list[str] = field(default_factory=list)
    compaction_interval: float = 300.0
    keep_revisions: int = 50_000


class APIServer:
    def __init__(self, config: Config, *, clock: Any = time.time) -> None:
        self.config = config
        self.clock = clock
        self.registry = Registry()
        self.store: Store = open_store(
            config.storage, str(config.data_dir / "state.db") if config.storage == "sqlite" else None
        )
        self.watch_cache = WatchCache(self.store)
        self.stores: dict[tuple[str, str, str], ResourceStore] = {}
        self.discovery = Discovery(self.registry)
        self.advertise_address = config.advertise_address or (
            config.bind_address if config.bind_address not in ("0.0.0.0", "::") else "127.0.0.1"
        )
        self.ready = False
        self.authenticator: Authenticator
        self.authorizer: authz.Authorizer
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = config.secure_port
        from kubepy.apiserver.openapi import OpenAPIDocuments

        self.openapi = OpenAPIDocuments(self.registry)

    # -- wiring ---------------------------------------------------------------------------
    def store_for(self, info: ResourceInfo) -> ResourceStore:
        return self.stores[(info.group, info.version, info.plural)]

    def _strategy(self, info: ResourceInfo) -> Strategy:
        if (info.group, info.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            from kubepy.apiserver.crds.strategy import CRDStrategy

            return CRDStrategy(info)
        strategy = make_strategy(info)
        if isinstance(strategy, ServiceStrategy):
            strategy.allocator = self.services.allocator
        return strategy

    def _build_stores(self) -> None:
        ns_info = self.registry.get("", "v1", "namespaces")
        assert ns_info is not None

        def lookup_namespace(name: str) -> dict[str, Any] | None:
            cached = self.watch_cache.caches[ns_info.key_prefix()].get(ns_info.key(None, name))
            return cached.obj if cached is not None else None

        svc_info = self.registry.get("", "v1", "services")
        assert svc_info is not None

        def existing_services() -> Any:
            return (c.obj for c in self.watch_cache.caches[svc_info.key_prefix()].objects.values())

        self.services = ServiceStrategy(svc_info)
        self.services.allocator = Allocator(existing_services, self.config.service_cidr)
        from kubepy.apiserver.admission.priority import Priority
        from kubepy.apiserver.registry.certificates import RequestorAdmission

        self.admission = Chain([
            NamespaceLifecycle(lookup_namespace), ServiceAccount(), DefaultTolerationSeconds(),
            Priority.for_server(self), RequestorAdmission(),
        ])
        for info in self.registry:
            if not is_stored(info):
                continue
            self.stores[(info.group, info.version, info.plural)] = ResourceStore(
                info, store=self.store, cache=self.watch_cache, strategy=self._strategy(info),
                admission=self.admission, clock=self.clock,
            )

    def _build_auth(self, pki: Any) -> None:
        from kubepy.apiserver.authn.serviceaccount_token import ServiceAccountAuthenticator
        from kubepy.apiserver.authn.token_file import TokenFileAuthenticator
        from kubepy.apiserver.authn.union import UnionAuthenticator
        from kubepy.apiserver.authn.x509 import X509Authenticator
        from kubepy.pki import certs

        authenticators: list[Authenticator] = [X509Authenticator(clock=self.clock)]
        if self.config.token_auth_file:
            authenticators.append(TokenFileAuthenticator(self.config.token_auth_file))
        sa_pub = certs.load_public_key_pem(pki.service_account_pub.read_bytes())
        self.service_account_key = certs.read_key(pki.service_account_key)
        authenticators.append(ServiceAccountAuthenticator(sa_pub, self.issuer, [self.issuer], clock=self.clock))
        self.authenticator = UnionAuthenticator(authenticators)
        if self.config.authorization_mode == "AlwaysAllow":
            self.authorizer = authz.AlwaysAllow()
        else:
            self.authorizer = authz.Union([authz.AllowAuthenticated()])

    @property
    def issuer(self) -> str:
        return "https://kubernetes.default.svc.cluster.local"

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        from kubepy.pki import bootstrap, kubeconfig, tls

        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        ips = [self.advertise_address] + [s for s in cfg.extra_sans if s[:1].isdigit()]
        hosts = [socket.gethostname()] + [s for s in cfg.extra_sans if not s[:1].isdigit()]
        pki_task = loop.run_in_executor(
            None, lambda: bootstrap.ensure_pki(cfg.data_dir, hostnames=hosts, ips=ips,
                                               service_ip=Allocator(lambda: (), cfg.service_cidr).service_ip(1))
        )
        await self.store.start()
        self._build_stores()
        await self.watch_cache.start(info.key_prefix() for info in self.registry if is_stored(info))
        self._tune_gc()
        pki = await pki_task
        self._build_auth(pki)
        self.discovery.server_address = f"{self.advertise_address}:{cfg.secure_port}"
        from kubepy.apiserver.bootstrap import ensure_defaults

        ssl_ctx = tls.server_ssl_context(pki.apiserver_cert, pki.apiserver_key, pki.ca_cert)
        app = App(self).build()
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.bind_address, cfg.secure_port, ssl_context=ssl_ctx, backlog=2048)
        await site.start()
        if cfg.secure_port == 0:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                self.port = server.sockets[0].getsockname()[1]
                cfg.secure_port = self.port
        await ensure_defaults(self)
        kubeconfig.write_kubeconfig(
            cfg.data_dir / "admin.kubeconfig",
            server=f"https://{self.advertise_address if ':' not in self.advertise_address else '[' + self.advertise_address + ']'}:{self.port}",
            ca_pem=pki.ca_cert.read_bytes(),
            client_cert_pem=pki.admin_cert.read_bytes(),
            client_key_pem=pki.admin_key.read_bytes(),
        )
        await self._start_crds()
        self._tasks.append(asyncio.create_task(self._compactor(), name="compactor"))
        self._tasks.append(asyncio.create_task(self._gc_freezer(), name="gc-freezer"))
        self.ready = True
        log.info("kubepy apiserver listening on https://%s:%s", cfg.bind_address, self.port)

    async def stop(self) -> None:
        self.ready = False
        await self._stop_crds()
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self.watch_cache.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.store.close()

    # -- custom resources -------------------------------------------------------------------
    async def _start_crds(self) -> None:
        """Serve the stored CRDs (before /readyz turns ok) and start the CRD controller."""
        from kubepy.apiserver.crds.controller import CRDController

        self.crds = CRDController(self)
        await self.crds.start()

    async def _stop_crds(self) -> None:
        crds = getattr(self, "crds", None)
        if crds is not None:
            await crds.stop()

    @staticmethod
    def _tune_gc() -> None:
        """Keep the cyclic GC off the request path.

        The watch cache holds millions of small dicts and lists; a full collection walks
        all of them (100+ ms pauses under load). They form no reference cycles, so moving
        them to the permanent generation (gc.freeze) is safe: reference counting still
        frees them. Young collections run less often too.
        """
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 50)

    async def _gc_freezer(self) -> None:
        while True:
            await asyncio.sleep(30)
            gc.freeze()

    async def _compactor(self) -> None:
        while True:
            await asyncio.sleep(self.config.compaction_interval)
            target = self.store.current_revision() - self.config.keep_revisions
            if target > self.store.compacted_revision():
                try:
                    await self.store.compact(target)
                except Exception:  # pragma: no cover - logged and retried next round
                    log.exception("compaction failed")

    # -- helpers used by handlers ---------------------------------------------------------
    def version_info(self) -> dict[str, str]:
        return KUBE_VERSION

    def now_rfc3339(self) -> str:
        return rfc3339(self.clock())

    def table(
        self, objects: list[dict[str, Any]], info: ResourceInfo, ctx: Context, meta: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from kubepy.api import printers

        printer = info.extra.get("printer")  # custom resources: their CRD's printer columns
        if not isinstance(printer, printers.TablePrinter):
            printer = printers.printer_for(info.group, info.kind)
        include = ctx.query.get("includeObject", "Metadata")
        meta = meta or {}
        try:
            return printers.build_table(
                printer, objects, include_object=include,
                resource_version=meta.get("resourceVersion", ""), continue_token=meta.get("continue", ""),
                remaining_item_count=meta.get("remainingItemCount"),
            )
        except printers.InvalidIncludeObject:
            from kubepy.apiserver import errors

            raise errors.bad_request(f'unrecognized includeObject value: "{include}"') from None

    async def rules_for(self, user: UserInfo, namespace: str) -> dict[str, Any]:
        """SelfSubjectRulesReview status: everything, while authorization allows all."""
        return {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
