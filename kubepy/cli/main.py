"""The ``kubepy`` command: one binary, many roles (k3s style).

``kubepy server`` runs the single-node cluster (API server, controller manager and
scheduler, each a supervised child process);
``kubepy apiserver``, ``kubepy controller-manager`` and ``kubepy scheduler`` run one
component alone. Later roles plug into the same table.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def _apiserver_args(p: argparse.ArgumentParser, default_port: int = 6443) -> None:
    p.add_argument("--data-dir", type=Path, required=True, help="where state, PKI and kubeconfigs live")
    p.add_argument("--bind-address", default="127.0.0.1")
    p.add_argument("--secure-port", type=int, default=default_port)
    p.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--token-auth-file", default=None, help="static token CSV: token,user,uid,\"group1,group2\"")
    p.add_argument("--service-cluster-ip-range", default="10.96.0.0/12")
    p.add_argument("--advertise-address", default=None)
    p.add_argument("--authorization-mode", choices=("AllowAuthenticated", "AlwaysAllow"), default="AllowAuthenticated")
    p.add_argument("--tls-san", action="append", default=[], help="extra DNS name or IP for the serving certificate")


async def _run_apiserver(args: argparse.Namespace) -> None:
    from kubepy.apiserver.server import APIServer, Config

    server = APIServer(Config(
        data_dir=args.data_dir.resolve(), bind_address=args.bind_address, secure_port=args.secure_port,
        storage=args.storage, token_auth_file=args.token_auth_file, service_cidr=args.service_cluster_ip_range,
        advertise_address=args.advertise_address, authorization_mode=args.authorization_mode,
        extra_sans=list(args.tls_san),
    ))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    kubeconfig = args.data_dir.resolve() / "admin.kubeconfig"
    print(f"ready: https://{server.advertise_address}:{server.port} kubeconfig={kubeconfig}", flush=True)
    await stop.wait()
    await server.stop()


async def _run_server(args: argparse.Namespace) -> None:
    from kubepy.server.supervisor import ServerConfig, run

    extra = ["--authorization-mode", args.authorization_mode, "--service-cluster-ip-range",
             args.service_cluster_ip_range]
    if args.token_auth_file:
        extra += ["--token-auth-file", args.token_auth_file]
    if args.advertise_address:
        extra += ["--advertise-address", args.advertise_address]
    for san in args.tls_san:
        extra += ["--tls-san", san]
    await run(ServerConfig(data_dir=args.data_dir.resolve(), port=args.secure_port, bind_address=args.bind_address,
                           storage=args.storage, apiserver_args=extra))


async def _run_controller_manager(args: argparse.Namespace) -> None:
    from kubepy.client import Client
    from kubepy.controllers.manager import ControllerManager

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Client(args.kubeconfig, user_agent="kube-controller-manager/v1.32.0 (linux/amd64) kubepy",
                      qps=args.kube_api_qps, burst=args.kube_api_burst) as client:
        manager = ControllerManager(
            client, controllers=args.controllers, leader_elect=args.leader_elect,
            identity=args.identity,
            options={"cluster_cidr": args.cluster_cidr, "node_cidr_mask_size": args.node_cidr_mask_size,
                     "node_monitor_grace_period": args.node_monitor_grace_period,
                     "pod_eviction_timeout": args.pod_eviction_timeout,
                     "terminated_pod_gc_threshold": args.terminated_pod_gc_threshold},
            lease_duration=args.leader_elect_lease_duration, renew_deadline=args.leader_elect_renew_deadline,
            retry_period=args.leader_elect_retry_period,
        )
        run = asyncio.create_task(manager.run())
        print(f"controller-manager started as {manager.identity}", flush=True)
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for t in (run, stopper):
            t.cancel()
        await asyncio.gather(run, stopper, return_exceptions=True)
        if run in done and run.exception() is not None:
            raise SystemExit(1)


async def _run_sim(args: argparse.Namespace) -> None:
    from kubepy.client import Client
    from kubepy.sim import NodeTemplate, Simulator, parse_labels, parse_taints

    template = NodeTemplate(name_prefix=args.name_prefix, cpu=args.cpu, memory=args.memory, pods=args.pods,
                            zones=args.zones, labels=parse_labels(args.labels), taints=parse_taints(args.taints))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Client(args.kubeconfig, user_agent="kubelet/v1.32.0 (linux/amd64) kubepy-sim",
                      qps=args.kube_api_qps or None, burst=args.kube_api_burst) as client:
        sim = Simulator(client, template, args.nodes, lease_interval=args.lease_interval, workers=args.workers)
        await sim.start()
        print(f"sim started: {args.nodes} nodes", flush=True)
        await stop.wait()
        await sim.stop(delete_nodes=args.delete_on_exit)


def _sim_parser(sub: Any) -> None:
    p = sub.add_parser("sim", help="simulate nodes: Node objects, leases, and a kubelet's pod status (no processes)")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--cpu", default="32")
    p.add_argument("--memory", default="256Gi")
    p.add_argument("--pods", default="110")
    p.add_argument("--labels", default="", help="extra node labels: k=v,k2=v2")
    p.add_argument("--taints", default="", help="node taints: k=v:NoSchedule,k:NoExecute")
    p.add_argument("--name-prefix", default="sim-node-")
    p.add_argument("--zones", type=int, default=3, help="topology.kubernetes.io/zone values to spread over (0: none)")
    p.add_argument("--lease-interval", type=float, default=10.0, help="seconds between a node's lease renewals")
    p.add_argument("--workers", type=int, default=32, help="concurrent pod status writes")
    p.add_argument("--delete-on-exit", type=_bool, default=False, help="delete the nodes and leases on exit")
    p.add_argument("--kube-api-qps", type=float, default=2000.0, help="client-side rate limit (0: none)")
    p.add_argument("--kube-api-burst", type=int, default=4000)


async def _run_scheduler(args: argparse.Namespace) -> None:
    import socket
    import uuid

    from kubepy.client import Client
    from kubepy.scheduler import config as sconfig
    from kubepy.scheduler.scheduler import LeadershipLost, Scheduler

    try:
        cfg = sconfig.load(args.config) if args.config else sconfig.default_config()
    except (OSError, sconfig.ConfigError) as e:
        print(f"error: invalid scheduler configuration: {e}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    le = cfg.leader_election
    if args.leader_elect is not None:
        le.leader_elect = args.leader_elect
    for flag, attr in (("leader_elect_lease_duration", "lease_duration"),
                       ("leader_elect_renew_deadline", "renew_deadline"),
                       ("leader_elect_retry_period", "retry_period")):
        if getattr(args, flag) is not None:
            setattr(le, attr, getattr(args, flag))
    # upstream defaults to 50/100; binding 500 pods/s (a bind and an event each) needs more
    qps = args.kube_api_qps if args.kube_api_qps is not None else (cfg.client_qps or 2000.0)
    burst = args.kube_api_burst if args.kube_api_burst is not None else (cfg.client_burst or 4000)
    identity = args.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Client(args.kubeconfig, user_agent="kube-scheduler/v1.32.0 (linux/amd64) kubepy",
                      qps=qps or None, burst=burst) as client:
        sched = Scheduler(client, cfg)
        run = asyncio.create_task(sched.serve(
            leader_elect=le.leader_elect, identity=identity,
            on_ready=lambda: print(f"scheduler started as {identity}", flush=True)))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for t in (run, stopper):
            t.cancel()
        await asyncio.gather(run, stopper, return_exceptions=True)
        await sched.stop()
        if run in done and not run.cancelled() and run.exception() is not None:
            if not isinstance(run.exception(), LeadershipLost):
                logging.getLogger("kubepy.scheduler").error("scheduler failed: %r", run.exception())
            raise SystemExit(1)


def _scheduler_parser(sub: Any) -> None:
    p = sub.add_parser("scheduler", help="run the scheduler (kube-scheduler)")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--config", default=None, help="a KubeSchedulerConfiguration file")
    p.add_argument("--leader-elect", type=_bool, default=None, help="default: the config's (true)")
    p.add_argument("--identity", default=None, help="leader election identity (default: hostname_uuid)")
    p.add_argument("--leader-elect-lease-duration", type=float, default=None)
    p.add_argument("--leader-elect-renew-deadline", type=float, default=None)
    p.add_argument("--leader-elect-retry-period", type=float, default=None)
    p.add_argument("--kube-api-qps", type=float, default=None, help="client-side rate limit (0: none)")
    p.add_argument("--kube-api-burst", type=int, default=None)


def _bool(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubepy", description="Kubernetes, written in Python")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="run a single-node cluster")
    _apiserver_args(server)
    apiserver = sub.add_parser("apiserver", help="run the API server")
    _apiserver_args(apiserver)
    cm = sub.add_parser("controller-manager", help="run the controller manager")
    cm.add_argument("--kubeconfig", required=True)
    cm.add_argument("--controllers", action="append", default=[], help="*, name or -name (repeatable, comma lists)")
    cm.add_argument("--leader-elect", type=_bool, default=True)
    cm.add_argument("--identity", default=None)
    cm.add_argument("--leader-elect-lease-duration", type=float, default=15.0)
    cm.add_argument("--leader-elect-renew-deadline", type=float, default=10.0)
    cm.add_argument("--leader-elect-retry-period", type=float, default=2.0)
    cm.add_argument("--cluster-cidr", default="10.244.0.0/16")
    cm.add_argument("--node-cidr-mask-size", type=int, default=24)
    cm.add_argument("--node-monitor-grace-period", type=float, default=40.0)
    cm.add_argument("--pod-eviction-timeout", type=float, default=300.0)
    cm.add_argument("--terminated-pod-gc-threshold", type=int, default=12500)
    # upstream defaults to 20/30; a kubepy API server on the same machine takes far more
    cm.add_argument("--kube-api-qps", type=float, default=300.0)
    cm.add_argument("--kube-api-burst", type=int, default=600)
    _sim_parser(sub)
    _scheduler_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    commands: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, None]]] = {
        "server": _run_server,
        "apiserver": _run_apiserver,
        "controller-manager": _run_controller_manager,
        "scheduler": _run_scheduler,
        "sim": _run_sim,
    }
    try:
        asyncio.run(commands[args.command](args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
