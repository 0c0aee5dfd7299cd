"""The registry of served resources: group/version/kind/plural/scope and what each supports.

One ``ResourceInfo`` per served (group, version, resource). Discovery, routing, storage
keys, field selectors and table printing all read this table; nothing else hard-codes a
resource's names. Custom resources are added at run time with ``Registry.add``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
STATUS_VERBS: tuple[str, ...] = ("get", "patch", "update")


@dataclass(frozen=True, kw_only=True, slots=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    #: Set only when the subresource's kind lives in another group/version.
    group: str | None = None
    version: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    #: Field selector keys beyond metadata.name / metadata.namespace.
    field_selectors: tuple[str, ...] = ()
    #: DELETE answers with the object (upstream does for these kinds) rather than a Status.
    delete_returns_object: bool = False
    #: Name of the OpenAPI definition, e.g. io.k8s.api.core.v1.Pod ("" for custom resources).
    schema: str = ""
    #: Storage resource name when it differs from the plural (events of two groups share one).
    storage_resource: str = ""
    #: Allowed to be created by PUT on a missing name.
    allow_create_on_update: bool = False
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``: how upstream names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    @property
    def has_status(self) -> bool:
        return self.subresource("status") is not None

    def key_prefix(self, namespace: str | None = None) -> str:
        """Storage key prefix: ``/registry/<resource>/`` (+ ``<namespace>/``)."""
        res = self.storage_resource or (
            f"{self.group}/{self.plural}" if self.group and not self.schema else self.plural
        )
        base = f"/registry/{res}/"
        if self.namespaced and namespace:
            return f"{base}{namespace}/"
        return base

    def key(self, namespace: str | None, name: str) -> str:
        return self.key_prefix(namespace) + name


def _status(kind: str) -> Subresource:
    return Subresource(name="status", kind=kind, verbs=STATUS_VERBS)


def _scale() -> Subresource:
    return Subresource(name="scale", kind="Scale", verbs=STATUS_VERBS, group="autoscaling", version="v1")


def _r(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    status: bool = False,
    scale: bool = False,
    subs: tuple[Subresource, ...] = (),
    fields: tuple[str, ...] = (),
    returns_object: bool = False,
    schema_pkg: str = "",
    verbs: tuple[str, ...] = ALL_VERBS,
    storage: str = "",
    create_on_update: bool = False,
) -> ResourceInfo:
    subresources: list[Subresource] = []
    if status:
        subresources.append(_status(kind))
    if scale:
        subresources.append(_scale())
    subresources.extend(subs)
    pkg = schema_pkg or (group.split(".")[0] if group else "core")
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        categories=categories,
        verbs=verbs,
        subresources=tuple(subresources),
        field_selectors=fields,
        delete_returns_object=returns_object,
        schema=f"io.k8s.api.{pkg}.{version}.{kind}",
        storage_resource=storage,
        allow_create_on_update=create_on_update,
    )


POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)
ALL = ("all",)
API_EXTENSIONS = ("api-extensions",)

BUILTIN: tuple[ResourceInfo, ...] = (
    # core/v1
    _r("", "v1", "Namespace", "namespaces", namespaced=False, short=("ns",), status=True,
       subs=(Subresource(name="finalize", kind="Namespace", verbs=("update",)),),
       fields=("status.phase",)),
    _r("", "v1", "Pod", "pods", short=("po",), categories=ALL, status=True, returns_object=True,
       subs=(
           Subresource(name="binding", kind="Binding", verbs=("create",)),
           Subresource(name="eviction", kind="Eviction", verbs=("create",), group="policy", version="v1"),
       ),
       fields=POD_FIELDS),
    _r("", "v1", "Service", "services", short=("svc",), categories=ALL, status=True, returns_object=True,
       create_on_update=False),
    _r("", "v1", "Endpoints", "endpoints", short=("ep",), create_on_update=True),
    _r("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _r("", "v1", "Secret", "secrets", fields=("type",)),
    _r("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",), returns_object=True,
       subs=(Subresource(name="token", kind="TokenRequest", verbs=("create",),
                         group="authentication.k8s.io", version="v1"),)),
    _r("", "v1", "Node", "nodes", namespaced=False, short=("no",), status=True, fields=("spec.unschedulable",)),
    _r("", "v1", "Event", "events", short=("ev",), fields=EVENT_FIELDS),
    _r("", "v1", "LimitRange", "limitranges", short=("limits",)),
    _r("", "v1", "ResourceQuota", "resourcequotas", short=("quota",), status=True, returns_object=True),
    _r("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), status=True,
       returns_object=True),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), status=True,
       returns_object=True),
    _r("", "v1", "PodTemplate", "podtemplates", returns_object=True),
    _r("", "v1", "ReplicationController", "replicationcontrollers", short=("rc",), categories=ALL,
       status=True, scale=True),
    # apps/v1
    _r("apps", "v1", "Deployment", "deployments", short=("deploy",), categories=ALL, status=True, scale=True),
    _r("apps", "v1", "ReplicaSet", "replicasets", short=("rs",), categories=ALL, status=True, scale=True,
       fields=("status.replicas",)),
    _r("apps", "v1", "StatefulSet", "statefulsets", short=("sts",), categories=ALL, status=True, scale=True),
    _r("apps", "v1", "DaemonSet", "daemonsets", short=("ds",), categories=ALL, status=True),
    _r("apps", "v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _r("batch", "v1", "Job", "jobs", categories=ALL, status=True, fields=("status.successful",)),
    _r("batch", "v1", "CronJob", "cronjobs", short=("cj",), categories=ALL, status=True),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "Lease", "leases", schema_pkg="coordination"),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", schema_pkg="discovery"),
    # events.k8s.io/v1: a view of the core events (kubepy.api.conversion)
    _r("events.k8s.io", "v1", "Event", "events", short=("ev",), schema_pkg="events", storage="events"),
    # apiextensions.k8s.io/v1 (custom resources themselves are added at run time)
    ResourceInfo(
        group="apiextensions.k8s.io", version="v1", kind="CustomResourceDefinition",
        plural="customresourcedefinitions", singular="customresourcedefinition", namespaced=False,
        short_names=("crd", "crds"), categories=("api-extensions",),
        subresources=(_status("CustomResourceDefinition"),),
        schema="io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        storage_resource="apiextensions.k8s.io/customresourcedefinitions",
    ),
    # -- the rest of the built-in groups (issue 6): stored, validated and printed --------------
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    _r("storage.k8s.io", "v1", "CSIDriver", "csidrivers", namespaced=False),
    _r("storage.k8s.io", "v1", "CSINode", "csinodes", namespaced=False),
    _r("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", namespaced=False, status=True),
    _r("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities"),
    # policy/v1
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), status=True),
    # networking.k8s.io/v1
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _r("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",), status=True),
    _r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    # autoscaling: v2 first (the preferred version, and the stored form); v1 is a converted view
    _r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
       categories=ALL, status=True),
    _r("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",),
       categories=ALL, status=True),
    # scheduling.k8s.io/v1, node.k8s.io/v1
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
    _r("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", namespaced=False),
    # certificates.k8s.io/v1
    _r("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", namespaced=False,
       short=("csr",), status=True,
       subs=(Subresource(name="approval", kind="CertificateSigningRequest", verbs=STATUS_VERBS),),
       fields=("spec.signerName",)),
    # admissionregistration.k8s.io/v1 (stored only: no webhook calls, no policy evaluation yet)
    _r("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
       namespaced=False, categories=API_EXTENSIONS),
    _r("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
       namespaced=False, categories=API_EXTENSIONS),
    _r("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies",
       namespaced=False, categories=API_EXTENSIONS, status=True),
    _r("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding",
       "validatingadmissionpolicybindings", namespaced=False, categories=API_EXTENSIONS),
    # flowcontrol.apiserver.k8s.io/v1 (stored; no request fairness is enforced)
    _r("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", namespaced=False, status=True),
    _r("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations",
       namespaced=False, status=True),
    # apiregistration.k8s.io/v1 (stored; nothing is proxied to aggregated servers)
    replace(
        _r("apiregistration.k8s.io", "v1", "APIService", "apiservices", namespaced=False,
           categories=API_EXTENSIONS, status=True, storage="apiregistration.k8s.io/apiservices"),
        schema="io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService",
    ),
)


class Registry:
    """Lookup of served resources by group/version/plural, kind, or short name."""

    def __init__(self, resources: Iterable[ResourceInfo] | None = None) -> None:
        if resources is None:
            resources = (*BUILTIN, *REVIEWS)
        self._by_gvr: dict[tuple[str, str, str], ResourceInfo] = {}
        self._by_gvk: dict[tuple[str, str, str], ResourceInfo] = {}
        for info in resources:
            self.add(info)

    def add(self, info: ResourceInfo) -> None:
        self._by_gvr[(info.group, info.version, info.plural)] = info
        self._by_gvk[(info.group, info.version, info.kind)] = info

    def remove(self, info: ResourceInfo) -> None:
        self._by_gvr.pop((info.group, info.version, info.plural), None)
        self._by_gvk.pop((info.group, info.version, info.kind), None)

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return self._by_gvk.get((group, version, kind))

    def __iter__(self) -> Iterator[ResourceInfo]:
        return iter(self._by_gvr.values())

    def groups(self) -> dict[str, list[str]]:
        """group -> versions served, preferred first (core group is "")."""
        out: dict[str, list[str]] = {}
        for info in self._by_gvr.values():
            versions = out.setdefault(info.group, [])
            if info.version not in versions:
                versions.append(info.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceInfo]:
        return [i for i in self._by_gvr.values() if i.group == group and i.version == version]


# Review APIs: create-only, computed on the fly, never stored.
REVIEWS: tuple[ResourceInfo, ...] = (
    _r("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced=False,
       schema_pkg="authentication", verbs=("create",)),
    _r("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", namespaced=False,
       schema_pkg="authentication", verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False,
       schema_pkg="authorization", verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced=False,
       schema_pkg="authorization", verbs=("create",)),
    _r("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", namespaced=False,
       schema_pkg="authorization", verbs=("create",)),
    _r("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews",
       schema_pkg="authorization", verbs=("create",)),
)


def is_stored(info: ResourceInfo) -> bool:
    """Resources kept in storage (and the watch cache), unlike the review APIs."""
    return "list" in info.verbs
