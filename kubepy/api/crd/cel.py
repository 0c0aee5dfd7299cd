"""``x-kubernetes-validations``: CEL rules of a structural schema, evaluated with cel-python.

Each rule is compiled once per schema node (``Node.compiled``) and evaluated with ``self``
bound to the value at that node and, for transition rules (rules naming ``oldSelf``),
``oldSelf`` bound to the value at the same place in the old object. As upstream,
transition rules run only on updates and only where the old value can be correlated
(object properties and map values, ``x-kubernetes-list-type: map`` items by their keys).

Errors follow upstream's validator: ``<path>: Invalid value: "<schema type>": <message>``
where the message is the rule's ``message``, the result of its ``messageExpression``, or
``failed rule: <rule>``; a runtime failure reads ``<error> evaluating rule: <rule>``; a
rule's ``reason`` picks Required/Forbidden/Duplicate instead of Invalid and ``fieldPath``
moves the error below the node. Root-level rules report the field ``<nil>`` as upstream.

cel-python does not type-check against the schema and has none of Kubernetes' CEL
extension libraries; rules that use only standard CEL behave as upstream.
"""

from __future__ import annotations

import re
from typing import Any

from kubepy.api import field_errors as fe
from kubepy.api.crd.structural import Node, Rule
from kubepy.api.field_errors import FieldError

__all__ = ["compile_rule", "validate_rules", "CompileError", "ROOT_FIELD"]

ROOT_FIELD = "<nil>"
_MISSING: Any = object()


class CompileError(ValueError):
    """A rule or messageExpression that does not parse."""


def _env() -> Any:
    """The one CEL environment: rules are transpiled to Python (cel-python's CompiledRunner,
    ~5x faster than its tree interpreter). Its logger reports every failed evaluation as
    an "internal error"; failures are ordinary results here, so it is kept quiet."""
    import logging

    import celpy

    env = _ENV.get("env")
    if env is None:
        logging.getLogger("celpy").setLevel(logging.CRITICAL)
        env = _ENV["env"] = celpy.Environment(runner_class=celpy.CompiledRunner)
    return env


_ENV: dict[str, Any] = {}


def compile_rule(source: str) -> Any:
    """A runnable program for ``source``; CompileError with upstream-style detail."""
    env = _env()
    try:
        ast = env.compile(source)
    except Exception as e:  # celpy raises CELParseError (a subclass of Exception)
        line = getattr(e, "line", None)
        column = getattr(e, "column", None)
        where = f"<input>:{line}:{column}" if line is not None else "<input>"
        first = str(e.args[0]).splitlines()[0] if e.args else str(e)
        raise CompileError(f"compilation failed: ERROR: {where}: Syntax error: {first}") from None
    return env.program(ast)


def _program(node: Node, source: str) -> Any:
    cache = node.compiled
    prog = cache.get(source)
    if prog is None:
        try:
            prog = compile_rule(source)
        except CompileError as e:
            prog = e
        cache[source] = prog
    return prog


def _to_cel(value: Any) -> Any:
    from celpy import adapter

    return adapter.json_to_cel(value)


_NO_SUCH_MEMBER = re.compile(r"no such member in mapping: '([^']*)'")


def _eval_error_text(err: Any) -> str:
    args: tuple[Any, ...] = tuple(getattr(err, "args", None) or ())
    text = str(args[0]) if args else str(err)
    if text == "evaluation error" and len(args) > 2 and args[2]:
        text = str(args[2][0])  # the transpiled program wraps the original failure
    m = _NO_SUCH_MEMBER.search(text)
    if m:
        return f"no such key: {m.group(1)}"
    if "no matching overload" in text or "no such overload" in text:
        return "no such overload"
    return text


def _evaluate(prog: Any, activation: dict[str, Any]) -> tuple[Any, str | None]:
    """(result, error text)."""
    from celpy.evaluation import CELEvalError

    try:
        result = prog.evaluate(activation)
    except CELEvalError as e:
        return None, _eval_error_text(e)
    except Exception as e:  # noqa: BLE001 - any evaluation failure is reported on the field
        return None, str(e) or type(e).__name__
    if isinstance(result, CELEvalError):
        return None, _eval_error_text(result)
    return result, None


def _rule_text(rule: Rule) -> str:
    return rule.message.strip() if rule.message else rule.rule.strip()


def _message(rule: Rule, node: Node, activation: dict[str, Any]) -> str:
    if rule.message_expression:
        prog = _program(node, rule.message_expression)
        if not isinstance(prog, CompileError):
            result, err = _evaluate(prog, activation)
            if err is None and isinstance(result, str) and result.strip() and "\n" not in result:
                return str(result).strip()
    if rule.message:
        return rule.message.strip()
    return f"failed rule: {rule.rule.strip()}"


def _error(rule: Rule, path: str, type_name: str, detail: str) -> FieldError:
    where = path or ROOT_FIELD
    if rule.field_path:
        fp = rule.field_path.strip()
        where = (path + fp) if path else fp.lstrip(".")
    reason = rule.reason
    if reason == "FieldValueRequired":
        return fe.required(where, detail)
    if reason == "FieldValueForbidden":
        return fe.forbidden(where, detail)
    if reason == "FieldValueDuplicate":
        return fe.FieldError(fe.DUPLICATE[0], where, f"{fe.DUPLICATE[1]}: {fe.render_value(type_name)}: {detail}")
    return fe.invalid(where, type_name, detail)


def _type_name(node: Node) -> str:
    return node.type


def _run_rules(value: Any, old: Any, node: Node, path: str, errs: list[FieldError]) -> None:
    self_cel: Any = _MISSING
    old_cel: Any = _MISSING
    for rule in node.rules:
        transition = rule.uses_old_self
        if transition and old is _MISSING and not rule.optional_old_self:
            continue
        prog = _program(node, rule.rule)
        if isinstance(prog, CompileError):
            errs.append(_error(rule, path, _type_name(node), str(prog)))
            continue
        if self_cel is _MISSING:
            self_cel = _to_cel(value)
        activation: dict[str, Any] = {"self": self_cel}
        if transition and old is not _MISSING:
            if old_cel is _MISSING:
                old_cel = _to_cel(old)
            activation["oldSelf"] = old_cel
        result, err = _evaluate(prog, activation)
        if err is not None:
            errs.append(_error(rule, path, _type_name(node), f"{err} evaluating rule: {_rule_text(rule)}"))
            continue
        if result is True or (type(result).__name__ == "BoolType" and bool(result)):
            continue
        if not (result is False or type(result).__name__ == "BoolType"):
            errs.append(_error(rule, path, _type_name(node), f"rule did not evaluate to a boolean: {_rule_text(rule)}"))
            continue
        errs.append(_error(rule, path, _type_name(node), _message(rule, node, activation)))


def validate_rules(obj: Any, old: Any, root: Node) -> list[FieldError]:
    """All CEL rule failures of ``obj`` (``old``: the previous object on update, else None)."""
    errs: list[FieldError] = []
    if root.has_rules:
        _walk(obj, _MISSING if old is None else old, root, "", errs, top=True)
    return errs


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(value: Any, old: Any, node: Node, path: str, errs: list[FieldError], *, top: bool = False) -> None:
    if value is None:
        return
    if node.rules:
        _run_rules(value, old, node, path, errs)
    if isinstance(value, dict):
        props = node.properties
        add = node.additional
        for key, v in value.items():
            if top and key in ("apiVersion", "kind", "metadata"):
                continue
            child = props.get(key) if props is not None else None
            if child is None:
                child = add
            if child is None or not child.has_rules:
                continue
            o = old.get(key, _MISSING) if isinstance(old, dict) else _MISSING
            _walk(v, o, child, _join(path, key), errs)
    elif isinstance(value, list):
        items = node.items
        if items is None or not items.has_rules:
            return
        olds: dict[Any, Any] = {}
        if node.list_type == "map" and node.list_map_keys and isinstance(old, list):
            for item in old:
                if isinstance(item, dict):
                    olds[tuple(repr(item.get(k)) for k in node.list_map_keys)] = item
        for i, v in enumerate(value):
            o = _MISSING
            if olds and isinstance(v, dict):
                o = olds.get(tuple(repr(v.get(k)) for k in node.list_map_keys), _MISSING)
            _walk(v, o, items, f"{path}[{i}]", errs)
