"""Label and field selectors: parsing, matching and formatting, as upstream apimachinery does.

Label selectors follow ``k8s.io/apimachinery/pkg/labels``: the string syntax (``a=b``,
``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, ``a>1``, ``a<1``,
comma = AND), its parse error messages (the API server returns them in a 400), the
structured ``{matchLabels, matchExpressions}`` form (``metav1.LabelSelectorAsSelector``) and
its printed form (``metav1.FormatLabelSelector``). Field selectors follow
``k8s.io/apimachinery/pkg/fields`` (``f=v``, ``f==v``, ``f!=v``, backslash escaping of
``\\``, ``,`` and ``=`` in values) plus the per-kind field sets of upstream's strategies
(``field_value``).

Matching runs for every object of every LIST and every watch event, so both selector
types are parsed once into flat tuples that ``matches`` walks without further allocation,
and ``field_value`` uses one precompiled getter per field name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.api.field_errors import render_value
from kubepy.api.validation.names import is_qualified_name, is_valid_label_value

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "escape_field_value",
    "field_value",
    "from_label_selector_dict",
    "parse_field_selector",
    "parse_label_selector",
    "selector_to_string",
]


class SelectorError(ValueError):
    """A selector that does not parse or validate; ``str(err)`` is upstream's message."""


# --------------------------------------------------------------------------------------
# Label selector operators (upstream selection.Operator values)

IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
_INT64_RE = re.compile(r"[+-]?[0-9]+\Z")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# match codes (ints compare faster than strings in the hot loop)
_M_HAS, _M_NOT, _M_EXISTS, _M_ABSENT, _M_GT, _M_LT = range(6)
_MATCH_CODE = {
    IN: _M_HAS, EQUALS: _M_HAS, DOUBLE_EQUALS: _M_HAS,
    NOT_IN: _M_NOT, NOT_EQUALS: _M_NOT,
    EXISTS: _M_EXISTS, DOES_NOT_EXIST: _M_ABSENT,
    GREATER_THAN: _M_GT, LESS_THAN: _M_LT,
}


def _parse_int64(s: str) -> int | None:
    """Go's strconv.ParseInt(s, 10, 64): sign allowed, no spaces or underscores."""
    if not _INT64_RE.match(s):
        return None
    n = int(s)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


def _go_string_slice(values: Iterable[str]) -> str:
    """How Go's %#v prints a []string (in field.Invalid messages)."""
    return "[]string{" + ", ".join(render_value(v) for v in values) + "}"


def _aggregate(messages: list[str]) -> str:
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``key <op> values`` term; ``values`` sorted and de-duplicated, as upstream keeps them."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return LabelSelector((self,)).matches(labels)

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        joined = self.values[0] if len(self.values) == 1 else ",".join(self.values)
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({joined})"
        sym = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{sym}{joined}"


def new_requirement(key: str, operator: str, values: Iterable[str], *, path: str = "") -> Requirement:
    """Upstream ``labels.NewRequirement``: validates and returns the requirement.

    ``path`` prefixes the field paths in error messages (upstream passes none for
    selectors given as strings or as ``metav1.LabelSelector``).
    """
    given = list(values)
    errs: list[str] = []
    key_path = f"{path}.key" if path else "key"
    values_path = f"{path}.values" if path else "values"
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(f"{key_path}: Invalid value: {render_value(key)}: {'; '.join(key_errs)}")
    if operator in (IN, NOT_IN):
        if not given:
            errs.append(f"{values_path}: Invalid value: {_go_string_slice(given)}: "
                        "for 'in', 'notin' operators, values set can't be empty")
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(given) != 1:
            errs.append(f"{values_path}: Invalid value: {_go_string_slice(given)}: "
                        "exact-match compatibility requires one single value")
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if given:
            errs.append(f"{values_path}: Invalid value: {_go_string_slice(given)}: "
                        "values set must be empty for exists and does not exist")
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(given) != 1:
            errs.append(f"{values_path}: Invalid value: {_go_string_slice(given)}: "
                        "for 'Gt', 'Lt' operators, exactly one value is required")
        for i, v in enumerate(given):
            if _parse_int64(v) is None:
                errs.append(f"{values_path}[{i}]: Invalid value: {render_value(v)}: "
                            "for 'Gt', 'Lt' operators, the value must be an integer")
    else:
        supported = ", ".join(render_value(o) for o in (
            IN, NOT_EQUALS, NOT_IN, EQUALS, EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN, DOUBLE_EQUALS))
        op_path = f"{path}.operator" if path else "operator"
        errs.append(f"{op_path}: Unsupported value: {render_value(operator)}: supported values: {supported}")
    for i, v in enumerate(given):
        value_errs = is_valid_label_value(v)
        if value_errs:
            errs.append(f"{values_path}[{i}][{key}]: Invalid value: {render_value(v)}: {'; '.join(value_errs)}")
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(sorted(given)))


class LabelSelector:
    """A conjunction of requirements, sorted by key. Immutable; cheap to match."""

    __slots__ = ("requirements", "_nothing", "_terms")

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        reqs = tuple(sorted(requirements, key=lambda r: r.key))
        self.requirements: tuple[Requirement, ...] = reqs
        self._nothing = nothing
        terms: list[tuple[str, int, frozenset[str], int]] = []
        for r in reqs:
            code = _MATCH_CODE[r.operator]
            bound = 0
            if code in (_M_GT, _M_LT):
                parsed = _parse_int64(r.values[0]) if len(r.values) == 1 else None
                if parsed is None:  # never matches, as upstream
                    self._nothing = True
                else:
                    bound = parsed
            terms.append((r.key, code, frozenset(r.values), bound))
        self._terms = tuple(terms)

    @property
    def empty(self) -> bool:
        """Selects everything (no requirements)."""
        return not self.requirements and not self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        if not self._terms:
            return True
        if labels is None:
            labels = {}
        for key, code, values, bound in self._terms:
            if code == _M_HAS:
                v = labels.get(key)
                if v is None or v not in values:
                    return False
            elif code == _M_NOT:
                v = labels.get(key)
                if v is not None and v in values:
                    return False
            elif code == _M_EXISTS:
                if key not in labels:
                    return False
            elif code == _M_ABSENT:
                if key in labels:
                    return False
            else:
                v = labels.get(key)
                if v is None:
                    return False
                n = _parse_int64(v)
                if n is None:
                    return False
                if code == _M_GT:
                    if not n > bound:
                        return False
                elif not n < bound:
                    return False
        return True

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"LabelSelector({str(self)!r}{', nothing=True' if self._nothing else ''})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LabelSelector) and other.requirements == self.requirements
                and other._nothing == self._nothing)

    def __hash__(self) -> int:
        return hash((self.requirements, self._nothing))


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(nothing=True)


# --------------------------------------------------------------------------------------
# Label selector string parser (upstream's lexer + recursive-descent parser)

_T_ERROR, _T_EOS, _T_CLOSE, _T_COMMA, _T_NOT, _T_DEQ, _T_EQ, _T_GT, _T_ID, _T_IN, _T_LT, _T_NEQ, \
    _T_NOTIN, _T_OPEN = range(14)
_SYMBOL_TOKENS = {")": _T_CLOSE, ",": _T_COMMA, "!": _T_NOT, "==": _T_DEQ, "=": _T_EQ, ">": _T_GT,
                  "<": _T_LT, "!=": _T_NEQ, "(": _T_OPEN}
_KEYWORDS = {"in": _T_IN, "notin": _T_NOTIN}
_SPECIAL = frozenset("=!(),<>")
_SPACE = frozenset(" \t\r\n")


def _lex(s: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in _SPACE:
            i += 1
        if i >= n:
            out.append((_T_EOS, ""))
            return out
        ch = s[i]
        if ch in _SPECIAL:
            # longest run of special symbols that still forms a known token
            j = i
            best: tuple[int, str] | None = None
            while j < n and s[j] in _SPECIAL:
                tok = _SYMBOL_TOKENS.get(s[i:j + 1])
                if tok is not None:
                    best = (tok, s[i:j + 1])
                elif best is not None:
                    break
                j += 1
            if best is None:
                out.append((_T_ERROR, f"error expected: keyword found '{s[i:j]}'"))
                return out
            out.append(best)
            i += len(best[1])
        else:
            j = i
            while j < n and s[j] not in _SPECIAL and s[j] not in _SPACE:
                j += 1
            word = s[i:j]
            out.append((_KEYWORDS.get(word, _T_ID), word))
            i = j


class _Parser:
    __slots__ = ("_tokens", "_pos")

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._pos = 0

    def _peek(self, values: bool = True) -> tuple[int, str]:
        tok, lit = self._tokens[min(self._pos, len(self._tokens) - 1)]
        if values and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID
        return tok, lit

    def _next(self, values: bool = True) -> tuple[int, str]:
        item = self._peek(values)
        if self._pos < len(self._tokens) - 1:
            self._pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._peek()
            if tok in (_T_ID, _T_NOT):
                try:
                    reqs.append(self._requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self._next()
                if tok == _T_EOS:
                    return reqs
                if tok == _T_COMMA:
                    tok2, lit2 = self._peek()
                    if tok2 not in (_T_ID, _T_NOT):
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                    continue
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            if tok == _T_EOS:
                return reqs
            raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        operator = ""
        tok, lit = self._next()
        if tok == _T_NOT:
            operator = DOES_NOT_EXIST
            tok, lit = self._next()
        if tok != _T_ID:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        key_errs = is_qualified_name(key)
        if key_errs:
            raise SelectorError(f"<nil>: Invalid value: {render_value(key)}: {'; '.join(key_errs)}")
        if self._peek()[0] in (_T_EOS, _T_COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [])
        operator = self._operator()
        values = self._values() if operator in (IN, NOT_IN) else self._exact_value()
        return new_requirement(key, operator, sorted(values))

    def _operator(self) -> str:
        tok, lit = self._next(values=False)
        op = {_T_IN: IN, _T_EQ: EQUALS, _T_DEQ: DOUBLE_EQUALS, _T_GT: GREATER_THAN, _T_LT: LESS_THAN,
              _T_NOTIN: NOT_IN, _T_NEQ: NOT_EQUALS}.get(tok)
        if op is None:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        return op

    def _values(self) -> set[str]:
        tok, lit = self._next()
        if tok != _T_OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek()
        if tok in (_T_ID, _T_COMMA):
            found = self._identifiers()
            if self._next()[0] != _T_CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return found
        if tok == _T_CLOSE:
            self._next()
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def _identifiers(self) -> set[str]:
        found: set[str] = set()
        while True:
            tok, lit = self._next()
            if tok == _T_ID:
                found.add(lit)
                tok2, lit2 = self._peek()
                if tok2 == _T_COMMA:
                    continue
                if tok2 == _T_CLOSE:
                    return found
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _T_COMMA:
                if not found:
                    found.add("")
                tok2, _ = self._peek()
                if tok2 == _T_CLOSE:
                    found.add("")
                    return found
                if tok2 == _T_COMMA:
                    self._next()
                    found.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, _ = self._peek()
        if tok in (_T_EOS, _T_COMMA):
            return {""}
        tok, lit = self._next()
        if tok == _T_ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


_PARSED_CACHE: dict[str, LabelSelector] = {}
_PARSED_CACHE_MAX = 1024


def parse_label_selector(s: str) -> LabelSelector:
    """Parse the string form; raises ``SelectorError`` with upstream's message.

    An empty (or blank) string selects everything. Results are memoised, since clients
    repeat the same few selectors (informers, kubectl) on every list and watch.
    """
    got = _PARSED_CACHE.get(s)
    if got is not None:
        return got
    sel = LabelSelector(_Parser(s).parse())
    if len(_PARSED_CACHE) >= _PARSED_CACHE_MAX:
        _PARSED_CACHE.clear()
    _PARSED_CACHE[s] = sel
    return sel


_STRUCTURED_OPS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def from_label_selector_dict(sel: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: None selects nothing, ``{}`` everything.

    Raises ``SelectorError`` for an unknown operator (``"Foo" is not a valid label selector
    operator``) or an invalid requirement (messages as ``new_requirement``).
    """
    if sel is None:
        return NOTHING
    match_labels = sel.get("matchLabels") or {}
    match_expressions = sel.get("matchExpressions") or []
    if not match_labels and not match_expressions:
        return EVERYTHING
    reqs: list[Requirement] = []
    for key, value in match_labels.items():
        reqs.append(new_requirement(str(key), EQUALS, [value if isinstance(value, str) else str(value)]))
    for expr in match_expressions:
        op = _STRUCTURED_OPS.get(expr.get("operator") or "")
        if op is None:
            raise SelectorError(f"{render_value(expr.get('operator') or '')} is not a valid label selector operator")
        values = [v if isinstance(v, str) else str(v) for v in (expr.get("values") or [])]
        reqs.append(new_requirement(str(expr.get("key") or ""), op, values))
    return LabelSelector(reqs)


def selector_to_string(sel: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the string form, ``<none>`` when it selects
    everything or nothing, ``<error>`` when it does not convert."""
    try:
        text = str(from_label_selector_dict(sel))
    except SelectorError:
        return "<error>"
    return text or "<none>"


# --------------------------------------------------------------------------------------
# Field selectors


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    #: "=" (``=`` and ``==``) or "!=".
    operator: str
    value: str

    def __str__(self) -> str:
        return f"{self.field}{'=' if self.operator == '=' else '!='}{escape_field_value(self.value)}"


def escape_field_value(value: str) -> str:
    """Upstream ``fields.EscapeValue``: backslash-escape ``\\``, ``,`` and ``=``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    if "\\" not in value and "," not in value and "=" not in value:
        return value
    out: list[str] = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch in "\\,=":
                out.append(ch)
            else:
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(s: str) -> list[str]:
    terms: list[str] = []
    start = 0
    in_slash = False
    for i, ch in enumerate(s):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(s[start:i])
            start = i + 1
    terms.append(s[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


class FieldSelector:
    """A conjunction of field requirements (sorted as upstream sorts the terms)."""

    __slots__ = ("requirements", "_terms", "_getters")

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        self.requirements: tuple[FieldRequirement, ...] = tuple(requirements)
        self._terms = tuple((r.field, r.operator == "=", r.value) for r in self.requirements)
        self._getters = tuple((_getter(r.field), r.operator == "=", r.value) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def fields(self) -> list[str]:
        return [r.field for r in self.requirements]

    def unsupported(self, allowed: Container[str]) -> str | None:
        """The first field not in ``allowed``, else None. The API server answers 400 with
        ``field label not supported: <field>`` for it."""
        for r in self.requirements:
            if r.field not in allowed:
                return r.field
        return None

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Every requirement holds for ``obj`` (values from ``field_value``)."""
        for get, equal, value in self._getters:
            if (get(obj) == value) is not equal:
                return False
        return True

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        """Match against precomputed field values (a missing field reads as "")."""
        for field, equal, value in self._terms:
            if (fields.get(field, "") == value) is not equal:
                return False
        return True

    def value_for(self, field: str) -> str | None:
        """The value required by an ``=`` term on ``field`` (e.g. ``metadata.name``), if any:
        lets a LIST narrow its scan to one key."""
        for f, equal, value in self._terms:
            if f == field and equal:
                return value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSelector) and other.requirements == self.requirements

    def __hash__(self) -> int:
        return hash(self.requirements)


_FIELD_CACHE: dict[str, FieldSelector] = {}


def parse_field_selector(s: str) -> FieldSelector:
    """Parse ``f=v,f!=v``; raises ``SelectorError`` with upstream's message."""
    got = _FIELD_CACHE.get(s)
    if got is not None:
        return got
    reqs: list[FieldRequirement] = []
    if s:
        for part in sorted(_split_terms(s)):
            if not part:
                continue
            split = _split_term(part)
            if split is None:
                raise SelectorError(f"invalid selector: '{s}'; can't understand '{part}'")
            lhs, op, rhs = split
            reqs.append(FieldRequirement(lhs, "!=" if op == "!=" else "=", _unescape_field_value(rhs)))
    sel = FieldSelector(reqs)
    if len(_FIELD_CACHE) >= _PARSED_CACHE_MAX:
        _FIELD_CACHE.clear()
    _FIELD_CACHE[s] = sel
    return sel


# --------------------------------------------------------------------------------------
# Field values of objects

Getter = Callable[[Mapping[str, Any]], str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _path_getter(path: str) -> Getter:
    parts = tuple(path.split("."))
    if len(parts) == 2:
        outer, inner = parts

        def get2(obj: Mapping[str, Any]) -> str:
            node = obj.get(outer)
            if not isinstance(node, dict):
                return ""
            value = node.get(inner)
            return value if type(value) is str else _text(value)

        return get2

    def get(obj: Mapping[str, Any]) -> str:
        node: Any = obj
        for p in parts:
            if not isinstance(node, Mapping):
                return ""
            node = node.get(p)
        return _text(node)

    return get


def _bool_getter(path: str) -> Getter:
    inner = _path_getter(path)

    def get(obj: Mapping[str, Any]) -> str:
        return "true" if inner(obj) == "true" else "false"

    return get


def _int_getter(path: str) -> Getter:
    inner = _path_getter(path)

    def get(obj: Mapping[str, Any]) -> str:
        return inner(obj) or "0"

    return get


def _pod_ip(obj: Mapping[str, Any]) -> str:
    status = obj.get("status") or {}
    ips = status.get("podIPs") or []
    if ips and isinstance(ips[0], Mapping):
        return _text(ips[0].get("ip"))
    return ""


def _event_source(obj: Mapping[str, Any]) -> str:
    source = obj.get("source") or {}
    component = source.get("component") if isinstance(source, Mapping) else None
    return _text(component) or _text(obj.get("reportingComponent"))


#: Fields whose value is not simply the JSON value at the dotted path.
_SPECIAL_FIELDS: dict[str, Getter] = {
    "spec.hostNetwork": _bool_getter("spec.hostNetwork"),
    "spec.unschedulable": _bool_getter("spec.unschedulable"),
    "status.podIP": _pod_ip,
    "source": _event_source,
    # jobs: upstream names the field status.successful and reads status.succeeded
    "status.successful": _int_getter("status.succeeded"),
    "status.replicas": _int_getter("status.replicas"),
}
_GETTERS: dict[str, Getter] = {}


def field_value(obj: Mapping[str, Any], field: str) -> str:
    """The string value upstream's field set gives ``field`` of ``obj`` ("" when unset).

    Booleans print as ``true``/``false`` (``spec.hostNetwork``, ``spec.unschedulable``
    default to ``false``), counters as integers (``status.replicas``,
    ``status.successful`` = ``status.succeeded``, default ``0``), ``status.podIP`` is the
    first of ``status.podIPs``, ``source`` is the event's source component, falling back
    to its reporting component.
    """
    return _getter(field)(obj)


def _getter(field: str) -> Getter:
    getter = _GETTERS.get(field)
    if getter is None:
        getter = _SPECIAL_FIELDS.get(field) or _path_getter(field)
        if len(_GETTERS) < _PARSED_CACHE_MAX:  # field names come from clients: stay bounded
            _GETTERS[field] = getter
    return getter
