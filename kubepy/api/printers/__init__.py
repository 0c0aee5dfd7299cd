"""Server-side printing: ``meta.k8s.io/v1`` Tables for ``kubectl get``.

``printer_for(group, kind)`` returns the kind's ``TablePrinter`` (upstream's columns for
built-in kinds, the default Name/Created At table otherwise); ``crd_printer`` builds one
from a CRD's printer columns; ``build_table`` turns objects into the Table dict the API
server sends for LIST, GET and each WATCH event. Printers are built once, on first use
(their descriptions come from the OpenAPI definitions), and rows only read the objects:
the Table references each object's metadata dict rather than copying it.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable
from typing import Any

from . import apps, batch, cluster, core, networking, other, rbac, storage
from .columns import META, Cell, Column, Obj, TablePrinter, swagger_doc
from .crd import JSONPathError, crd_printer
from .helpers import human_duration, name

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")


class InvalidIncludeObject(ValueError):
    """``includeObject`` is not None, Metadata or Object (upstream answers 400)."""

    def __init__(self, value: str) -> None:
        super().__init__(f'unrecognized includeObject value: "{value}"')
        self.value = value


def _default_cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    return [name(obj), created or "0001-01-01T00:00:00Z"]


@functools.cache
def default_printer() -> TablePrinter:
    """Upstream's ``DefaultTableConvertor``: Name and Created At (an RFC 3339 ``date``)."""
    return TablePrinter(
        columns=(
            Column("Name", format="name", description=swagger_doc(META, "name")),
            Column("Created At", type="date", description=swagger_doc(META, "creationTimestamp")),
        ),
        cells=_default_cells,
    )


@functools.cache
def _registry() -> dict[tuple[str, str], TablePrinter]:
    table: dict[tuple[str, str], TablePrinter] = {}
    for module in (core, apps, batch, other, networking, rbac, storage, cluster):
        table.update(module.printers())
    return table


def printer_for(group: str, kind: str) -> TablePrinter:
    """The printer of a built-in kind, or the default printer for kinds without one."""
    return _registry().get((group, kind)) or default_printer()


def registered_kinds() -> list[tuple[str, str]]:
    """Every (group, kind) with its own printer."""
    return sorted(_registry())


def partial_object_metadata(obj: Obj, api_version: str = TABLE_API_VERSION) -> dict[str, Any]:
    """The ``PartialObjectMetadata`` of ``obj`` (shares, does not copy, its metadata)."""
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj.get("metadata") or {}}


def build_table(
    printer: TablePrinter,
    objects: Iterable[Obj],
    *,
    include_object: str = "Metadata",
    resource_version: str = "",
    continue_token: str = "",
    remaining_item_count: int | None = None,
    no_headers: bool = False,
    now: _dt.datetime | None = None,
    api_version: str = TABLE_API_VERSION,
) -> dict[str, Any]:
    """The ``Table`` dict for ``objects``.

    ``include_object`` is the ``includeObject`` parameter ("" means Metadata): rows carry a
    PartialObjectMetadata, the object itself, or nothing. ``no_headers`` leaves
    ``columnDefinitions`` null, as upstream does for watch events after the first.
    ``api_version`` is ``meta.k8s.io/v1`` or ``meta.k8s.io/v1beta1`` as negotiated.
    The result references the objects; encode it before they change.
    """
    mode = include_object or "Metadata"
    if mode not in INCLUDE_OBJECT_VALUES:
        raise InvalidIncludeObject(include_object)
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc)
    rows: list[dict[str, Any]] = []
    cells_fn = printer.cells
    conditions_fn = printer.conditions
    for obj in objects:
        row: dict[str, Any] = {"cells": cells_fn(obj, now)}
        if conditions_fn is not None:
            conditions = conditions_fn(obj)
            if conditions:
                row["conditions"] = conditions
        if mode == "Metadata":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": api_version,
                "metadata": obj.get("metadata") or {},
            }
        elif mode == "Object":
            row["object"] = obj
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": None if no_headers else printer.column_definitions(),
        "rows": rows,
    }


__all__ = [
    "Cell",
    "Column",
    "INCLUDE_OBJECT_VALUES",
    "InvalidIncludeObject",
    "JSONPathError",
    "TablePrinter",
    "build_table",
    "crd_printer",
    "default_printer",
    "human_duration",
    "partial_object_metadata",
    "printer_for",
    "registered_kinds",
]
