"""kubepy.client: everything a component needs to work through the Kubernetes API.

``Client`` (REST verbs, watches, retries, rate limiting) · ``Reflector`` (list then watch
into a store) · ``Indexer`` (the cache) · ``SharedInformer``/``InformerFactory`` (shared
caches with event handlers) · ``RateLimitingQueue`` (controller work queues) ·
``LeaderElector`` (one active copy via a Lease) · ``EventRecorder`` (core/v1 Events).
Only the public API is used, so all of it works against upstream kube-apiserver too.
This package imports kubepy.api and kubepy.pki only.
"""

from kubepy.client.backoff import Backoff
from kubepy.client.cache import (
    NAMESPACE_INDEX,
    OWNER_UID_INDEX,
    Indexer,
    IndexFunc,
    deepcopy,
    label_index,
    meta_namespace_key,
    namespace_index,
    owner_uid_index,
    split_key,
)
from kubepy.client.clock import REAL_CLOCK, Clock, FakeClock, RealClock
from kubepy.client.errors import (
    ApiError,
    is_already_exists,
    is_conflict,
    is_forbidden,
    is_gone,
    is_invalid,
    is_not_found,
    is_server_error,
    is_too_many_requests,
)
from kubepy.client.events import NORMAL, WARNING, EventRecorder
from kubepy.client.informer import (
    DeletedFinalStateUnknown,
    EventHandler,
    InformerFactory,
    SharedInformer,
    object_of,
)
from kubepy.client.leaderelection import LeaderElectionConfig, LeaderElector, LeaseAPI, micro_time
from kubepy.client.ratelimit import (
    BucketLimiter,
    ItemExponentialLimiter,
    MaxOfLimiter,
    RateLimiter,
    TokenBucket,
    default_controller_rate_limiter,
)
from kubepy.client.reflector import ListerWatcher, Reflector, ReflectorStore, ResourceListerWatcher
from kubepy.client.resource import ResourceRef, builtin_resource, split_api_version
from kubepy.client.rest import Client, DeleteOptions, PatchType, Preconditions, WatchStream
from kubepy.client.workqueue import RateLimitingQueue, ShutDown

__all__ = [
    "ApiError",
    "Backoff",
    "BucketLimiter",
    "Client",
    "Clock",
    "DeleteOptions",
    "DeletedFinalStateUnknown",
    "EventHandler",
    "EventRecorder",
    "FakeClock",
    "IndexFunc",
    "Indexer",
    "InformerFactory",
    "ItemExponentialLimiter",
    "LeaderElectionConfig",
    "LeaderElector",
    "LeaseAPI",
    "ListerWatcher",
    "MaxOfLimiter",
    "NAMESPACE_INDEX",
    "NORMAL",
    "OWNER_UID_INDEX",
    "PatchType",
    "Preconditions",
    "REAL_CLOCK",
    "RateLimiter",
    "RateLimitingQueue",
    "RealClock",
    "Reflector",
    "ReflectorStore",
    "ResourceListerWatcher",
    "ResourceRef",
    "SharedInformer",
    "ShutDown",
    "TokenBucket",
    "WARNING",
    "WatchStream",
    "builtin_resource",
    "deepcopy",
    "default_controller_rate_limiter",
    "is_already_exists",
    "is_conflict",
    "is_forbidden",
    "is_gone",
    "is_invalid",
    "is_not_found",
    "is_server_error",
    "is_too_many_requests",
    "label_index",
    "meta_namespace_key",
    "micro_time",
    "namespace_index",
    "object_of",
    "owner_uid_index",
    "split_api_version",
    "split_key",
]
