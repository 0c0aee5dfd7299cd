"""Indexer: keys, the namespace/label/owner indexes kept right through every write."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import (
    NAMESPACE_INDEX,
    OWNER_UID_INDEX,
    Indexer,
    deepcopy,
    label_index,
    meta_namespace_key,
    namespace_index,
    owner_uid_index,
    split_key,
)


def obj(name: str, ns: str | None = "default", *, labels: dict[str, str] | None = None,
        owners: tuple[str, ...] = (), rv: str = "1") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv}
    if ns:
        meta["namespace"] = ns
    if labels:
        meta["labels"] = labels
    if owners:
        meta["ownerReferences"] = [{"uid": u, "kind": "ReplicaSet", "name": u} for u in owners]
    return {"metadata": meta}


def make() -> Indexer:
    return Indexer({NAMESPACE_INDEX: namespace_index, "app": label_index("app"), OWNER_UID_INDEX: owner_uid_index})


@pytest.mark.parametrize(
    ("o", "key"),
    [(obj("p", "ns1"), "ns1/p"), (obj("node-1", None), "node-1")],
    ids=["namespaced objects are keyed namespace/name", "cluster-scoped objects by name"],
)
def test_keys(o: dict[str, Any], key: str) -> None:
    assert meta_namespace_key(o) == key
    assert split_key(key)[1] == o["metadata"]["name"]


def test_indexes_follow_adds_updates_and_deletes() -> None:
    ix = make()
    ix.add(obj("a", "ns1", labels={"app": "web"}, owners=("rs1",)))
    ix.add(obj("b", "ns1", labels={"app": "db"}, owners=("rs1", "rs2")))
    ix.add(obj("c", "ns2", labels={"app": "web"}))
    assert [o["metadata"]["name"] for o in ix.by_index("app", "web")] == ["a", "c"]
    assert ix.index_keys(OWNER_UID_INDEX, "rs1") == ["ns1/a", "ns1/b"]
    assert [o["metadata"]["name"] for o in ix.by_namespace("ns1")] == ["a", "b"]

    old = ix.update(obj("a", "ns1", labels={"app": "db"}, rv="2"))
    assert old is not None and old["metadata"]["resourceVersion"] == "1"
    assert [o["metadata"]["name"] for o in ix.by_index("app", "web")] == ["c"]
    assert ix.index_keys("app", "db") == ["ns1/a", "ns1/b"]
    assert ix.index_keys(OWNER_UID_INDEX, "rs1") == ["ns1/b"]

    ix.delete(obj("b", "ns1"))
    assert ix.index_keys(OWNER_UID_INDEX, "rs2") == []
    assert ix.list_index_values(OWNER_UID_INDEX) == []
    assert ix.list_index_values("app") == ["db", "web"]
    assert sorted(ix.list_keys()) == ["ns1/a", "ns2/c"]
    assert ix.get_by_key("ns1/b") is None and ix.get_by_name("ns2", "c") is not None


def test_replace_rebuilds_contents_and_indexes() -> None:
    ix = make()
    ix.add(obj("a", labels={"app": "web"}))
    ix.replace([obj("b", labels={"app": "web"}), obj("c", "other")])
    assert sorted(ix.list_keys()) == ["default/b", "other/c"]
    assert ix.index_keys("app", "web") == ["default/b"]
    assert ix.index_keys(NAMESPACE_INDEX, "other") == ["other/c"]


def test_added_indexer_covers_existing_objects() -> None:
    ix = Indexer()
    ix.add(obj("a", labels={"tier": "x"}))
    ix.add_indexers({"tier": label_index("tier")})
    assert ix.index_keys("tier", "x") == ["default/a"]
    with pytest.raises(ValueError):
        ix.add_indexers({"tier": label_index("tier")})


def test_unknown_index_is_an_error() -> None:
    with pytest.raises(KeyError):
        make().by_index("nope", "x")


def test_cache_hands_out_shared_objects_and_deepcopy_detaches_them() -> None:
    ix = make()
    original = obj("a", labels={"app": "web"})
    ix.add(original)
    assert ix.get_by_key("default/a") is original
    copy = deepcopy(original)
    copy["metadata"]["labels"]["app"] = "changed"
    assert original["metadata"]["labels"]["app"] == "web"
