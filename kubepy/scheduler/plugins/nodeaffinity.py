"""NodeAffinity: a pod runs only on nodes its nodeSelector and required node affinity
accept, and prefers nodes its preferred terms weigh up (upstream plugins/nodeaffinity).

Design: a pod's selectors are compiled once per scheduling cycle (PreFilter/PreScore) into
small matcher objects, so Filter and Score, which run once per node, only compare strings
and never parse. The matchers follow component-helpers' nodeaffinity package exactly:
terms are ORed, requirements inside a term ANDed; an empty term matches nothing; a term
that does not parse matches nothing (the required selector ignores the error for backward
compatibility, a preferred term list with an error is refused); ``matchFields`` supports
only ``metadata.name`` with In/NotIn and one value. When every required term pins
``metadata.name``, PreFilter narrows the cycle to those nodes (upstream's PreFilterResult).

Also exported for other plugins (PodTopologySpread, preemption): ``Requirement`` and
``compile_requirement`` (the In/NotIn/Exists/DoesNotExist/Gt/Lt matcher), ``NodeSelector``
and ``compile_node_selector``, ``RequiredNodeAffinity``/``required_node_affinity``,
``node_matches(pod, node)`` and ``default_normalize_score`` (upstream's helper of that name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubepy.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    SUCCESS,
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeScore,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo

__all__ = [
    "ERR_REASON_CONFLICT",
    "ERR_REASON_ENFORCED",
    "ERR_REASON_POD",
    "NAME",
    "NodeAffinity",
    "NodeAffinityArgs",
    "NodeSelector",
    "NodeSelectorTerm",
    "PreferredSchedulingTerms",
    "RequiredNodeAffinity",
    "Requirement",
    "compile_node_selector",
    "compile_preferred_terms",
    "compile_requirement",
    "default_normalize_score",
    "new",
    "node_matches",
    "required_node_affinity",
]

Obj = dict[str, Any]

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"

_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME
_OBJECT_NAME_FIELD = "metadata.name"

_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# --------------------------------------------------------------------------------------
# requirements and selectors


def _parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64): None when ``s`` is not a base-10 int64."""
    if not _INT_RE.match(s):
        return None
    v = int(s)
    return v if _INT64_MIN <= v <= _INT64_MAX else None


def _key_error(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.match(prefix)):
        return f"prefix part of key {key!r} must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not _NAME_RE.match(name):
        return f"name part of key {key!r} must be a valid qualified name"
    return None


def _value_error(value: str) -> str | None:
    if value and (len(value) > 63 or not _NAME_RE.match(value)):
        return f"invalid label value: {value!r}"
    return None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One compiled node selector requirement on labels (``key op values``)."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()
    #: the bound of Gt/Lt
    number: int = 0

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            v = labels.get(self.key)
            return v is not None and v in self.values
        if op == "NotIn":
            v = labels.get(self.key)
            return v is None or v not in self.values
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        v = labels.get(self.key)
        if v is None:
            return False
        n = _parse_int64(v)
        if n is None:
            return False
        return n > self.number if op == "Gt" else n < self.number


def compile_requirement(expr: Mapping[str, Any]) -> Requirement:
    """Compiles a NodeSelectorRequirement on labels; ValueError when it is invalid."""
    key = str(expr.get("key") or "")
    op = str(expr.get("operator") or "")
    values = [str(v) for v in expr.get("values") or ()]
    err = _key_error(key)
    if err:
        raise ValueError(err)
    if op in ("In", "NotIn"):
        if not values:
            raise ValueError(f"{key}: values must be non-empty for operator {op}")
        for v in values:
            err = _value_error(v)
            if err:
                raise ValueError(err)
        return Requirement(key, op, frozenset(values))
    if op in ("Exists", "DoesNotExist"):
        if values:
            raise ValueError(f"{key}: values must be empty for operator {op}")
        return Requirement(key, op)
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            raise ValueError(f"{key}: exactly one value is required for operator {op}")
        n = _parse_int64(values[0])
        if n is None:
            raise ValueError(f"{key}: for operator {op} the value must be an integer")
        return Requirement(key, op, frozenset(values), n)
    raise ValueError(f"{op!r} is not a valid node selector operator")


@dataclass(slots=True)
class NodeSelectorTerm:
    """One compiled term: label requirements ANDed with ``metadata.name`` field requirements."""

    labels: tuple[Requirement, ...] | None = None
    #: (operator, value) pairs on metadata.name: "In" means ==, "NotIn" means !=
    fields: tuple[tuple[str, str], ...] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.labels is None and self.fields is None

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        if self.errors or self.is_empty:
            return False
        if self.labels is not None:
            for r in self.labels:
                if not r.matches(labels):
                    return False
        if self.fields is not None and node_name:
            for op, value in self.fields:
                if (node_name == value) != (op == "In"):
                    return False
        return True

    def pinned_node_names(self) -> set[str] | None:
        """The node names this term allows by ``metadata.name In``, None when unrestricted."""
        names: set[str] | None = None
        for op, value in self.fields or ():
            if op == "In":
                names = {value} if names is None else names & {value}
        return names


def _compile_term(term: Mapping[str, Any]) -> NodeSelectorTerm:
    out = NodeSelectorTerm()
    exprs = term.get("matchExpressions") or ()
    if exprs:
        reqs = []
        for e in exprs:
            try:
                reqs.append(compile_requirement(e))
            except ValueError as err:
                out.errors.append(str(err))
        out.labels = tuple(reqs)
    fields_ = term.get("matchFields") or ()
    if fields_:
        pairs = []
        for e in fields_:
            key, op, values = e.get("key"), e.get("operator"), list(e.get("values") or ())
            if key != _OBJECT_NAME_FIELD:
                out.errors.append(f"matchFields key {key!r}: field not supported")
            elif op not in ("In", "NotIn"):
                out.errors.append(f"matchFields operator {op!r}: not supported")
            elif len(values) != 1:
                out.errors.append("matchFields values: must have one element")
            else:
                pairs.append((str(op), str(values[0])))
        out.fields = tuple(pairs)
    return out


@dataclass(slots=True)
class NodeSelector:
    """Compiled v1.NodeSelector: ORed terms."""

    terms: list[NodeSelectorTerm]

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        for t in self.terms:
            if t.matches(labels, node_name):
                return True
        return False

    def matches_node(self, node: Mapping[str, Any] | None) -> bool:
        if node is None:
            return False
        meta = node.get("metadata") or {}
        return self.matches(meta.get("labels") or {}, meta.get("name") or "")

    @property
    def errors(self) -> list[str]:
        return [e for t in self.terms for e in t.errors]


def compile_node_selector(selector: Mapping[str, Any], *, strict: bool = False) -> NodeSelector:
    """Compiles a v1.NodeSelector; ``strict`` raises ValueError on any invalid term
    (upstream's NewNodeSelector), otherwise invalid terms just never match (the lazy form)."""
    ns = NodeSelector([_compile_term(t) for t in selector.get("nodeSelectorTerms") or ()])
    if strict and ns.errors:
        raise ValueError("; ".join(ns.errors))
    return ns


@dataclass(slots=True)
class RequiredNodeAffinity:
    """A pod's hard node constraints: spec.nodeSelector AND required node affinity."""

    node_selector: tuple[tuple[str, str], ...] | None
    affinity: NodeSelector | None

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        if self.node_selector is not None:
            for k, v in self.node_selector:
                if labels.get(k) != v:
                    return False
        if self.affinity is not None:
            return self.affinity.matches(labels, node_name)
        return True

    def matches_node(self, node: Mapping[str, Any] | None) -> bool:
        if node is None:
            return False
        meta = node.get("metadata") or {}
        return self.matches(meta.get("labels") or {}, meta.get("name") or "")


def required_node_affinity(pod: Mapping[str, Any]) -> RequiredNodeAffinity:
    """Compiles the pod's nodeSelector and required node affinity (GetRequiredNodeAffinity)."""
    spec = pod.get("spec") or {}
    sel = spec.get("nodeSelector")
    node_selector = tuple((str(k), str(v)) for k, v in sel.items()) if sel is not None else None
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    affinity = compile_node_selector(required) if required is not None else None
    return RequiredNodeAffinity(node_selector, affinity)


def node_matches(pod: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """Whether the node satisfies the pod's nodeSelector and required node affinity."""
    return required_node_affinity(pod).matches_node(node)


@dataclass(slots=True)
class PreferredSchedulingTerms:
    """Compiled preferred terms: a node scores the sum of the weights of the terms it matches."""

    terms: list[tuple[NodeSelectorTerm, int]]

    def score(self, labels: Mapping[str, str], node_name: str) -> int:
        total = 0
        for term, weight in self.terms:
            if term.matches(labels, node_name):
                total += weight
        return total


def compile_preferred_terms(terms: Iterable[Mapping[str, Any]]) -> PreferredSchedulingTerms:
    """Compiles PreferredSchedulingTerms; ValueError when any term is invalid. Terms of
    weight 0 or with an empty preference are dropped."""
    out: list[tuple[NodeSelectorTerm, int]] = []
    errors: list[str] = []
    for t in terms:
        weight = int(t.get("weight") or 0)
        pref = t.get("preference") or {}
        if weight == 0 or not (pref.get("matchExpressions") or pref.get("matchFields")):
            continue
        term = _compile_term(pref)
        if term.errors:
            errors.extend(term.errors)
        else:
            out.append((term, weight))
    if errors:
        raise ValueError("; ".join(errors))
    return PreferredSchedulingTerms(out)


def default_normalize_score(max_priority: int, reverse: bool, scores: list[NodeScore]) -> None:
    """Scales scores to [0, max_priority] by the highest one, optionally reversed, in place
    (upstream's helper.DefaultNormalizeScore)."""
    max_count = 0
    for s in scores:
        if s.score > max_count:
            max_count = s.score
    if max_count == 0:
        if reverse:
            for s in scores:
                s.score = max_priority
        return
    for s in scores:
        v = max_priority * s.score // max_count
        s.score = max_priority - v if reverse else v


# --------------------------------------------------------------------------------------
# the plugin


@dataclass(frozen=True, kw_only=True, slots=True)
class NodeAffinityArgs:
    """NodeAffinityArgs: ``addedAffinity`` is a v1.NodeAffinity applied to every pod."""

    added_affinity: Obj | None = None

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> NodeAffinityArgs:
        added = (args or {}).get("addedAffinity")
        return cls(added_affinity=dict(added) if added else None)


def _preferred_of(pod: Mapping[str, Any]) -> PreferredSchedulingTerms | None:
    na = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity")) or {}
    preferred = na.get("preferredDuringSchedulingIgnoredDuringExecution")
    if not preferred:
        return None
    return compile_preferred_terms(preferred)


def _labels_and_name(node: NodeInfo) -> tuple[Mapping[str, str], str]:
    meta = (node.node or {}).get("metadata") or {}
    return meta.get("labels") or {}, node.name


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = NAME
    HAS_NORMALIZE = True

    def __init__(self, args: NodeAffinityArgs) -> None:
        self.added_node_selector: NodeSelector | None = None
        self.added_pref_terms: PreferredSchedulingTerms | None = None
        added = args.added_affinity or {}
        required = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            self.added_node_selector = compile_node_selector(required, strict=True)
        preferred = added.get("preferredDuringSchedulingIgnoredDuringExecution")
        if preferred:
            self.added_pref_terms = compile_preferred_terms(preferred)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeLabel"),
                ClusterEvent("Node", "UpdateNodeTaint")]

    # -- PreFilter / Filter ---------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        spec = pod.get("spec") or {}
        required = (((spec.get("affinity") or {}).get("nodeAffinity")) or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution")
        if required is None and self.added_node_selector is None and spec.get("nodeSelector") is None:
            return None, Status(Code.SKIP)
        req = required_node_affinity(pod)
        state.write(_PRE_FILTER_KEY, req)
        if req.affinity is None or not req.affinity.terms:
            return None, SUCCESS
        names: set[str] = set()
        for term in req.affinity.terms:
            pinned = term.pinned_node_names()
            if pinned is None:
                # a term without a metadata.name In requirement allows any node (terms are ORed)
                return None, SUCCESS
            names |= pinned
        if not names:
            return None, Status.unschedulable(ERR_REASON_CONFLICT, resolvable=False, plugin=NAME)
        return PreFilterResult(names), SUCCESS

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        labels, name = _labels_and_name(node)
        if self.added_node_selector is not None and not self.added_node_selector.matches(labels, name):
            return Status.unschedulable(ERR_REASON_ENFORCED, resolvable=False, plugin=NAME)
        req: RequiredNodeAffinity | None = state.get(_PRE_FILTER_KEY)
        if req is None:
            req = required_node_affinity(pod)
        if not req.matches(labels, name):
            return Status.unschedulable(ERR_REASON_POD, resolvable=False, plugin=NAME)
        return SUCCESS

    # -- PreScore / Score -----------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        if not nodes:
            return SUCCESS
        try:
            preferred = _preferred_of(pod)
        except ValueError as e:
            return Status.error(str(e), plugin=NAME)
        if preferred is None and self.added_pref_terms is None:
            return Status(Code.SKIP)
        state.write(_PRE_SCORE_KEY, preferred)
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        labels, name = _labels_and_name(node)
        count = 0
        if self.added_pref_terms is not None:
            count += self.added_pref_terms.score(labels, name)
        try:
            preferred: PreferredSchedulingTerms | None = state.read(_PRE_SCORE_KEY)
        except KeyError:
            try:
                preferred = _preferred_of(pod)
            except ValueError as e:
                return 0, Status.error(str(e), plugin=NAME)
        if preferred is not None:
            count += preferred.score(labels, name)
        return count, SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        default_normalize_score(MAX_NODE_SCORE, False, scores)
        return SUCCESS


def new(args: dict[str, Any], handle: Handle) -> NodeAffinity:
    return NodeAffinity(NodeAffinityArgs.from_dict(args))
