"""InterPodAffinity: required and preferred pod affinity / anti-affinity, after upstream's
framework/plugins/interpodaffinity.

Filter asks three questions of a node, each a dict lookup per topology key:
- does some existing pod's required anti-affinity term match the incoming pod in this
  node's topology domain ("node(s) didn't satisfy existing pods anti-affinity rules")?
- does an existing pod matching one of the incoming pod's anti-affinity terms run in the
  node's domain ("node(s) didn't match pod anti-affinity rules")?
- does a pod matching *all* the incoming pod's affinity terms run in the node's domains
  ("node(s) didn't match pod affinity rules"; the first pod of a self-affine group may go
  to any node carrying the topology keys)?

So PreFilter counts, once per cycle, ``(topologyKey, value) -> matching pods``: over the
nodes that hold pods with required anti-affinity for the first map (the snapshot keeps
that list, so the cost is proportional to those pods), and over every pod for the other
two only when the incoming pod has required terms. The AddPod/RemovePod extensions keep
the maps right for preemption's what-if runs. PreScore builds
``topologyKey -> value -> weight`` from the preferred terms (and existing pods' required
affinity, weighted by ``hardPodAffinityWeight``), so Score is one lookup per key.

Per-node results (pairs an existing pod's anti-affinity blocks for pods with these labels,
pairs of pods matching the incoming terms, score contributions) are kept across cycles
in a ``PerNodeCache`` while the snapshot hands out the same unchanged NodeInfo, so after
the first pod of a workload a cycle costs O(nodes) dict merges, not O(pods).

Terms are compiled once: the incoming pod's per cycle (its namespaceSelector resolved to
namespace names through the namespace lister), an existing pod's on first sight, cached
by object identity (API objects are treated as immutable, an update is a new dict).
``matchLabelKeys``/``mismatchLabelKeys`` are merged into the label selector from the
term owner's labels, as the 1.32 API server does at pod creation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubepy.api.selectors import EVERYTHING, NOTHING, LabelSelector, SelectorError, from_label_selector_dict
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
from kubepy.scheduler.plugins.podlabels import PerNodeCache, pod_labels, pod_namespace, with_label_values

__all__ = [
    "ERR_REASON_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH",
    "ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH",
    "NAME",
    "AffinityTerm",
    "InterPodAffinity",
    "InterPodAffinityArgs",
    "PodAffinityTerms",
    "WeightedAffinityTerm",
    "affinity_terms",
    "new",
]

Obj = dict[str, Any]
NAME = "InterPodAffinity"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME

ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"

TopologyPair = tuple[str, str]
PairCounts = tuple[tuple[TopologyPair, int], ...]
_NO_LABELS: Mapping[str, str] = {}


# --------------------------------------------------------------------------------------
# Compiled terms


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """A PodAffinityTerm with its selectors compiled (upstream's framework.AffinityTerm)."""

    namespaces: frozenset[str]
    selector: LabelSelector
    topology_key: str
    namespace_selector: LabelSelector = NOTHING

    def matches(self, pod: Mapping[str, Any], namespace_labels: Mapping[str, str]) -> bool:
        """The pod is in one of the term's namespaces (by name or by ``namespace_labels``,
        the labels of the pod's namespace) and its labels match the selector."""
        meta = pod["metadata"]
        if (meta.get("namespace") or "") in self.namespaces or self.namespace_selector.matches(namespace_labels):
            return self.selector.matches(meta.get("labels"))
        return False


@dataclass(frozen=True, slots=True)
class WeightedAffinityTerm:
    term: AffinityTerm
    weight: int


@dataclass(slots=True)
class PodAffinityTerms:
    """The four term lists of one pod (upstream's PodInfo affinity fields)."""

    required_affinity: list[AffinityTerm] = field(default_factory=list)
    required_anti_affinity: list[AffinityTerm] = field(default_factory=list)
    preferred_affinity: list[WeightedAffinityTerm] = field(default_factory=list)
    preferred_anti_affinity: list[WeightedAffinityTerm] = field(default_factory=list)


def _new_term(pod: Mapping[str, Any], raw: Mapping[str, Any]) -> AffinityTerm:
    labels = pod_labels(pod)
    selector = with_label_values(from_label_selector_dict(raw.get("labelSelector")), labels,
                                 raw.get("matchLabelKeys") or (), raw.get("mismatchLabelKeys") or ())
    names = raw.get("namespaces") or ()
    ns_selector_raw = raw.get("namespaceSelector")
    if not names and ns_selector_raw is None:
        namespaces = frozenset((pod_namespace(pod),))
    else:
        namespaces = frozenset(names)
    return AffinityTerm(namespaces, selector, raw.get("topologyKey") or "",
                        from_label_selector_dict(ns_selector_raw))


def _terms(pod: Mapping[str, Any], raws: Iterable[Mapping[str, Any]]) -> list[AffinityTerm]:
    return [_new_term(pod, raw) for raw in raws]


def _weighted(pod: Mapping[str, Any], raws: Iterable[Mapping[str, Any]]) -> list[WeightedAffinityTerm]:
    return [WeightedAffinityTerm(_new_term(pod, raw.get("podAffinityTerm") or {}), int(raw.get("weight") or 0))
            for raw in raws]


def affinity_terms(pod: Mapping[str, Any]) -> PodAffinityTerms:
    """Compile a pod's (anti-)affinity terms; raises ``SelectorError`` with upstream's
    message (``requiredAffinityTerms: values[0][k]: Invalid value: ...``)."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    pa = affinity.get("podAffinity") or {}
    paa = affinity.get("podAntiAffinity") or {}
    out = PodAffinityTerms()
    errors: list[str] = []
    raw = pa.get("requiredDuringSchedulingIgnoredDuringExecution")
    if raw:
        try:
            out.required_affinity = _terms(pod, raw)
        except SelectorError as err:
            errors.append(f"requiredAffinityTerms: {err}")
    raw = paa.get("requiredDuringSchedulingIgnoredDuringExecution")
    if raw:
        try:
            out.required_anti_affinity = _terms(pod, raw)
        except SelectorError as err:
            errors.append(f"requiredAntiAffinityTerms: {err}")
    raw = pa.get("preferredDuringSchedulingIgnoredDuringExecution")
    if raw:
        try:
            out.preferred_affinity = _weighted(pod, raw)
        except SelectorError as err:
            errors.append(f"preferredAffinityTerms: {err}")
    raw = paa.get("preferredDuringSchedulingIgnoredDuringExecution")
    if raw:
        try:
            out.preferred_anti_affinity = _weighted(pod, raw)
        except SelectorError as err:
            errors.append(f"preferredAntiAffinityTerms: {err}")
    if errors:
        raise SelectorError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return out


_EMPTY_TERMS = PodAffinityTerms()
#: id(pod) -> (pod, compiled terms); the pod is kept so that its id cannot be reused
_existing_cache: dict[int, tuple[Mapping[str, Any], PodAffinityTerms]] = {}
_EXISTING_CACHE_LIMIT = 100_000


def _existing_terms(pod: Mapping[str, Any]) -> PodAffinityTerms:
    """Compiled terms of a pod already in the snapshot (unparsable terms count as none:
    the API server validated them, and one bad pod must not stop every cycle)."""
    entry = _existing_cache.get(id(pod))
    if entry is not None and entry[0] is pod:
        return entry[1]
    try:
        terms = affinity_terms(pod)
    except SelectorError:
        terms = _EMPTY_TERMS
    if len(_existing_cache) >= _EXISTING_CACHE_LIMIT:
        _existing_cache.clear()
    _existing_cache[id(pod)] = (pod, terms)
    return terms


def _matches_all(terms: Sequence[AffinityTerm], pod: Mapping[str, Any]) -> bool:
    if not terms:
        return False
    for t in terms:
        if not t.matches(pod, _NO_LABELS):
            return False
    return True


def _add(counts: dict[TopologyPair, int], labels: Mapping[str, str], key: str, delta: int) -> None:
    value = labels.get(key)
    if value is None:
        return
    pair = (key, value)
    n = counts.get(pair, 0) + delta
    if n == 0:
        counts.pop(pair, None)
    else:
        counts[pair] = n


# --------------------------------------------------------------------------------------
# Per-cycle state


@dataclass(slots=True)
class _PreFilterState:
    terms: PodAffinityTerms
    namespace_labels: Mapping[str, str]
    #: pairs where existing pods' required anti-affinity terms match the incoming pod
    existing_anti_affinity: dict[TopologyPair, int]
    #: pairs where pods match all the incoming pod's required affinity terms
    affinity: dict[TopologyPair, int]
    #: pairs where pods match one of the incoming pod's required anti-affinity terms
    anti_affinity: dict[TopologyPair, int]

    def clone(self) -> _PreFilterState:
        return _PreFilterState(self.terms, self.namespace_labels, dict(self.existing_anti_affinity),
                               dict(self.affinity), dict(self.anti_affinity))

    def update_with_pod(self, pod: Mapping[str, Any], pod_pod: Mapping[str, Any],
                        node_labels: Mapping[str, str], delta: int) -> None:
        """Account ``pod`` (added or removed on a node with ``node_labels``) for the
        incoming pod ``pod_pod``."""
        for t in _existing_terms(pod).required_anti_affinity:
            if t.matches(pod_pod, self.namespace_labels):
                _add(self.existing_anti_affinity, node_labels, t.topology_key, delta)
        if _matches_all(self.terms.required_affinity, pod):
            for t in self.terms.required_affinity:
                _add(self.affinity, node_labels, t.topology_key, delta)
        for t in self.terms.required_anti_affinity:
            if t.matches(pod, _NO_LABELS):
                _add(self.anti_affinity, node_labels, t.topology_key, delta)


@dataclass(slots=True)
class _PreScoreState:
    #: topologyKey -> value -> summed weight
    topology_score: dict[str, dict[str, int]]

    def clone(self) -> _PreScoreState:
        return self


# --------------------------------------------------------------------------------------
# The decisions, as pure functions of the PreFilter state


def satisfies_existing_pods_anti_affinity(existing: Mapping[TopologyPair, int], node_labels: Mapping[str, str]) -> bool:
    if existing:
        for pair in node_labels.items():
            if existing.get(pair, 0) > 0:
                return False
    return True


def satisfies_pod_anti_affinity(terms: Sequence[AffinityTerm], counts: Mapping[TopologyPair, int],
                                node_labels: Mapping[str, str]) -> bool:
    if counts:
        for t in terms:
            value = node_labels.get(t.topology_key)
            if value is not None and counts.get((t.topology_key, value), 0) > 0:
                return False
    return True


def satisfies_pod_affinity(terms: Sequence[AffinityTerm], counts: Mapping[TopologyPair, int],
                           node_labels: Mapping[str, str], pod: Mapping[str, Any]) -> bool:
    pods_exist = True
    for t in terms:
        value = node_labels.get(t.topology_key)
        if value is None:
            return False  # every topology key must be on the node
        if counts.get((t.topology_key, value), 0) <= 0:
            pods_exist = False
    if pods_exist:
        return True
    # The first pod of a group with affinity to itself: allowed anywhere when no pod
    # matches the terms yet and the pod matches its own terms.
    return not counts and _matches_all(terms, pod)


# --------------------------------------------------------------------------------------
# The plugin


@dataclass(frozen=True, slots=True)
class InterPodAffinityArgs:
    hard_pod_affinity_weight: int = 1
    ignore_preferred_terms_of_existing_pods: bool = False

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> InterPodAffinityArgs:
        args = args or {}
        weight = args.get("hardPodAffinityWeight")
        w = 1 if weight is None else int(weight)
        if not 0 <= w <= 100:
            raise ValueError(f"hardPodAffinityWeight: Invalid value: {w}: not in valid range [0, 100]")
        return cls(w, bool(args.get("ignorePreferredTermsOfExistingPods", False)))


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = NAME
    HAS_NORMALIZE = True

    def __init__(self, args: InterPodAffinityArgs, handle: Handle) -> None:
        self.args = args
        self.handle = handle
        self._cache = PerNodeCache()

    # -- namespaces ---------------------------------------------------------------------

    def _namespaces(self) -> Any:
        try:
            return self.handle.lister("v1", "namespaces")
        except (KeyError, LookupError, AttributeError):
            return None

    def _namespace_labels(self, namespace: str) -> Mapping[str, str]:
        lister = self._namespaces()
        ns = lister.get_by_name(None, namespace) if lister is not None else None
        if ns is None:
            return _NO_LABELS
        labels: Mapping[str, str] = (ns.get("metadata") or {}).get("labels") or _NO_LABELS
        return labels

    def _merge_namespaces(self, term: AffinityTerm) -> AffinityTerm:
        """Resolve the namespaceSelector of an incoming pod's term into namespace names
        (an empty selector, which selects all namespaces, is kept as is)."""
        if term.namespace_selector == EVERYTHING:
            return term
        names = set(term.namespaces)
        if term.namespace_selector != NOTHING:
            lister = self._namespaces()
            for ns in (lister.list() if lister is not None else ()):
                meta = ns.get("metadata") or {}
                if term.namespace_selector.matches(meta.get("labels")):
                    names.add(meta.get("name") or "")
        return AffinityTerm(frozenset(names), term.selector, term.topology_key, NOTHING)

    def _merge_all(self, terms: Sequence[AffinityTerm]) -> list[AffinityTerm]:
        return [self._merge_namespaces(t) for t in terms]

    def _merge_weighted(self, terms: Sequence[WeightedAffinityTerm]) -> list[WeightedAffinityTerm]:
        return [WeightedAffinityTerm(self._merge_namespaces(w.term), w.weight) for w in terms]

    # -- PreFilter ----------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        try:
            terms = affinity_terms(pod)
        except SelectorError as err:
            return None, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [f"parsing pod: {err}"], NAME)
        terms.required_affinity = self._merge_all(terms.required_affinity)
        terms.required_anti_affinity = self._merge_all(terms.required_anti_affinity)
        ns_labels = self._namespace_labels(pod_namespace(pod))

        existing: dict[TopologyPair, int] = {}
        table = self._cache.table(("existing", pod_namespace(pod), frozenset(pod_labels(pod).items()),
                                   frozenset(ns_labels.items())))

        def existing_on(ni: NodeInfo) -> PairCounts:
            found: dict[TopologyPair, int] = {}
            node_labels = ni.labels
            for info in ni.pods_with_required_anti_affinity.values():
                for t in _existing_terms(info.pod).required_anti_affinity:
                    if t.matches(pod, ns_labels):
                        _add(found, node_labels, t.topology_key, 1)
            return tuple(found.items())

        get = self._cache.get
        for ni in self.handle.snapshot().have_pods_with_required_anti_affinity():
            if ni.node is None:
                continue
            for pair, n in get(table, ni, existing_on):
                existing[pair] = existing.get(pair, 0) + n

        affinity, anti = self._incoming_counts(terms, nodes)
        if not existing and not terms.required_affinity and not terms.required_anti_affinity:
            return None, Status(Code.SKIP, plugin=NAME)
        state.write(PRE_FILTER_STATE_KEY, _PreFilterState(terms, ns_labels, existing, affinity, anti))
        return None, SUCCESS

    def _incoming_counts(self, terms: PodAffinityTerms,
                         nodes: Iterable[NodeInfo]) -> tuple[dict[TopologyPair, int], dict[TopologyPair, int]]:
        """Pods matching all the incoming pod's affinity terms, and each of its
        anti-affinity terms, counted by topology pair (upstream's
        getIncomingAffinityAntiAffinityCounts)."""
        affinity: dict[TopologyPair, int] = {}
        anti: dict[TopologyPair, int] = {}
        aff_terms = terms.required_affinity
        anti_terms = terms.required_anti_affinity
        if not aff_terms and not anti_terms:
            return affinity, anti
        table = self._cache.table(("incoming", tuple(aff_terms), tuple(anti_terms)))

        def counts_on(ni: NodeInfo) -> tuple[PairCounts, PairCounts]:
            aff_found: dict[TopologyPair, int] = {}
            anti_found: dict[TopologyPair, int] = {}
            node_labels = ni.labels
            for info in ni.pods.values():
                p = info.pod
                if aff_terms and _matches_all(aff_terms, p):
                    for t in aff_terms:
                        _add(aff_found, node_labels, t.topology_key, 1)
                for t in anti_terms:
                    if t.matches(p, _NO_LABELS):
                        _add(anti_found, node_labels, t.topology_key, 1)
            return tuple(aff_found.items()), tuple(anti_found.items())

        get = self._cache.get
        for ni in nodes:
            if ni.node is None or not ni.pods:
                continue
            aff_pairs, anti_pairs = get(table, ni, counts_on)
            for pair, n in aff_pairs:
                affinity[pair] = affinity.get(pair, 0) + n
            for pair, n in anti_pairs:
                anti[pair] = anti.get(pair, 0) + n
        return affinity, anti

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return self._update(state, pod, pod_to_add, node, 1)

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return self._update(state, pod, pod_to_remove, node, -1)

    def _update(self, state: CycleState, pod: Obj, other: Obj, node: NodeInfo, delta: int) -> Status:
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return Status.error(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found', NAME)
        if node.node is not None:
            s.update_with_pod(other, pod, node.labels, delta)
        return SUCCESS

    # -- Filter -------------------------------------------------------------------------

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        s: _PreFilterState | None = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return Status.error(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found', NAME)
        if node.node is None:
            return Status.error("node not found", NAME)
        labels = node.labels
        if not satisfies_pod_affinity(s.terms.required_affinity, s.affinity, labels, pod):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [ERR_REASON_AFFINITY_RULES_NOT_MATCH], NAME)
        if not satisfies_pod_anti_affinity(s.terms.required_anti_affinity, s.anti_affinity, labels):
            return Status(Code.UNSCHEDULABLE, [ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH], NAME)
        if not satisfies_existing_pods_anti_affinity(s.existing_anti_affinity, labels):
            return Status(Code.UNSCHEDULABLE, [ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH], NAME)
        return SUCCESS

    # -- PreScore / Score ---------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        has_constraints = bool(
            ((affinity.get("podAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"))
            or ((affinity.get("podAntiAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"))
        )
        if self.args.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return Status(Code.SKIP, plugin=NAME)
        snapshot = self.handle.snapshot()
        all_nodes = snapshot.node_infos() if has_constraints else snapshot.have_pods_with_affinity()
        try:
            terms = affinity_terms(pod)
        except SelectorError as err:
            return Status.error(f"failed to parse pod: {err}", NAME)
        preferred = self._merge_weighted(terms.preferred_affinity)
        preferred_anti = self._merge_weighted(terms.preferred_anti_affinity)
        ns_labels = self._namespace_labels(pod_namespace(pod))
        hard_weight = self.args.hard_pod_affinity_weight

        scores: dict[str, dict[str, int]] = {}
        table = self._cache.table(("score", pod_namespace(pod), frozenset(pod_labels(pod).items()),
                                   frozenset(ns_labels.items()), tuple(preferred), tuple(preferred_anti),
                                   has_constraints, hard_weight))

        def contributions(ni: NodeInfo) -> tuple[tuple[str, str, int], ...]:
            node_labels = ni.labels
            found: dict[tuple[str, str], int] = {}

            def process(t: AffinityTerm, weight: int, target: Mapping[str, Any],
                        target_ns_labels: Mapping[str, str]) -> None:
                if t.matches(target, target_ns_labels):
                    value = node_labels.get(t.topology_key)
                    if value is not None:
                        found[(t.topology_key, value)] = found.get((t.topology_key, value), 0) + weight

            infos = ni.pods if has_constraints else ni.pods_with_affinity
            for info in infos.values():
                existing = info.pod
                for w in preferred:
                    process(w.term, w.weight, existing, _NO_LABELS)
                for w in preferred_anti:
                    process(w.term, -w.weight, existing, _NO_LABELS)
                et = _existing_terms(existing)
                if hard_weight > 0:
                    for t in et.required_affinity:
                        process(t, hard_weight, pod, ns_labels)
                for w in et.preferred_affinity:
                    process(w.term, w.weight, pod, ns_labels)
                for w in et.preferred_anti_affinity:
                    process(w.term, -w.weight, pod, ns_labels)
            return tuple((k, v, n) for (k, v), n in found.items())

        get = self._cache.get
        for ni in all_nodes:
            if ni.node is None or not ni.labels:
                continue
            for key, value, n in get(table, ni, contributions):
                by_value = scores.setdefault(key, {})
                by_value[value] = by_value.get(value, 0) + n
        if not scores:
            return Status(Code.SKIP, plugin=NAME)
        state.write(PRE_SCORE_STATE_KEY, _PreScoreState(scores))
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        s: _PreScoreState | None = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            return 0, Status.error(f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: not found', NAME)
        labels = node.labels
        total = 0
        for key, by_value in s.topology_score.items():
            value = labels.get(key)
            if value is not None:
                total += by_value.get(value, 0)
        return total, SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        s: _PreScoreState | None = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            return Status.error(f'failed to read "{PRE_SCORE_STATE_KEY}" from cycleState: not found', NAME)
        if not s.topology_score or not scores:
            return SUCCESS
        lo = min(ns.score for ns in scores)
        hi = max(ns.score for ns in scores)
        diff = hi - lo
        for ns in scores:
            ns.score = int(float(MAX_NODE_SCORE) * ((ns.score - lo) / diff)) if diff > 0 else 0
        return SUCCESS

    # -- EnqueueExtensions --------------------------------------------------------------

    def events_to_register(self) -> Iterable[ClusterEvent]:
        return (
            ClusterEvent("Pod", "Add"),
            ClusterEvent("Pod", "Update"),
            ClusterEvent("Pod", "Delete"),
            ClusterEvent("Node", "Add"),
            ClusterEvent("Node", "UpdateNodeLabel"),
            ClusterEvent("Node", "UpdateNodeTaint"),
        )


def new(args: dict[str, Any], handle: Handle) -> InterPodAffinity:
    return InterPodAffinity(InterPodAffinityArgs.from_dict(args), handle)
