"""Table printers for coordination, discovery and events.k8s.io kinds.

events.k8s.io/v1 Events print exactly like core Events (upstream converts both to one
internal type); only the field names differ, which ``EventFields`` maps.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import Cell, Obj, TablePrinter, age_column, doc_column, name_column
from .core import EventFields, event_printer
from .helpers import age, list_with_more, name

EVENTS_V1_FIELDS = EventFields(
    regarding="regarding",
    message="note",
    first="deprecatedFirstTimestamp",
    last="deprecatedLastTimestamp",
    count="deprecatedCount",
    source="deprecatedSource",
)


def _lease_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), (obj.get("spec") or {}).get("holderIdentity") or "", age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Holder", "io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity"),
            age_column(),
        ),
        cells=cells,
    )


def _lease_candidate_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        return [
            name(obj),
            spec.get("leaseName") or "",
            spec.get("binaryVersion") or "",
            spec.get("emulationVersion") or "",
            age(obj, now),
        ]

    spec = "io.k8s.api.coordination.v1alpha2.LeaseCandidateSpec"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("LeaseName", spec, "leaseName"),
            doc_column("BinaryVersion", spec, "binaryVersion"),
            doc_column("EmulationVersion", spec, "emulationVersion"),
            age_column(),
        ),
        cells=cells,
    )


def format_discovery_ports(ports: list[dict[str, Any]] | None) -> str:
    """``formatDiscoveryPorts``: port numbers (or names, or ``*``), three at most."""
    items: list[str] = []
    count = 0
    for port in ports or ():
        if len(items) < 3:
            number = port.get("port")
            label = port.get("name")
            items.append(str(number) if number is not None else (str(label) if label is not None else "*"))
        count += 1
    return list_with_more(items, count)


def format_discovery_endpoints(endpoints: list[dict[str, Any]] | None) -> str:
    """``formatDiscoveryEndpoints``: endpoint addresses, three at most."""
    items: list[str] = []
    count = 0
    for endpoint in endpoints or ():
        for address in endpoint.get("addresses") or ():
            if len(items) < 3:
                items.append(str(address))
            count += 1
    return list_with_more(items, count)


def _endpoint_slice_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [
            name(obj),
            obj.get("addressType") or "",
            format_discovery_ports(obj.get("ports")),
            format_discovery_endpoints(obj.get("endpoints")),
            age(obj, now),
        ]

    es = "io.k8s.api.discovery.v1.EndpointSlice"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("AddressType", es, "addressType"),
            doc_column("Ports", es, "ports"),
            doc_column("Endpoints", es, "endpoints"),
            age_column(),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    return {
        ("coordination.k8s.io", "Lease"): _lease_printer(),
        ("coordination.k8s.io", "LeaseCandidate"): _lease_candidate_printer(),
        ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice_printer(),
        ("events.k8s.io", "Event"): event_printer(EVENTS_V1_FIELDS),
    }
