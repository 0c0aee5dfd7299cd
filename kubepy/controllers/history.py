"""ControllerRevisions: the revision history that StatefulSets and DaemonSets keep of their pod template.

Job: upstream's ``pkg/controller/history`` plus the pieces both controllers share. A revision is
an ``apps/v1`` ControllerRevision owned (controllerRef) by its StatefulSet or DaemonSet whose
``data`` is a strategic merge patch that puts a pod template back
(``{"spec": {"template": {..., "$patch": "replace"}}}``) and whose ``revision`` number orders
the history. This module:

- builds the patch (``template_patch``) and applies it back (``apply_revision``);
- names revisions as upstream does: ``<owner>-<hash>`` where the hash is FNV-32 of the patch
  bytes, as Go's ``encoding/json`` writes them, plus the collision count written as decimal
  text, then safe-encoded (``hash_revision``); DaemonSets name theirs after ``compute_hash``
  (FNV-32a over the template and the collision count, as ``controller.ComputeHash``);
- sorts, compares and finds equal revisions, and picks the ones to truncate past
  ``revisionHistoryLimit``;
- ``History`` does the writes: create (renaming on hash collision and counting collisions),
  renumber, delete, adopt and release.

Design: pure functions over plain dicts for every decision, so they are table-tested without
an API; ``History`` reads revisions from the shared informer cache (never copies them unless
it writes) and writes through the client. Revisions are compared by their ``data`` as decoded
JSON, which is what upstream's byte comparison amounts to once both sides went through the
same encoder. Where upstream hashes a Go struct with ``spew`` (``controller.ComputeHash``) the
exact value cannot be reproduced outside Go; ``compute_hash`` keeps its shape (FNV-32a, the
collision count as 8 little-endian bytes, safe encoding) over the canonical JSON instead, so
names are stable and unique but differ from the ones upstream would pick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from kubepy.client import ApiError, deepcopy, is_already_exists, is_conflict, is_invalid, is_not_found
from kubepy.controllers.podcontrol import adopt_patch, controller_of, owner_reference, release_patch

log = logging.getLogger(__name__)

Obj = dict[str, Any]

#: label on every revision with its hash (upstream's ControllerRevisionHashLabel)
HASH_LABEL = "controller.kubernetes.io/hash"
#: label on pods (and DaemonSet revisions) naming the revision they come from
REVISION_LABEL = "controller-revision-hash"
#: longest owner-name prefix kept in a revision name (253 minus room for the hash)
MAX_PREFIX = 223

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


# -- hashing -------------------------------------------------------------------------------------

def go_json(obj: Any) -> bytes:
    """``obj`` encoded as Go's ``json.Marshal`` encodes a decoded map: keys sorted, no spaces,
    ``<``, ``>``, ``&``, U+2028 and U+2029 escaped."""
    out: bytes = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    for raw, escaped in _GO_ESCAPES:
        if raw in out:
            out = out.replace(raw, escaped)
    return out


def fnv32(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1, 32 bits (Go's ``fnv.New32``); pass ``h`` to continue a running hash."""
    for b in data:
        h = ((h * _FNV_PRIME) & 0xFFFFFFFF) ^ b
    return h


def fnv32a(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a, 32 bits (Go's ``fnv.New32a``)."""
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """``rand.SafeEncodeString``: each character mapped into an alphabet without vowels."""
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in s)


def hash_revision(data: Any, probe: int | None = None) -> str:
    """``HashControllerRevision``: FNV-32 of the data's JSON, then ``probe`` as decimal text."""
    h = fnv32(go_json(data))
    if probe is not None:
        h = fnv32(str(probe).encode(), h)
    return safe_encode(str(h))


def compute_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The DaemonSet (and Deployment) template hash: FNV-32a of the template, then the collision
    count as 8 little-endian bytes, safe-encoded (see the module docstring on exactness)."""
    h = fnv32a(go_json(template))
    if collision_count is not None:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0", h)
    return safe_encode(str(h))


def revision_name(prefix: str, hash_: str) -> str:
    """``<prefix>-<hash>`` with the prefix cut to 223 characters."""
    return f"{prefix[:MAX_PREFIX]}-{hash_}"


# -- the data: a patch that restores the template -------------------------------------------------

def template_patch(owner: Mapping[str, Any]) -> Obj:
    """``getPatch``: ``{"spec": {"template": <template>, "$patch": "replace"}}``.

    The template is written as Go writes a PodTemplateSpec: ``metadata.creationTimestamp`` is
    always present (``null``), so revisions made here and by upstream carry the same bytes.
    """
    template = deepcopy(dict((owner.get("spec") or {}).get("template") or {}))
    meta = template.get("metadata")
    if not isinstance(meta, dict):
        meta = template["metadata"] = {}
    meta.setdefault("creationTimestamp", None)
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_template(revision: Mapping[str, Any]) -> Obj:
    """The pod template a revision restores (without the ``$patch`` directive)."""
    data = revision.get("data") or {}
    template = dict(((data.get("spec") or {}).get("template")) or {})
    template.pop("$patch", None)
    return template


def apply_revision(owner: Mapping[str, Any], revision: Mapping[str, Any]) -> Obj:
    """``ApplyRevision``: a copy of ``owner`` with its template replaced by the revision's."""
    out = deepcopy(dict(owner))
    out.setdefault("spec", {})["template"] = deepcopy(revision_template(revision))
    return out


def new_revision(
    owner: Mapping[str, Any],
    *,
    data: Mapping[str, Any],
    revision: int,
    collision_count: int | None,
    template_labels: Mapping[str, str] | None = None,
) -> Obj:
    """``NewControllerRevision``: owned by ``owner``, labelled like its template plus the hash
    label, named ``<owner>-<hash>``; the owner's annotations are copied (as StatefulSets do)."""
    meta = owner["metadata"]
    hash_ = hash_revision(data, collision_count)
    labels = dict(template_labels or {})
    labels[HASH_LABEL] = hash_
    out_meta: Obj = {
        "name": revision_name(meta["name"], hash_),
        "namespace": meta.get("namespace", ""),
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        out_meta["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": out_meta,
            "data": deepcopy(dict(data)), "revision": revision}


# -- ordering and comparing ------------------------------------------------------------------------

def _sort_key(rev: Mapping[str, Any]) -> tuple[int, str, str]:
    meta = rev.get("metadata") or {}
    return int(rev.get("revision") or 0), str(meta.get("creationTimestamp") or ""), str(meta.get("name") or "")


def sort_revisions(revisions: Iterable[Mapping[str, Any]]) -> list[Obj]:
    """By revision number, then creation time, then name (``SortControllerRevisions``)."""
    return sorted((dict(r) if not isinstance(r, dict) else r for r in revisions), key=_sort_key)


def equal_revision(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Both absent, or both present with the same data (hash labels, when both say, must agree)."""
    if a is None or b is None:
        return a is b
    ha = ((a.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
    hb = ((b.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
    if ha and hb and ha.isdigit() and hb.isdigit() and ha != hb:
        return False
    return bool(a.get("data") == b.get("data"))


def find_equal_revisions(revisions: Sequence[Obj], needle: Mapping[str, Any]) -> list[Obj]:
    """Revisions equal to ``needle``, in their given order."""
    return [r for r in revisions if equal_revision(r, needle)]


def next_revision(sorted_revisions: Sequence[Mapping[str, Any]]) -> int:
    """1 for an empty history, else one more than the last (sorted) revision number."""
    if not sorted_revisions:
        return 1
    return int(sorted_revisions[-1].get("revision") or 0) + 1


def max_revision(revisions: Iterable[Mapping[str, Any]]) -> int:
    return max((int(r.get("revision") or 0) for r in revisions), default=0)


def revisions_to_truncate(sorted_revisions: Sequence[Obj], live: Iterable[str], limit: int) -> list[Obj]:
    """The oldest non-live revisions beyond ``limit`` (a negative limit keeps everything)."""
    live_names = set(live)
    history = [r for r in sorted_revisions if r["metadata"]["name"] not in live_names]
    if limit < 0 or len(history) <= limit:
        return []
    return history[: len(history) - limit]


def owned_or_orphan(revisions: Iterable[Obj], owner: Mapping[str, Any], matches: Any) -> list[Obj]:
    """``ListControllerRevisions``: those matching the selector predicate that ``owner`` controls
    or nobody controls."""
    uid = owner["metadata"]["uid"]
    out: list[Obj] = []
    for rev in revisions:
        if not matches(rev):
            continue
        ref = controller_of(rev)
        if ref is None or ref.get("uid") == uid:
            out.append(rev)
    return out


# -- writes ----------------------------------------------------------------------------------------

class History:
    """Revision writes for one controller (upstream's ``realHistory``).

    ``indexer`` is the controllerrevisions informer cache (read-only objects); every method
    that changes a revision sends the change to the API server and returns the server's copy.
    """

    def __init__(self, client: Any, indexer: Any) -> None:
        self.client = client
        self.indexer = indexer
        self.ref = client.resource("apps/v1", "controllerrevisions")

    def list(self, owner: Mapping[str, Any], matches: Any) -> list[Obj]:
        ns = owner["metadata"].get("namespace", "")
        return owned_or_orphan(self.indexer.by_namespace(ns), owner, matches)

    async def create(self, owner: Mapping[str, Any], revision: Mapping[str, Any], collision_count: int) -> tuple[Obj, int]:
        """Create ``revision``; on a name taken by different data, count a collision and try the
        next name. Returns the revision (created or found identical) and the collision count."""
        ns = owner["metadata"].get("namespace", "")
        body = deepcopy(dict(revision))
        while True:
            hash_ = hash_revision(revision.get("data"), collision_count)
            body["metadata"]["name"] = revision_name(owner["metadata"]["name"], hash_)
            try:
                created: Obj = await self.client.create(self.ref, body, namespace=ns)
                return created, collision_count
            except ApiError as e:
                if not is_already_exists(e):
                    raise
            existing: Obj = await self.client.get(self.ref, body["metadata"]["name"], namespace=ns)
            if existing.get("data") == body.get("data"):
                return existing, collision_count
            collision_count += 1

    async def set_revision_number(self, revision: Mapping[str, Any], number: int) -> Obj:
        """``UpdateControllerRevision``: give an existing revision a new number (conflicts retried)."""
        current = deepcopy(dict(revision))
        ns = current["metadata"].get("namespace", "")
        for _ in range(5):
            if current.get("revision") == number:
                return current
            current["revision"] = number
            try:
                updated: Obj = await self.client.update(self.ref, current, namespace=ns)
                return updated
            except ApiError as e:
                if not is_conflict(e):
                    raise
                current = await self.client.get(self.ref, current["metadata"]["name"], namespace=ns)
        raise RuntimeError(f"could not renumber revision {current['metadata']['name']}: too many conflicts")

    async def delete(self, revision: Mapping[str, Any]) -> None:
        meta = revision["metadata"]
        try:
            await self.client.delete(self.ref, meta["name"], namespace=meta.get("namespace", ""))
        except ApiError as e:
            if not is_not_found(e):
                raise

    async def adopt(self, owner: Mapping[str, Any], revision: Mapping[str, Any]) -> Obj:
        """Make ``owner`` the controller of an orphan revision (strategic merge, uid-checked)."""
        if controller_of(revision) is not None:
            raise ValueError(f"revision {revision['metadata']['name']} already has a controller")
        meta = revision["metadata"]
        out: Obj = await self.client.patch(self.ref, meta["name"], adopt_patch(owner, revision),
                                           namespace=meta.get("namespace", ""), type="strategic")
        return out

    async def release(self, owner: Mapping[str, Any], revision: Mapping[str, Any]) -> Obj | None:
        """Drop ``owner``'s reference; a revision gone or no longer owned is not an error."""
        meta = revision["metadata"]
        try:
            out: Obj = await self.client.patch(self.ref, meta["name"], release_patch(owner, revision),
                                               namespace=meta.get("namespace", ""), type="strategic")
            return out
        except ApiError as e:
            if is_not_found(e) or is_invalid(e):
                return None
            raise
