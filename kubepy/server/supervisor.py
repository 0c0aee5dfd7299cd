"""The single-node cluster: API server first, then the components that talk to it.

Each component gets its own client certificate and kubeconfig in the data dir
(``system:kube-controller-manager``, ``system:kube-scheduler``), starts as a child process, and is
restarted if it crashes. Ctrl-C / SIGTERM stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

from kubepy.server.executor import Child, Executor

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class ServerConfig:
    data_dir: Path
    port: int = 6443
    bind_address: str = "127.0.0.1"
    storage: str = "sqlite"
    apiserver_args: list[str] = field(default_factory=list)
    controllers: bool = True


def component_kubeconfig(data_dir: Path, name: str, user: str, groups: tuple[str, ...] = ()) -> Path:
    """A kubeconfig for one component, with its own client certificate, next to admin's."""
    from kubepy.pki import bootstrap, kubeconfig

    paths = bootstrap.PKIPaths.under(data_dir)
    crt, key = bootstrap.ensure_client_cert(paths, name, user=user, groups=groups)
    admin = kubeconfig.load_kubeconfig(data_dir / "admin.kubeconfig")
    return kubeconfig.write_kubeconfig(
        data_dir / f"{name}.kubeconfig", server=admin.server, ca_pem=admin.ca_pem,
        client_cert_pem=crt.read_bytes(), client_key_pem=key.read_bytes(), user_name=name,
    )


async def run(cfg: ServerConfig) -> None:
    ex = Executor(cfg.data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    children: list[Child] = []
    supervisors: list[asyncio.Task[None]] = []
    try:
        api = await ex.apiserver(port=cfg.port, bind_address=cfg.bind_address, storage=cfg.storage,
                                 extra=cfg.apiserver_args)
        children.append(api)
        await api.wait_ready()
        supervisors.append(asyncio.create_task(api.supervise()))
        if cfg.controllers:
            kc = await loop.run_in_executor(None, component_kubeconfig, cfg.data_dir, "controller-manager",
                                            "system:kube-controller-manager")
            cm = await ex.controller_manager(kubeconfig=kc, extra=[])
            children.append(cm)
            await cm.wait_ready()
            supervisors.append(asyncio.create_task(cm.supervise()))
            kc = await loop.run_in_executor(None, component_kubeconfig, cfg.data_dir, "scheduler",
                                            "system:kube-scheduler")
            sched = await ex.scheduler(kubeconfig=kc, extra=[])
            children.append(sched)
            await sched.wait_ready()
            supervisors.append(asyncio.create_task(sched.supervise()))
        kubeconfig = cfg.data_dir / "admin.kubeconfig"
        print(f"kubepy is running: API server at https://{cfg.bind_address}:{cfg.port}", flush=True)
        print(f"components: {', '.join(c.name for c in children)} (logs in {cfg.data_dir / 'logs'})", flush=True)
        print("Point kubectl at it with:", flush=True)
        print(f"  export KUBECONFIG={kubeconfig}", flush=True)
        await stop.wait()
    finally:
        for t in supervisors:
            t.cancel()
        for child in reversed(children):
            await child.stop()
        print("kubepy stopped", flush=True)
