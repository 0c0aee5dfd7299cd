"""Column definitions and the per-kind row printer that server-side Tables are built from.

A ``TablePrinter`` pairs the columns upstream declares for a kind (``pkg/printers/
internalversion``) with a plain function that turns one object dict into its cells. The
API server always prints "wide" (every column, priority 1 included) because kubectl hides
priority>0 columns itself. Column definitions are turned into their wire dicts once per
printer, and the row function only reads the object: no copies, no regexes, since it runs
for every item of every LIST, GET and WATCH event that asks for a Table.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from kubepy.api import openapi_defs

#: One table cell as it goes on the wire: strings, JSON numbers, booleans or null.
Cell: TypeAlias = str | int | float | bool | None
#: An API object as stored and served (plain JSON-compatible dict).
Obj: TypeAlias = dict[str, Any]
CellsFn: TypeAlias = Callable[[Obj, _dt.datetime], list[Cell]]
ConditionsFn: TypeAlias = Callable[[Obj], list[dict[str, str]] | None]

META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.cache
def swagger_doc(definition: str, prop: str) -> str:
    """The description of ``prop`` in an OpenAPI definition ("" when either is unknown).

    Upstream fills most column descriptions from the Go types' ``SwaggerDoc()``, which is
    the same text the OpenAPI definitions carry.
    """
    schema = openapi_defs.definitions().get(definition)
    if schema is None:
        return ""
    node = schema.get("properties", {}).get(prop)
    if not isinstance(node, dict):
        return ""
    return str(node.get("description", ""))


@dataclass(frozen=True, slots=True)
class Column:
    """One ``meta.k8s.io/v1`` TableColumnDefinition."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def name_column(priority: int = 0) -> Column:
    """The ``Name`` column every printer starts with (``format: name`` marks the identifier)."""
    return Column("Name", format="name", description=swagger_doc(META, "name"), priority=priority)


def age_column() -> Column:
    return Column("Age", description=swagger_doc(META, "creationTimestamp"))


def doc_column(name: str, definition: str, prop: str, *, type: str = "string", priority: int = 0) -> Column:
    """A column whose description is a field's OpenAPI description."""
    return Column(name, type=type, description=swagger_doc(definition, prop), priority=priority)


CONTAINERS_DESC = "Names of each container in the template."
IMAGES_DESC = "Images referenced by each container in the template."


def containers_column(priority: int = 1) -> Column:
    return Column("Containers", description=CONTAINERS_DESC, priority=priority)


def images_column(priority: int = 1) -> Column:
    return Column("Images", description=IMAGES_DESC, priority=priority)


@dataclass(frozen=True)
class TablePrinter:
    """Columns of one kind plus the function that prints one object as a row.

    ``cells(obj, now)`` must return exactly one cell per column, in column order, and must
    not modify ``obj``. ``conditions(obj)`` optionally returns the row's ``conditions``
    (upstream marks finished pods with ``Completed``), or None.
    """

    columns: tuple[Column, ...]
    cells: CellsFn
    conditions: ConditionsFn | None = None
    _definitions: list[dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_definitions", [c.definition() for c in self.columns])

    def row(self, obj: Obj, now: _dt.datetime) -> list[Cell]:
        """The cells of ``obj`` as of ``now`` (an aware UTC datetime)."""
        return self.cells(obj, now)

    def row_conditions(self, obj: Obj) -> list[dict[str, str]] | None:
        return self.conditions(obj) if self.conditions is not None else None

    def column_definitions(self) -> list[dict[str, Any]]:
        """The wire ``columnDefinitions`` (built once; callers must not modify it)."""
        return self._definitions
