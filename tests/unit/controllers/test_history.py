"""ControllerRevision history: hashing, naming, patches, ordering, truncation and the writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubepy.client.fake import FakeClient
from kubepy.controllers.history import (
    HASH_LABEL,
    History,
    apply_revision,
    compute_hash,
    equal_revision,
    find_equal_revisions,
    fnv32,
    fnv32a,
    go_json,
    hash_revision,
    new_revision,
    next_revision,
    revision_name,
    revisions_to_truncate,
    safe_encode,
    sort_revisions,
    template_patch,
)

# upstream's pkg/controller/statefulset/testdata/compatibility_revision_1.33.0.json: this data,
# with collision count 0, is stored as revision "test-c77f6d978"
UPSTREAM_DATA = json.loads(
    '{"spec":{"template":{"$patch":"replace","metadata":{"annotations":{"test":"value"},"creationTimestamp":null,'
    '"labels":{"app":"foo"}},"spec":{"containers":[{"image":"test","imagePullPolicy":"Always","name":"test",'
    '"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],'
    '"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},'
    '"terminationGracePeriodSeconds":30}}}}'
)


def owner(name: str = "web", uid: str = "set-uid", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": "ns", "uid": uid, **extra},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}


def rev(name: str, number: int, data: Any = None, created: str = "2024-05-01T10:00:00Z",
        **labels: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created, "labels": labels},
            "revision": number, "data": data if data is not None else {"n": name}}


@pytest.mark.parametrize(("data", "fn", "expected"), [
    pytest.param(b"", fnv32, 0x811C9DC5, id="FNV-1 of nothing is the offset basis"),
    pytest.param(b"a", fnv32, 0x050C5D7E, id="FNV-1 of 'a' matches the reference vector"),
    pytest.param(b"foobar", fnv32, 0x31F0B262, id="FNV-1 of 'foobar' matches the reference vector"),
    pytest.param(b"a", fnv32a, 0xE40C292C, id="FNV-1a of 'a' matches the reference vector"),
    pytest.param(b"foobar", fnv32a, 0xBF9CF968, id="FNV-1a of 'foobar' matches the reference vector"),
])
def test_fnv_hashes_match_reference_vectors(data: bytes, fn: Any, expected: int) -> None:
    assert fn(data) == expected


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("123", "567", id="digits map into the vowel-free alphabet"),
    pytest.param("", "", id="an empty string stays empty"),
])
def test_safe_encode(text: str, expected: str) -> None:
    assert safe_encode(text) == expected


def test_go_json_sorts_keys_and_escapes_html_characters_like_go() -> None:
    assert go_json({"b": 1, "a": "<&>", "$patch": None}) == b'{"$patch":null,"a":"\\u003c\\u0026\\u003e","b":1}'


def test_revision_hash_matches_the_name_upstream_gave_the_same_data() -> None:
    assert hash_revision(UPSTREAM_DATA, 0) == "c77f6d978"


@pytest.mark.parametrize(("probe_a", "probe_b"), [
    pytest.param(0, 1, id="another collision count gives another revision hash"),
    pytest.param(None, 0, id="no collision count differs from a zero one"),
])
def test_collision_count_changes_the_revision_hash(probe_a: int | None, probe_b: int | None) -> None:
    assert hash_revision(UPSTREAM_DATA, probe_a) != hash_revision(UPSTREAM_DATA, probe_b)


def test_template_hash_depends_on_template_and_collision_count() -> None:
    t = owner()["spec"]["template"]
    assert compute_hash(t, None) == compute_hash(t, None)
    assert compute_hash(t, None) != compute_hash(t, 1)
    assert compute_hash(t, 1) != compute_hash(t, 2)
    changed = json.loads(json.dumps(t))
    changed["spec"]["containers"][0]["image"] = "nginx:2"
    assert compute_hash(changed, None) != compute_hash(t, None)


def test_revision_name_cuts_long_prefixes_to_223_characters() -> None:
    assert revision_name("x" * 300, "abc") == "x" * 223 + "-abc"
    assert revision_name("web", "abc") == "web-abc"


def test_template_patch_replaces_the_template_and_writes_a_null_creation_timestamp() -> None:
    patch = template_patch(owner())
    assert patch == {"spec": {"template": {
        "$patch": "replace", "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}


def test_apply_revision_restores_the_recorded_template_only() -> None:
    old = owner()
    recorded = {"data": template_patch(old)}
    changed = owner()
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    changed["spec"]["replicas"] = 5
    restored = apply_revision(changed, recorded)
    assert restored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    assert "$patch" not in restored["spec"]["template"]
    assert restored["spec"]["replicas"] == 5
    assert changed["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


def test_new_revision_is_owned_named_and_labelled() -> None:
    data = template_patch(owner())
    r = new_revision(owner(annotations={"a": "b"}), data=data, revision=3, collision_count=0,
                     template_labels={"app": "web"})
    h = hash_revision(data, 0)
    assert r["metadata"]["name"] == f"web-{h}"
    assert r["metadata"]["labels"] == {"app": "web", HASH_LABEL: h}
    assert r["metadata"]["annotations"] == {"a": "b"}
    assert r["metadata"]["ownerReferences"][0]["uid"] == "set-uid"
    assert r["metadata"]["ownerReferences"][0]["controller"] is True
    assert r["revision"] == 3 and r["data"] == data


def test_sort_orders_by_number_then_creation_then_name() -> None:
    revs = [rev("c", 2), rev("b", 1, created="2024-05-01T11:00:00Z"), rev("a", 1, created="2024-05-01T11:00:00Z"),
            rev("d", 1, created="2024-05-01T09:00:00Z")]
    assert [r["metadata"]["name"] for r in sort_revisions(revs)] == ["d", "a", "b", "c"]


@pytest.mark.parametrize(("a", "b", "equal"), [
    pytest.param(rev("a", 1, {"x": 1}), rev("b", 2, {"x": 1}), True, id="same data is equal whatever the names"),
    pytest.param(rev("a", 1, {"x": 1}), rev("b", 1, {"x": 2}), False, id="different data is not equal"),
    pytest.param(rev("a", 1, {"x": 1}, **{HASH_LABEL: "55"}), rev("b", 1, {"x": 1}, **{HASH_LABEL: "66"}), False,
                 id="numeric hash labels that differ make revisions unequal"),
    pytest.param(None, None, True, id="two absent revisions are equal"),
    pytest.param(rev("a", 1), None, False, id="an absent revision equals no present one"),
])
def test_equal_revision(a: Any, b: Any, equal: bool) -> None:
    assert equal_revision(a, b) is equal


def test_find_equal_revisions_keeps_order() -> None:
    revs = [rev("a", 1, {"x": 1}), rev("b", 2, {"x": 2}), rev("c", 3, {"x": 1})]
    assert [r["metadata"]["name"] for r in find_equal_revisions(revs, {"data": {"x": 1}})] == ["a", "c"]


@pytest.mark.parametrize(("revs", "expected"), [
    pytest.param([], 1, id="an empty history starts at 1"),
    pytest.param([rev("a", 1), rev("b", 4)], 5, id="one more than the last revision"),
])
def test_next_revision(revs: list[Any], expected: int) -> None:
    assert next_revision(revs) == expected


@pytest.mark.parametrize(("live", "limit", "expected"), [
    pytest.param(set(), 2, ["r1", "r2"], id="oldest beyond the limit go"),
    pytest.param({"r1"}, 2, ["r2"], id="live revisions are never truncated"),
    pytest.param(set(), 10, [], id="within the limit nothing goes"),
    pytest.param(set(), 0, ["r1", "r2", "r3", "r4"], id="a zero limit keeps only live revisions"),
    pytest.param(set(), -1, [], id="a negative limit keeps everything"),
])
def test_revisions_to_truncate(live: set[str], limit: int, expected: list[str]) -> None:
    revs = [rev(f"r{i}", i) for i in range(1, 5)]
    assert [r["metadata"]["name"] for r in revisions_to_truncate(revs, live, limit)] == expected


class _Indexer:
    def __init__(self, *objs: dict[str, Any]) -> None:
        self.objs = list(objs)

    def by_namespace(self, ns: str) -> list[dict[str, Any]]:
        return [o for o in self.objs if o["metadata"].get("namespace") == ns]


def _owned(r: dict[str, Any], uid: str) -> dict[str, Any]:
    r["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "x", "uid": uid,
                                         "controller": True}]
    return r


def test_list_returns_owned_and_orphan_revisions_that_match() -> None:
    mine = _owned(rev("mine", 1, app="web"), "set-uid")
    theirs = _owned(rev("theirs", 1, app="web"), "other")
    orphan = rev("orphan", 1, app="web")
    unmatched = rev("unmatched", 1, app="db")
    h = History(FakeClient(), _Indexer(mine, theirs, orphan, unmatched))
    got = h.list(owner(), lambda r: r["metadata"]["labels"].get("app") == "web")
    assert [r["metadata"]["name"] for r in got] == ["mine", "orphan"]


async def test_create_counts_a_collision_when_the_name_holds_other_data() -> None:
    data = template_patch(owner())
    taken = rev(f"web-{hash_revision(data, 0)}", 1, {"other": True})
    client = FakeClient(taken)
    h = History(client, _Indexer())
    created, count = await h.create(owner(), new_revision(owner(), data=data, revision=2, collision_count=0), 0)
    assert count == 1
    assert created["metadata"]["name"] == f"web-{hash_revision(data, 1)}"
    assert created["data"] == data


async def test_create_returns_an_identical_existing_revision_without_a_collision() -> None:
    data = template_patch(owner())
    existing = rev(f"web-{hash_revision(data, 0)}", 1, data)
    client = FakeClient(existing)
    h = History(client, _Indexer())
    got, count = await h.create(owner(), new_revision(owner(), data=data, revision=1, collision_count=0), 0)
    assert count == 0
    assert got["metadata"]["name"] == existing["metadata"]["name"]
    assert client.writes("create") == []


async def test_renumbering_writes_the_new_revision_number() -> None:
    client = FakeClient(rev("web-a", 1))
    h = History(client, _Indexer())
    stored = client.get_object("apps/v1", "controllerrevisions", "ns", "web-a")
    updated = await h.set_revision_number(stored, 7)
    assert updated["revision"] == 7
    assert client.get_object("apps/v1", "controllerrevisions", "ns", "web-a")["revision"] == 7


async def test_adopt_patches_a_controller_reference_and_refuses_owned_revisions() -> None:
    client = FakeClient(rev("web-a", 1))
    h = History(client, _Indexer())
    stored = client.get_object("apps/v1", "controllerrevisions", "ns", "web-a")
    adopted = await h.adopt(owner(), stored)
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == "set-uid"
    with pytest.raises(ValueError):
        await h.adopt(owner(), adopted)


async def test_release_drops_the_reference_and_ignores_missing_revisions() -> None:
    client = FakeClient(_owned(rev("web-a", 1), "set-uid"))
    h = History(client, _Indexer())
    stored = client.get_object("apps/v1", "controllerrevisions", "ns", "web-a")
    released = await h.release(owner(), stored)
    assert released is not None and not released["metadata"].get("ownerReferences")
    await h.delete(stored)
    assert await h.release(owner(), stored) is None


async def test_delete_ignores_a_revision_already_gone() -> None:
    client = FakeClient()
    h = History(client, _Indexer())
    await h.delete(rev("gone", 1))
    assert client.writes("delete") == []
