"""The ``kubepy`` command: one binary, many roles (k3s style).

``kubepy server`` runs the single-node cluster (API server + controller manager, each a
supervised child process);
``kubepy apiserver`` runs the API server alone. Later roles plug into the same table.
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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    commands: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, None]]] = {
        "server": _run_server,
        "apiserver": _run_apiserver,
        "controller-manager": _run_controller_manager,
    }
    try:
        asyncio.run(commands[args.command](args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
