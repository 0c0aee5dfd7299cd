"""DefaultBinder: POSTs a v1 Binding to pods/<name>/binding; client errors become ERROR."""

from __future__ import annotations

from kubepy.client.errors import ApiError
from kubepy.client.fake import FakeClient
from kubepy.scheduler.framework.interface import Code, CycleState
from kubepy.scheduler.plugins import defaultbinder
from kubepy.testing.scheduler_builders import FakeHandle, make_pod


async def test_bind_posts_a_binding_with_the_pod_uid():
    client = FakeClient()
    binder = defaultbinder.new({}, FakeHandle(client=client))
    pod = make_pod().name("foo").namespace("ns").uid("u-1").obj()
    status = await binder.bind(CycleState(), pod, "node1")
    assert status.ok
    [action] = client.actions
    assert (action.verb, action.resource, action.namespace, action.name, action.subresource) == (
        "create", "pods", "ns", "foo", "binding")
    assert action.body == {"apiVersion": "v1", "kind": "Binding",
                           "metadata": {"name": "foo", "namespace": "ns", "uid": "u-1"},
                           "target": {"kind": "Node", "name": "node1"}}


class _FailingClient(FakeClient):
    async def create(self, ref, obj, **kw):
        raise ApiError({"code": 404, "reason": "NotFound", "message": 'pods "foo" not found'})


async def test_a_failed_binding_is_an_error_status():
    binder = defaultbinder.new({}, FakeHandle(client=_FailingClient()))
    status = await binder.bind(CycleState(), make_pod().name("foo").obj(), "node1")
    assert status.code is Code.ERROR
    assert status.plugin == "DefaultBinder"
    assert 'pods "foo" not found' in status.message


def test_binding_without_uid_leaves_it_out():
    body = defaultbinder.binding_for(make_pod().name("foo").obj(), "n")
    assert body["metadata"] == {"name": "foo", "namespace": "default"}
