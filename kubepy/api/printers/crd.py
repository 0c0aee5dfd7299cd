"""Tables for custom resources: columns from a CRD version's ``additionalPrinterColumns``.

Upstream's CRD table convertor evaluates each column's JSONPath with client-go's
``jsonpath`` (missing keys allowed) and converts the first match by the column type. This
module supports the simple paths CRDs use in practice: ``.a.b``, ``['a.b']``, ``[0]``,
``[-1]``, ``[*]`` and filters ``[?(@.type=="Ready")]`` (``==``/``!=`` against a string,
number or boolean literal). Paths are parsed once per column, never per row.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from .columns import META, Cell, Column, Obj, TablePrinter, name_column, swagger_doc
from .helpers import name, since

_Step = tuple[str, Any]  # ("key", name) | ("index", int) | ("all", None) | ("filter", (path, op, value))


class JSONPathError(ValueError):
    """A printer column's JSONPath is outside the supported subset."""


def _parse_literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise JSONPathError(f"unsupported literal {text!r}") from None


def parse_path(path: str) -> list[_Step]:
    """Parse a CRD column JSONPath (with or without the surrounding braces)."""
    p = path.strip()
    if p.startswith("{") and p.endswith("}"):
        p = p[1:-1].strip()
    if p.startswith("$"):
        p = p[1:]
    steps: list[_Step] = []
    i, n = 0, len(p)
    while i < n:
        ch = p[i]
        if ch == ".":
            i += 1
            if i < n and p[i] == ".":
                raise JSONPathError(f"recursive descent is not supported: {path!r}")
            start = i
            while i < n and p[i] not in ".[":
                i += 1
            key = p[start:i]
            if key == "*":
                steps.append(("all", None))
            elif key:
                steps.append(("key", key))
        elif ch == "[":
            end = p.find("]", i)
            if p.startswith("[?(", i):
                end = p.find(")]", i)
                if end < 0:
                    raise JSONPathError(f"unterminated filter in {path!r}")
                steps.append(("filter", _parse_filter(p[i + 3 : end], path)))
                i = end + 2
                continue
            if end < 0:
                raise JSONPathError(f"unterminated bracket in {path!r}")
            inner = p[i + 1 : end].strip()
            i = end + 1
            if inner == "*":
                steps.append(("all", None))
            elif inner[:1] in ("'", '"'):
                steps.append(("key", inner[1:-1]))
            else:
                try:
                    steps.append(("index", int(inner)))
                except ValueError:
                    raise JSONPathError(f"unsupported subscript [{inner}] in {path!r}") from None
        else:
            raise JSONPathError(f"unexpected {ch!r} in {path!r}")
    return steps


def _parse_filter(expr: str, path: str) -> tuple[list[_Step], str, Any]:
    for op in ("==", "!="):
        if op in expr:
            left, right = expr.split(op, 1)
            left = left.strip()
            if not left.startswith("@"):
                break
            return parse_path(left[1:]), op, _parse_literal(right)
    left = expr.strip()
    if left.startswith("@"):
        return parse_path(left[1:]), "exists", None
    raise JSONPathError(f"unsupported filter {expr!r} in {path!r}")


def find(data: Any, steps: Sequence[_Step]) -> Iterator[Any]:
    """All values ``steps`` select in ``data`` (missing keys select nothing)."""
    if not steps:
        yield data
        return
    kind, arg = steps[0]
    rest = steps[1:]
    if kind == "key":
        if isinstance(data, Mapping) and arg in data:
            yield from find(data[arg], rest)
    elif kind == "index":
        if isinstance(data, list) and -len(data) <= arg < len(data):
            yield from find(data[arg], rest)
    elif kind == "all":
        values = data.values() if isinstance(data, Mapping) else data if isinstance(data, list) else ()
        for v in values:
            yield from find(v, rest)
    elif kind == "filter":
        sub, op, literal = arg
        if isinstance(data, list):
            for item in data:
                found = list(find(item, sub))
                if op == "exists":
                    keep = bool(found)
                elif op == "==":
                    keep = any(v == literal for v in found)
                else:
                    keep = bool(found) and all(v != literal for v in found)
                if keep:
                    yield from find(item, rest)


def _text(value: Any) -> str:
    """client-go jsonpath's printing of one value: JSON for maps/lists, else plain text."""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cell_for(col_type: str, value: Any, now: _dt.datetime) -> Cell:
    """Upstream ``cellForJSONValue`` (and string printing) for one column type."""
    if col_type == "string":
        return _text(value)
    if value is None:
        return None
    if col_type == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        return None
    if col_type == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        return None
    if col_type == "boolean":
        return value if isinstance(value, bool) else None
    if col_type == "date":
        if isinstance(value, str):
            text = since(value, now)
            return "<invalid>" if text == "<unknown>" else text
        return None
    return None


DEFAULT_CRD_COLUMNS: tuple[dict[str, Any], ...] = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)


def crd_printer(printer_columns: Sequence[Mapping[str, Any]] | None) -> TablePrinter:
    """The printer of one CRD version from its ``additionalPrinterColumns``.

    With no columns the CRD gets ``Age`` (a ``date`` column on creationTimestamp), as
    upstream serves. Raises ``JSONPathError`` for a path outside the supported subset.
    """
    specs = list(printer_columns or ())
    if not specs:
        specs = [dict(DEFAULT_CRD_COLUMNS[0], description=swagger_doc(META, "creationTimestamp"))]
    columns: list[Column] = [name_column()]
    paths: list[tuple[str, list[_Step]]] = []
    for spec in specs:
        path = str(spec.get("jsonPath", ""))
        columns.append(
            Column(
                str(spec.get("name", "")),
                type=str(spec.get("type", "string")),
                format=str(spec.get("format", "")),
                description=str(
                    spec.get("description") or f"Custom resource definition column (in JSONPath format): {path}"
                ),
                priority=int(spec.get("priority", 0)),
            )
        )
        paths.append((columns[-1].type, parse_path(path)))

    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        row: list[Cell] = [name(obj)]
        for col_type, steps in paths:
            first = next(find(obj, steps), _MISSING)
            row.append(None if first is _MISSING else cell_for(col_type, first, now))
        return row

    return TablePrinter(columns=tuple(columns), cells=cells)


_MISSING = object()
