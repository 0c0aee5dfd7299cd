"""Server-side Table printing: columns, exact cells per kind, and the Table dict shape."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from kubepy.api.printers import (
    InvalidIncludeObject,
    JSONPathError,
    build_table,
    crd_printer,
    printer_for,
    registered_kinds,
)
from kubepy.api.printers.core import pod_status
from kubepy.api.printers.helpers import format_label_selector, human_duration

NOW = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def ago(**kw: float) -> str:
    """An RFC 3339 timestamp ``kw`` before NOW."""
    return (NOW - dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, *, created: str | None = None, **extra: object) -> dict:
    m: dict = {"name": name, "namespace": "default", "uid": "u-" + name, "resourceVersion": "7"}
    m["creationTimestamp"] = created or ago(minutes=5)
    m.update(extra)
    return m


def cells(group: str, kind: str, obj: dict) -> list:
    return printer_for(group, kind).row(obj, NOW)


def columns(group: str, kind: str) -> list[tuple[str, str, int]]:
    return [(c.name, c.type, c.priority) for c in printer_for(group, kind).columns]


# ---------------------------------------------------------------- HumanDuration


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        pytest.param(dt.timedelta(seconds=-5), "<invalid>", id="more than a second in the future is invalid"),
        pytest.param(dt.timedelta(seconds=-1.5), "0s", id="clock skew of about a second reads 0s"),
        pytest.param(dt.timedelta(0), "0s", id="zero"),
        pytest.param(dt.timedelta(seconds=59), "59s", id="59 seconds"),
        pytest.param(dt.timedelta(seconds=119), "119s", id="seconds are shown up to two minutes"),
        pytest.param(dt.timedelta(seconds=120), "2m", id="two minutes exactly"),
        pytest.param(dt.timedelta(seconds=150), "2m30s", id="minutes and seconds under ten minutes"),
        pytest.param(dt.timedelta(minutes=10, seconds=59), "10m", id="ten minutes drops the seconds"),
        pytest.param(dt.timedelta(minutes=179), "179m", id="minutes up to three hours"),
        pytest.param(dt.timedelta(hours=3), "3h", id="three hours exactly"),
        pytest.param(dt.timedelta(hours=3, minutes=25), "3h25m", id="hours and minutes under eight hours"),
        pytest.param(dt.timedelta(hours=8, minutes=30), "8h", id="eight hours drops the minutes"),
        pytest.param(dt.timedelta(hours=47, minutes=59), "47h", id="hours up to two days"),
        pytest.param(dt.timedelta(days=2), "2d", id="two days exactly"),
        pytest.param(dt.timedelta(days=3, hours=4), "3d4h", id="days and hours under eight days"),
        pytest.param(dt.timedelta(days=8, hours=5), "8d", id="eight days drops the hours"),
        pytest.param(dt.timedelta(days=729), "729d", id="days up to two years"),
        pytest.param(dt.timedelta(days=730), "2y", id="two years exactly"),
        pytest.param(dt.timedelta(days=800), "2y70d", id="years and days under eight years"),
        pytest.param(dt.timedelta(days=365 * 9 + 100), "9y", id="nine years drops the days"),
    ],
)
def test_human_duration_matches_upstream_boundaries(delta: dt.timedelta, text: str) -> None:
    assert human_duration(delta) == text


# ---------------------------------------------------------------- label selectors


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        pytest.param(None, "<none>", id="nil selector prints none"),
        pytest.param({}, "<none>", id="empty selector prints none"),
        pytest.param({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2", id="match labels sorted by key"),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["front", "back"]},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "zone", "operator": "Exists"},
                ],
            },
            "app=web,!canary,env notin (dev),tier in (back,front),zone",
            id="expressions are sorted by key with sorted values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Bogus", "values": ["x"]}]},
            "<error>",
            id="unknown operator is an error",
        ),
    ],
)
def test_label_selector_formatting(selector: dict | None, text: str) -> None:
    assert format_label_selector(selector) == text


# ---------------------------------------------------------------- pods


def container_status(
    name: str,
    *,
    ready: bool = False,
    restarts: int = 0,
    started: bool | None = None,
    lastState: dict | None = None,
    **state: dict,
) -> dict:
    cs = {"name": name, "ready": ready, "restartCount": restarts, "image": "img", "imageID": "", "state": state}
    if started is not None:
        cs["started"] = started
    if lastState is not None:
        cs["lastState"] = lastState
    return cs


def pod(
    *,
    containers: int = 1,
    init: list[dict] | None = None,
    statuses: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    phase: str = "Running",
    conditions: list[dict] | None = None,
    **extra_meta: object,
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web", **extra_meta),
        "spec": {
            "containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)],
            "initContainers": init or [],
            "nodeName": "node1",
        },
        "status": {
            "phase": phase,
            "conditions": conditions or [],
            "containerStatuses": statuses or [],
            "initContainerStatuses": init_statuses or [],
            "podIPs": [{"ip": "10.0.0.5"}],
            "podIP": "10.0.0.5",
        },
    }


RUNNING = {"running": {"startedAt": ago(minutes=4)}}
READY_TRUE = [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}]


@pytest.mark.parametrize(
    ("obj", "ready", "status", "restarts"),
    [
        pytest.param(
            pod(phase="Pending", statuses=[container_status("c0", waiting={"reason": "ContainerCreating"})]),
            "0/1",
            "ContainerCreating",
            "0",
            id="pending pod shows the waiting reason",
        ),
        pytest.param(pod(phase="Pending"), "0/1", "Pending", "0", id="unscheduled pod shows its phase"),
        pytest.param(
            pod(
                phase="Pending",
                conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
            ),
            "0/1",
            "SchedulingGated",
            "0",
            id="scheduling gated pod",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=[{"name": "i0"}, {"name": "i1"}],
                init_statuses=[
                    container_status("i0", terminated={"exitCode": 0, "reason": "Completed"}),
                    container_status("i1", **RUNNING),
                ],
                statuses=[container_status("c0", waiting={"reason": "PodInitializing"})],
            ),
            "0/1",
            "Init:1/2",
            "0",
            id="second init container running",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=[{"name": "i0"}],
                init_statuses=[container_status("i0", restarts=3, terminated={"exitCode": 1, "reason": "Error"})],
            ),
            "0/1",
            "Init:Error",
            "3",
            id="init container failed with a reason",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=[{"name": "i0"}],
                init_statuses=[container_status("i0", terminated={"exitCode": 2})],
            ),
            "0/1",
            "Init:ExitCode:2",
            "0",
            id="init container failed without a reason",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=[{"name": "i0"}],
                init_statuses=[container_status("i0", terminated={"exitCode": 0 + 137, "signal": 9})],
            ),
            "0/1",
            "Init:Signal:9",
            "0",
            id="init container killed by a signal",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=[{"name": "i0"}],
                init_statuses=[container_status("i0", restarts=4, waiting={"reason": "CrashLoopBackOff"})],
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "4",
            id="init container in crash loop",
        ),
        pytest.param(
            pod(
                statuses=[
                    container_status(
                        "c0",
                        restarts=5,
                        waiting={"reason": "CrashLoopBackOff"},
                        lastState={"terminated": {"exitCode": 1, "finishedAt": ago(minutes=3)}},
                    )
                ]
            ),
            "0/1",
            "CrashLoopBackOff",
            "5 (3m ago)",
            id="crash looping container shows restarts with the last one's age",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[container_status("c0", ready=True, **RUNNING), container_status("c1", ready=True, **RUNNING)],
                conditions=READY_TRUE,
            ),
            "2/2",
            "Running",
            "0",
            id="running and ready",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[container_status("c0", ready=True, **RUNNING), container_status("c1", **RUNNING)],
            ),
            "1/2",
            "Running",
            "0",
            id="one of two containers not ready",
        ),
        pytest.param(
            pod(
                phase="Succeeded",
                statuses=[container_status("c0", terminated={"exitCode": 0, "reason": "Completed"})],
            ),
            "0/1",
            "Completed",
            "0",
            id="completed pod",
        ),
        pytest.param(
            pod(
                phase="Failed",
                statuses=[container_status("c0", terminated={"exitCode": 3})],
            ),
            "0/1",
            "ExitCode:3",
            "0",
            id="failed container without a reason shows its exit code",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[
                    container_status("c0", terminated={"exitCode": 0, "reason": "Completed"}),
                    container_status("c1", ready=True, **RUNNING),
                ],
                conditions=[{"type": "Ready", "status": "False"}],
            ),
            "1/2",
            "NotReady",
            "0",
            id="completed container beside a running one without pod readiness is NotReady",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[
                    container_status("c0", ready=True, **RUNNING),
                    container_status("c1", terminated={"exitCode": 0, "reason": "Completed"}),
                ],
                conditions=READY_TRUE,
            ),
            "1/2",
            "Running",
            "0",
            id="last container completed while another runs and the pod is ready shows Running",
        ),
        pytest.param(
            pod(
                statuses=[container_status("c0", ready=True, **RUNNING)],
                deletionTimestamp=ago(seconds=10),
            ),
            "1/1",
            "Terminating",
            "0",
            id="deleted pod is terminating",
        ),
        pytest.param(
            pod(
                phase="Succeeded",
                statuses=[container_status("c0", terminated={"exitCode": 0, "reason": "Completed"})],
                deletionTimestamp=ago(seconds=10),
            ),
            "0/1",
            "Completed",
            "0",
            id="deleted pod in a terminal phase keeps its status",
        ),
        pytest.param(
            {
                **pod(statuses=[container_status("c0", ready=True, **RUNNING)], deletionTimestamp=ago(seconds=10)),
                "status": {"phase": "Running", "reason": "NodeLost"},
            },
            "0/1",
            "Unknown",
            "0",
            id="deleted pod on a lost node is Unknown",
        ),
        pytest.param(
            pod(
                init=[{"name": "proxy", "restartPolicy": "Always"}],
                init_statuses=[
                    container_status(
                        "proxy",
                        ready=True,
                        restarts=2,
                        started=True,
                        lastState={"terminated": {"exitCode": 1, "finishedAt": ago(hours=1)}},
                        **RUNNING,
                    )
                ],
                statuses=[container_status("c0", ready=True, restarts=1, **RUNNING)],
                conditions=READY_TRUE,
            ),
            "2/2",
            "Running",
            "3 (60m ago)",
            id="sidecar counts toward ready and total and its restarts are added",
        ),
    ],
)
def test_pod_ready_status_and_restarts(obj: dict, ready: str, status: str, restarts: str) -> None:
    row = cells("", "Pod", obj)
    assert row[1:4] == [ready, status, restarts]


def test_pod_row_has_every_wide_column() -> None:
    obj = pod(statuses=[container_status("c0", ready=True, **RUNNING)], conditions=READY_TRUE)
    obj["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]
    obj["status"]["conditions"].append({"type": "example.com/lb", "status": "True"})
    assert cells("", "Pod", obj) == ["web", "1/1", "Running", "0", "5m", "10.0.0.5", "node1", "<none>", "1/2"]


def test_pod_without_ip_or_node_prints_none() -> None:
    obj = pod(phase="Pending")
    obj["status"].pop("podIPs")
    obj["status"].pop("podIP")
    obj["spec"].pop("nodeName")
    assert cells("", "Pod", obj)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_status_is_reusable_as_a_pure_function() -> None:
    ready, total, reason, restarts, last = pod_status(pod(phase="Pending"))
    assert (ready, total, reason, restarts, last) == (0, 1, "Pending", 0, None)


def test_pod_columns_match_upstream() -> None:
    assert columns("", "Pod") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]
    assert printer_for("", "Pod").columns[0].format == "name"


# ---------------------------------------------------------------- workloads

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "busybox"}]},
}


def test_deployment_row() -> None:
    obj = {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("apps", "Deployment", obj) == ["web", "2/3", 3, 2, "5m", "web,log", "nginx:1,busybox", "app=web"]
    assert [c[0] for c in columns("apps", "Deployment")] == [
        "Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector",
    ]


def test_deployment_without_status_counts_zero() -> None:
    obj = {"metadata": meta("web"), "spec": {"replicas": 1, "selector": {}, "template": TEMPLATE}}
    assert cells("apps", "Deployment", obj)[:4] == ["web", "0/1", 0, 0]


def test_replica_set_row_uses_integers() -> None:
    obj = {
        "metadata": meta("web-7d9"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert cells("apps", "ReplicaSet", obj) == [
        "web-7d9", 3, 3, 1, "5m", "web,log", "nginx:1,busybox", "app=web,pod-template-hash=7d9",
    ]
    assert [c[1] for c in columns("apps", "ReplicaSet")][1:4] == ["integer", "integer", "integer"]


def test_stateful_set_row() -> None:
    obj = {"metadata": meta("db"), "spec": {"replicas": 2, "template": TEMPLATE}, "status": {"readyReplicas": 2}}
    assert cells("apps", "StatefulSet", obj) == ["db", "2/2", "5m", "web,log", "nginx:1,busybox"]


def test_daemon_set_row() -> None:
    template = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "nodeSelector": {"kubernetes.io/os": "linux"}}}
    obj = {
        "metadata": meta("agent"),
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template},
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert cells("apps", "DaemonSet", obj) == [
        "agent", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "5m", "web,log", "nginx:1,busybox", "app=agent",
    ]


def test_daemon_set_without_node_selector_prints_none() -> None:
    obj = {"metadata": meta("agent"), "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": TEMPLATE}}
    assert cells("apps", "DaemonSet", obj)[6] == "<none>"


@pytest.mark.parametrize(
    ("owners", "controller"),
    [
        pytest.param(
            [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "1", "controller": True}],
            "statefulset.apps/db",
            id="controller shown as kind.group/name",
        ),
        pytest.param(
            [{"apiVersion": "v1", "kind": "Pod", "name": "x", "uid": "1", "controller": False}],
            "<none>",
            id="owner that is not a controller is ignored",
        ),
        pytest.param(None, "<none>", id="no owner"),
    ],
)
def test_controller_revision_controller_column(owners: list | None, controller: str) -> None:
    obj = {"metadata": meta("db-5c4", ownerReferences=owners) if owners else meta("db-5c4"), "revision": 2}
    assert cells("apps", "ControllerRevision", obj) == ["db-5c4", controller, 2, "5m"]


def test_replication_controller_row() -> None:
    obj = {
        "metadata": meta("rc"),
        "spec": {"replicas": 2, "selector": {"app": "rc"}, "template": TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 2},
    }
    assert cells("", "ReplicationController", obj) == ["rc", 2, 2, 2, "5m", "web,log", "nginx:1,busybox", "app=rc"]


def test_pod_template_row_has_no_age() -> None:
    obj = {"metadata": meta("tpl"), "template": TEMPLATE}
    assert cells("", "PodTemplate", obj) == ["tpl", "web,log", "nginx:1,busybox", "app=web"]


# ---------------------------------------------------------------- batch


def job(**over: object) -> dict:
    obj: dict = {
        "metadata": meta("pi"),
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}},
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}},
        },
        "status": {},
    }
    for key, value in over.items():
        section, field = key.split("__")
        if value is None:
            obj[section].pop(field, None)
        else:
            obj[section][field] = value
    return obj


@pytest.mark.parametrize(
    ("obj", "status", "completions", "duration"),
    [
        pytest.param(job(), "Running", "0/1", "", id="not started job has no duration"),
        pytest.param(
            job(status__startTime=ago(seconds=30), status__active=1), "Running", "0/1", "30s", id="running job"
        ),
        pytest.param(
            job(
                status__startTime=ago(minutes=4),
                status__completionTime=ago(minutes=3, seconds=48),
                status__succeeded=1,
                status__conditions=[{"type": "Complete", "status": "True"}],
            ),
            "Complete",
            "1/1",
            "12s",
            id="completed job duration is completion minus start",
        ),
        pytest.param(
            job(status__conditions=[{"type": "Failed", "status": "True"}], status__failed=6),
            "Failed",
            "0/1",
            "",
            id="failed job",
        ),
        pytest.param(
            job(status__conditions=[{"type": "Suspended", "status": "True"}]), "Suspended", "0/1", "", id="suspended"
        ),
        pytest.param(
            job(status__conditions=[{"type": "FailureTarget", "status": "True"}]),
            "FailureTarget",
            "0/1",
            "",
            id="failure target",
        ),
        pytest.param(
            job(spec__completions=None, spec__parallelism=3, status__succeeded=1),
            "Running",
            "1/1 of 3",
            "",
            id="work queue job with parallelism",
        ),
        pytest.param(
            job(spec__completions=None, spec__parallelism=1), "Running", "0/1", "", id="work queue job without parallelism"
        ),
        pytest.param(
            job(spec__completions=5, status__succeeded=2), "Running", "2/5", "", id="several completions"
        ),
    ],
)
def test_job_status_completions_and_duration(obj: dict, status: str, completions: str, duration: str) -> None:
    assert cells("batch", "Job", obj)[1:4] == [status, completions, duration]


def test_job_being_deleted_is_terminating_unless_finished() -> None:
    obj = job()
    obj["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert cells("batch", "Job", obj)[1] == "Terminating"
    obj["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    assert cells("batch", "Job", obj)[1] == "Complete"


def test_job_wide_cells() -> None:
    assert cells("batch", "Job", job())[4:] == ["5m", "pi", "perl", "batch.kubernetes.io/controller-uid=abc"]


def test_cron_job_row() -> None:
    obj = {
        "metadata": meta("hello"),
        "spec": {
            "schedule": "*/1 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}},
        },
        "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(seconds=42)},
    }
    assert cells("batch", "CronJob", obj) == [
        "hello", "*/1 * * * *", "<none>", "False", 1, "42s", "5m", "hello", "busybox", "<none>",
    ]
    obj["spec"].pop("suspend")
    obj["spec"]["timeZone"] = "Etc/UTC"
    obj["status"] = {}
    assert cells("batch", "CronJob", obj)[2:6] == ["Etc/UTC", "<unset>", 0, "<none>"]


# ---------------------------------------------------------------- services, endpoints


def service(svc_type: str, **spec: object) -> dict:
    return {
        "metadata": meta("web"),
        "spec": {"type": svc_type, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"app": "web"}, **spec},
        "status": {"loadBalancer": {}},
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            service("ClusterIP", ports=[{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]),
            ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "5m", "app=web"],
            id="cluster IP service",
        ),
        pytest.param(
            service("NodePort", ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}]),
            ["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "5m", "app=web"],
            id="node port shown after the port",
        ),
        pytest.param(
            service("LoadBalancer", ports=[{"port": 443, "nodePort": 31443, "protocol": "TCP"}]),
            ["web", "LoadBalancer", "10.96.0.10", "<pending>", "443:31443/TCP", "5m", "app=web"],
            id="load balancer without ingress is pending",
        ),
        pytest.param(
            {
                **service("LoadBalancer", ports=[{"port": 80, "protocol": "TCP"}], externalIPs=["1.2.3.4"]),
                "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}},
            },
            ["web", "LoadBalancer", "10.96.0.10", "203.0.113.9,lb.example.com,1.2.3.4", "80/TCP", "5m", "app=web"],
            id="load balancer ingress then external IPs",
        ),
        pytest.param(
            service("ClusterIP", clusterIP="None", clusterIPs=["None"], ports=[], selector=None),
            ["web", "ClusterIP", "None", "<none>", "<none>", "5m", "<none>"],
            id="headless service without ports",
        ),
        pytest.param(
            {**service("ExternalName", externalName="db.example.com", clusterIP=None, clusterIPs=None)},
            ["web", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "app=web"],
            id="external name service",
        ),
        pytest.param(
            service("NodePort", externalIPs=["192.0.2.1", "192.0.2.2"], ports=[{"port": 80, "nodePort": 30001, "protocol": "TCP"}]),
            ["web", "NodePort", "10.96.0.10", "192.0.2.1,192.0.2.2", "80:30001/TCP", "5m", "app=web"],
            id="external IPs listed",
        ),
    ],
)
def test_service_rows(obj: dict, expected: list) -> None:
    assert cells("", "Service", obj) == expected


@pytest.mark.parametrize(
    ("subsets", "text"),
    [
        pytest.param(None, "<none>", id="no subsets"),
        pytest.param(
            [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 8080, "protocol": "TCP"}]}],
            "10.0.0.1:8080,10.0.0.2:8080",
            id="address and port pairs",
        ),
        pytest.param(
            [
                {
                    "addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 5)],
                    "ports": [{"port": 80}, {"port": 443}],
                }
            ],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 5 more...",
            id="more than three",
        ),
        pytest.param([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1", id="headless without ports"),
        pytest.param([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80", id="ipv6"),
    ],
)
def test_endpoints_column(subsets: list | None, text: str) -> None:
    obj = {"metadata": meta("web"), "subsets": subsets}
    assert cells("", "Endpoints", obj) == ["web", text, "5m"]


def test_endpoint_slice_row() -> None:
    obj = {
        "metadata": meta("web-abc"),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "named"}, {}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3", "10.0.0.4"]}],
    }
    assert cells("discovery.k8s.io", "EndpointSlice", obj) == [
        "web-abc", "IPv4", "80,named,*", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "5m",
    ]
    empty = {"metadata": meta("e"), "addressType": "IPv4", "endpoints": None}
    assert cells("discovery.k8s.io", "EndpointSlice", empty)[2:4] == ["<unset>", "<unset>"]


# ---------------------------------------------------------------- nodes


@pytest.mark.parametrize(
    ("ready", "unschedulable", "status"),
    [
        pytest.param("True", False, "Ready", id="ready node"),
        pytest.param("False", False, "NotReady", id="not ready node"),
        pytest.param("Unknown", True, "NotReady,SchedulingDisabled", id="cordoned unknown node"),
        pytest.param(None, False, "Unknown", id="node without a Ready condition"),
        pytest.param("True", True, "Ready,SchedulingDisabled", id="cordoned node"),
    ],
)
def test_node_status(ready: str | None, unschedulable: bool, status: str) -> None:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    obj = {"metadata": meta("n1"), "spec": {"unschedulable": unschedulable}, "status": {"conditions": conditions}}
    assert cells("", "Node", obj)[1] == status


def test_node_row() -> None:
    obj = {
        "metadata": meta(
            "n1",
            created=ago(days=3, hours=2),
            labels={
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/worker": "",
                "kubernetes.io/role": "edge",
                "kubernetes.io/hostname": "n1",
            },
        ),
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0"},
        },
    }
    assert cells("", "Node", obj) == [
        "n1", "Ready", "control-plane,edge,worker", "3d2h", "v1.32.0",
        "192.168.1.10", "<none>", "Debian GNU/Linux 12", "6.1.0", "<unknown>",
    ]


def test_node_without_roles() -> None:
    obj = {"metadata": meta("n1", labels={"node-role.kubernetes.io/": ""}), "status": {}}
    assert cells("", "Node", obj)[2] == "<none>"


# ---------------------------------------------------------------- events


def core_event(**fields: object) -> dict:
    obj: dict = {
        "metadata": meta("web.17d"),
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "fieldPath": "spec.containers{web}"},
        "reason": "Pulled",
        "message": "  Successfully pulled image  \n",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "node1"},
    }
    obj.update(fields)
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            core_event(firstTimestamp=ago(minutes=10), lastTimestamp=ago(minutes=2), count=4),
            ["2m", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node1",
             "Successfully pulled image", "10m", 4, "web.17d"],
            id="classic event with both timestamps",
        ),
        pytest.param(
            core_event(eventTime="2024-06-01T11:59:30.123456Z", source={}, reportingController="kubelet",
                       reportingInstance="", involvedObject={"kind": "Node"}),
            ["29s", "Normal", "Pulled", "node", "", "kubelet", "Successfully pulled image", "29s", 1, "web.17d"],
            id="new style event uses eventTime truncated to seconds and counts one",
        ),
        pytest.param(
            core_event(eventTime=ago(minutes=20), series={"count": 7, "lastObservedTime": "2024-06-01T11:59:00.000000Z"}),
            ["60s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node1",
             "Successfully pulled image", "20m", 7, "web.17d"],
            id="series decides last seen and count",
        ),
        pytest.param(
            core_event(),
            ["<unknown>", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node1",
             "Successfully pulled image", "<unknown>", 1, "web.17d"],
            id="event without any timestamp",
        ),
    ],
)
def test_core_event_rows(obj: dict, expected: list) -> None:
    assert cells("", "Event", obj) == expected


def test_events_k8s_io_event_prints_like_a_core_event() -> None:
    obj = {
        "metadata": meta("web.17d"),
        "regarding": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
        "note": "Back-off restarting failed container",
        "reason": "BackOff",
        "type": "Warning",
        "eventTime": ago(minutes=9),
        "reportingController": "kubelet",
        "reportingInstance": "node1",
        "series": {"count": 12, "lastObservedTime": ago(seconds=5)},
    }
    assert cells("events.k8s.io", "Event", obj) == [
        "5s", "Warning", "BackOff", "pod/web", "spec.containers{web}", "kubelet, node1",
        "Back-off restarting failed container", "9m", 12, "web.17d",
    ]
    assert columns("events.k8s.io", "Event") == columns("", "Event")


def test_event_columns_match_upstream() -> None:
    assert columns("", "Event") == [
        ("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0), ("Object", "string", 0),
        ("Subobject", "string", 1), ("Source", "string", 1), ("Message", "string", 0),
        ("First Seen", "string", 1), ("Count", "string", 1), ("Name", "string", 1),
    ]


# ---------------------------------------------------------------- config, identity, namespaces


@pytest.mark.parametrize(
    ("kind", "obj", "expected"),
    [
        pytest.param(
            "ConfigMap",
            {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
            ["cfg", 3, "5m"],
            id="configmap counts data and binary data",
        ),
        pytest.param("ConfigMap", {"metadata": meta("empty")}, ["empty", 0, "5m"], id="empty configmap"),
        pytest.param(
            "Secret",
            {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "x", "tls.key": "y"}},
            ["tls", "kubernetes.io/tls", 2, "5m"],
            id="secret type and key count",
        ),
        pytest.param(
            "ServiceAccount", {"metadata": meta("default")}, ["default", 0, "5m"], id="service account without secrets"
        ),
        pytest.param(
            "Namespace",
            {"metadata": meta("kube-system", created=ago(days=40)), "status": {"phase": "Active"}},
            ["kube-system", "Active", "40d"],
            id="namespace phase",
        ),
        pytest.param(
            "Namespace",
            {"metadata": {"name": "x"}, "status": {"phase": "Terminating"}},
            ["x", "Terminating", "<unknown>"],
            id="namespace without a creation time has an unknown age",
        ),
    ],
)
def test_simple_core_rows(kind: str, obj: dict, expected: list) -> None:
    assert cells("", kind, obj) == expected


def test_resource_quota_uses_v1_32_column_order() -> None:
    obj = {
        "metadata": meta("quota"),
        "status": {
            "hard": {"requests.cpu": "2", "limits.memory": "2Gi", "pods": "10", "limits.cpu": "4"},
            "used": {"requests.cpu": "500m", "limits.cpu": "1", "pods": "3"},
        },
    }
    assert [c[0] for c in columns("", "ResourceQuota")] == ["Name", "Age", "Request", "Limit"]
    assert cells("", "ResourceQuota", obj) == [
        "quota", "5m", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 1/4, limits.memory: 0/2Gi",
    ]


# ---------------------------------------------------------------- volumes


def test_persistent_volume_row() -> None:
    obj = {
        "metadata": meta("pv1"),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("", "PersistentVolume", obj) == [
        "pv1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "standard", "<unset>", "", "5m", "Filesystem",
    ]


def test_persistent_volume_being_deleted_is_terminating() -> None:
    obj = {"metadata": meta("pv1", deletionTimestamp=ago(seconds=3)), "spec": {}, "status": {"phase": "Released"}}
    row = cells("", "PersistentVolume", obj)
    assert row[1:5] == ["0", "", "", "Terminating"]
    assert row[10] == "<unset>"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            {
                "metadata": meta("data"),
                "spec": {"volumeName": "pv1", "storageClassName": "standard", "volumeMode": "Filesystem",
                         "resources": {"requests": {"storage": "5Gi"}}},
                "status": {"phase": "Bound", "capacity": {"storage": "10Gi"},
                           "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]},
            },
            ["data", "Bound", "pv1", "10Gi", "ROX,RWOP", "standard", "<unset>", "5m", "Filesystem"],
            id="bound claim shows capacity and access modes",
        ),
        pytest.param(
            {
                "metadata": meta("data", annotations={"volume.beta.kubernetes.io/storage-class": "legacy"}),
                "spec": {"storageClassName": "standard", "volumeAttributesClassName": "gold",
                         "resources": {"requests": {"storage": "5Gi"}}},
                "status": {"phase": "Pending"},
            },
            ["data", "Pending", "", "", "", "legacy", "gold", "5m", "<unset>"],
            id="pending claim hides capacity and prefers the beta class annotation",
        ),
    ],
)
def test_persistent_volume_claim_rows(obj: dict, expected: list) -> None:
    assert cells("", "PersistentVolumeClaim", obj) == expected


# ---------------------------------------------------------------- other groups


def test_lease_row() -> None:
    obj = {"metadata": meta("node1"), "spec": {"holderIdentity": "node1", "leaseDurationSeconds": 40}}
    assert cells("coordination.k8s.io", "Lease", obj) == ["node1", "node1", "5m"]
    assert cells("coordination.k8s.io", "Lease", {"metadata": meta("free"), "spec": {}}) == ["free", "", "5m"]
    assert [c[0] for c in columns("coordination.k8s.io", "Lease")] == ["Name", "Holder", "Age"]


@pytest.mark.parametrize(
    ("group", "kind", "obj", "expected"),
    [
        pytest.param(
            "rbac.authorization.k8s.io",
            "RoleBinding",
            {
                "metadata": meta("rb"),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                "subjects": [
                    {"kind": "User", "name": "alice"},
                    {"kind": "User", "name": "bob"},
                    {"kind": "Group", "name": "devs"},
                    {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
                ],
            },
            ["rb", "Role/reader", "5m", "alice, bob", "devs", "tools/ci"],
            id="role binding subjects by kind",
        ),
        pytest.param(
            "storage.k8s.io",
            "StorageClass",
            {
                "metadata": meta("standard", annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
                "provisioner": "rancher.io/local-path",
                "volumeBindingMode": "WaitForFirstConsumer",
            },
            ["standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", False, "5m"],
            id="default storage class",
        ),
        pytest.param(
            "networking.k8s.io",
            "Ingress",
            {
                "metadata": meta("web"),
                "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
                         "tls": [{"hosts": ["a.example.com"]}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
            },
            ["web", "nginx", "a.example.com,b.example.com", "203.0.113.7", "80, 443", "5m"],
            id="ingress with tls",
        ),
        pytest.param(
            "networking.k8s.io",
            "Ingress",
            {"metadata": meta("any"), "spec": {"defaultBackend": {}}},
            ["any", "<none>", "*", "", "80", "5m"],
            id="ingress without rules",
        ),
        pytest.param(
            "networking.k8s.io",
            "NetworkPolicy",
            {"metadata": meta("deny"), "spec": {"podSelector": {}}},
            ["deny", "<none>", "5m"],
            id="network policy selecting every pod",
        ),
        pytest.param(
            "policy",
            "PodDisruptionBudget",
            {"metadata": meta("pdb"), "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}},
            ["pdb", "50%", "N/A", 1, "5m"],
            id="pod disruption budget",
        ),
        pytest.param(
            "autoscaling",
            "HorizontalPodAutoscaler",
            {
                "metadata": meta("web"),
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                    "minReplicas": 1,
                    "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
                },
                "status": {
                    "currentReplicas": 2,
                    "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}],
                },
            },
            ["web", "Deployment/web", "cpu: 12%/50%", "1", 10, 2, "5m"],
            id="hpa on cpu utilization",
        ),
        pytest.param(
            "autoscaling",
            "HorizontalPodAutoscaler",
            {
                "metadata": meta("web"),
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                         "targetCPUUtilizationPercentage": 80},
                "status": {"currentReplicas": 1},
            },
            ["web", "Deployment/web", "cpu: <unknown>/80%", "<unset>", 3, 1, "5m"],
            id="autoscaling v1 hpa without metrics yet",
        ),
        pytest.param(
            "scheduling.k8s.io",
            "PriorityClass",
            {"metadata": meta("high"), "value": 1000000, "globalDefault": False, "preemptionPolicy": "Never"},
            ["high", 1000000, False, "5m", "Never"],
            id="priority class",
        ),
        pytest.param(
            "certificates.k8s.io",
            "CertificateSigningRequest",
            {
                "metadata": meta("csr-1"),
                "spec": {"signerName": "kubernetes.io/kube-apiserver-client", "username": "alice",
                         "expirationSeconds": 86400},
                "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"},
            },
            ["csr-1", "5m", "kubernetes.io/kube-apiserver-client", "alice", "24h", "Approved,Issued"],
            id="approved and issued csr",
        ),
        pytest.param(
            "node.k8s.io", "RuntimeClass", {"metadata": meta("gvisor"), "handler": "runsc"}, ["gvisor", "runsc", "5m"],
            id="runtime class",
        ),
    ],
)
def test_other_group_rows(group: str, kind: str, obj: dict, expected: list) -> None:
    assert cells(group, kind, obj) == expected


# ---------------------------------------------------------------- default printer and CRDs


@pytest.mark.parametrize(
    ("group", "kind"),
    [
        pytest.param("", "LimitRange", id="limit ranges have no upstream printer"),
        pytest.param("rbac.authorization.k8s.io", "ClusterRole", id="cluster roles have no upstream printer"),
        pytest.param("example.com", "Widget", id="unknown kinds"),
    ],
)
def test_kinds_without_printer_get_name_and_created_at(group: str, kind: str) -> None:
    printer = printer_for(group, kind)
    assert [(c.name, c.type, c.format) for c in printer.columns] == [
        ("Name", "string", "name"), ("Created At", "date", ""),
    ]
    obj = {"metadata": meta("x", created="2024-05-01T10:00:00Z")}
    assert printer.row(obj, NOW) == ["x", "2024-05-01T10:00:00Z"]


def test_crd_without_printer_columns_gets_name_and_age() -> None:
    printer = crd_printer([])
    assert [(c.name, c.type) for c in printer.columns] == [("Name", "string"), ("Age", "date")]
    assert printer.row({"metadata": meta("w1", created=ago(hours=5))}, NOW) == ["w1", "5h"]


def test_crd_printer_columns_follow_their_types() -> None:
    printer = crd_printer(
        [
            {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "priority": 1},
            {"name": "Enabled", "type": "boolean", "jsonPath": ".spec.enabled"},
            {"name": "Ports", "type": "string", "jsonPath": ".spec.ports"},
            {"name": "First", "type": "string", "jsonPath": ".spec.ports[0].name"},
            {"name": "Missing", "type": "string", "jsonPath": ".status.nothing"},
            {"name": "Since", "type": "date", "jsonPath": ".status.since", "description": "when"},
        ]
    )
    obj = {
        "metadata": meta("w1"),
        "spec": {"replicas": 3.0, "ratio": 2, "enabled": True, "ports": [{"port": 80, "name": "http"}]},
        "status": {
            "conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}],
            "since": ago(minutes=7),
        },
    }
    assert printer.row(obj, NOW) == ["w1", "True", 3, 2.0, True, '[{"name":"http","port":80}]', "http", None, "7m"]
    defs = [c.definition() for c in printer.columns]
    assert defs[3]["priority"] == 1
    assert defs[1]["description"] == (
        'Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=="Ready")].status'
    )
    assert defs[8]["description"] == "when"


def test_crd_printer_rejects_unsupported_paths() -> None:
    with pytest.raises(JSONPathError):
        crd_printer([{"name": "X", "type": "string", "jsonPath": "..items"}])


# ---------------------------------------------------------------- Table dict


def test_table_dict_shape_with_partial_object_metadata() -> None:
    objs = [
        pod(statuses=[container_status("c0", ready=True, **RUNNING)], labels={"app": "web"}),
        pod(phase="Succeeded", statuses=[container_status("c0", terminated={"exitCode": 0, "reason": "Completed"})]),
    ]
    table = build_table(printer_for("", "Pod"), objs, resource_version="1042", now=NOW)
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "1042"}
    assert table["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": table["columnDefinitions"][0]["description"],
        "priority": 0,
    }
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace.")
    assert {tuple(sorted(d)) for d in table["columnDefinitions"]} == {
        ("description", "format", "name", "priority", "type")
    }
    assert len(table["columnDefinitions"]) == 9
    first = table["rows"][0]
    assert first["cells"][:3] == ["web", "1/1", "Running"]
    assert "conditions" not in first
    assert first["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": objs[0]["metadata"],
    }
    assert first["object"]["metadata"]["namespace"] == "default"
    assert first["object"]["metadata"]["labels"] == {"app": "web"}
    assert table["rows"][1]["conditions"] == [
        {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
    ]
    assert all(len(r["cells"]) == len(table["columnDefinitions"]) for r in table["rows"])
    orjson.dumps(table)  # must be encodable as is


def test_table_include_object_none_and_object() -> None:
    obj = {"metadata": meta("cfg"), "data": {}}
    printer = printer_for("", "ConfigMap")
    none = build_table(printer, [obj], include_object="None", now=NOW)
    assert none["rows"] == [{"cells": ["cfg", 0, "5m"]}]
    whole = build_table(printer, [obj], include_object="Object", now=NOW)
    assert whole["rows"][0]["object"] is obj
    default = build_table(printer, [obj], include_object="", now=NOW)
    assert default["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_table_list_metadata_and_no_headers() -> None:
    table = build_table(
        printer_for("", "ConfigMap"),
        [],
        resource_version="9",
        continue_token="abc",
        remaining_item_count=4,
        no_headers=True,
        now=NOW,
        api_version="meta.k8s.io/v1beta1",
    )
    assert table == {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1beta1",
        "metadata": {"resourceVersion": "9", "continue": "abc", "remainingItemCount": 4},
        "columnDefinitions": None,
        "rows": [],
    }


def test_unknown_include_object_is_rejected() -> None:
    with pytest.raises(InvalidIncludeObject, match='unrecognized includeObject value: "All"'):
        build_table(printer_for("", "Pod"), [], include_object="All", now=NOW)


def test_build_table_does_not_modify_objects() -> None:
    obj = pod(statuses=[container_status("c0", ready=True, **RUNNING)])
    before = orjson.dumps(obj)
    build_table(printer_for("", "Pod"), [obj], include_object="Object", now=NOW)
    assert orjson.dumps(obj) == before


# ---------------------------------------------------------------- every printer


@pytest.mark.parametrize("group_kind", registered_kinds(), ids=lambda gk: f"{gk[1]}.{gk[0] or 'core'}")
def test_every_printer_prints_one_cell_per_column_for_a_bare_object(group_kind: tuple[str, str]) -> None:
    printer = printer_for(*group_kind)
    row = printer.row({"metadata": {"name": "bare"}}, NOW)
    assert len(row) == len(printer.columns)
    assert sum(1 for c in printer.columns if c.format == "name") >= 1
    assert all(isinstance(c, (str, int, float, bool)) or c is None for c in row)


@pytest.mark.parametrize("group_kind", registered_kinds(), ids=lambda gk: f"{gk[1]}.{gk[0] or 'core'}")
def test_every_column_has_a_description(group_kind: tuple[str, str]) -> None:
    missing = [c.name for c in printer_for(*group_kind).columns if not c.description]
    # RuntimeClass's Handler column has no description upstream either
    assert missing == (["Handler"] if group_kind == ("node.k8s.io", "RuntimeClass") else [])
