"""Table printers for networking.k8s.io: Ingresses, IngressClasses, NetworkPolicies,
ServiceCIDRs and IPAddresses (upstream v1.32 columns, wide: no address clipping)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import Cell, Column, Obj, TablePrinter, age_column, doc_column, name_column
from .helpers import NONE, age, format_label_selector, name


def format_hosts(rules: list[dict[str, Any]] | None) -> str:
    """``formatHosts``: up to three rule hosts, `` + N more...``, ``*`` when none."""
    rules = rules or []
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    if more:
        return f"{text} + {len(rules) - 3} more..."
    return text


def _ingress_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        addresses: set[str] = set()
        for ing in ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ():
            if ing.get("ip"):
                addresses.add(ing["ip"])
            elif ing.get("hostname"):
                addresses.add(ing["hostname"])
        cls = spec.get("ingressClassName")
        return [
            name(obj),
            NONE if cls is None else cls,
            format_hosts(spec.get("rules")),
            ",".join(sorted(addresses)),
            "80, 443" if spec.get("tls") else "80",
            age(obj, now),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "Class",
                description="The name of the IngressClass resource that should be used for additional configuration",
            ),
            Column("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
            Column("Address", description="Address is a list containing ingress points for the load-balancer"),
            Column("Ports", description="Ports of TLS configurations that open"),
            age_column(),
        ),
        cells=cells,
    )


def _ingress_class_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        params = spec.get("parameters")
        parameters = NONE
        if params is not None:
            parameters = params.get("kind", "")
            if params.get("apiGroup") is not None:
                parameters += "." + params["apiGroup"]
            parameters += "/" + params.get("name", "")
        return [name(obj), spec.get("controller") or "", parameters, age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Controller", description="Controller that is responsible for handling this class"),
            Column("Parameters", description="A reference to a resource with additional parameters"),
            age_column(),
        ),
        cells=cells,
    )


def _network_policy_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        selector = (obj.get("spec") or {}).get("podSelector") or {}
        return [name(obj), format_label_selector(selector), age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Pod-Selector", "io.k8s.api.networking.v1.NetworkPolicySpec", "podSelector"),
            age_column(),
        ),
        cells=cells,
    )


def _service_cidr_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), ",".join((obj.get("spec") or {}).get("cidrs") or ()), age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("CIDRs", "io.k8s.api.networking.v1beta1.ServiceCIDRSpec", "cidrs"),
            age_column(),
        ),
        cells=cells,
    )


def _ip_address_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        ref = (obj.get("spec") or {}).get("parentRef")
        parent = NONE
        if ref is not None:
            resource = ref.get("resource", "")
            group = ref.get("group", "")
            parent = (f"{resource}.{group}" if group else resource).lower()
            if ref.get("namespace"):
                parent += "/" + ref["namespace"]
            parent += "/" + ref.get("name", "")
        return [name(obj), parent, age(obj, now)]

    # upstream declares two columns but prints three cells; the Age column is added here
    # so that every row matches its column definitions.
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("ParentRef", "io.k8s.api.networking.v1beta1.IPAddressSpec", "parentRef"),
            age_column(),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    net = "networking.k8s.io"
    return {
        (net, "Ingress"): _ingress_printer(),
        (net, "IngressClass"): _ingress_class_printer(),
        (net, "NetworkPolicy"): _network_policy_printer(),
        (net, "ServiceCIDR"): _service_cidr_printer(),
        (net, "IPAddress"): _ip_address_printer(),
    }
