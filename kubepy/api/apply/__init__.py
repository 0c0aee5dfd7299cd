"""Server-side apply as a library: schema shapes, field sets, apply and update.

See ``merge`` for the operations, ``fieldpath`` for FieldsV1 and ``schema`` for how list
and map semantics are read from OpenAPI. Nothing here does I/O.
"""

from kubepy.api.apply.fieldpath import FieldSet, InvalidObject, path_string
from kubepy.api.apply.merge import (
    LAST_APPLIED_ANNOTATION,
    ApplyBadRequest,
    ApplyConflict,
    ApplyError,
    apply,
    default_manager,
    update,
)
from kubepy.api.apply.schema import Schema

__all__ = [
    "LAST_APPLIED_ANNOTATION",
    "ApplyBadRequest",
    "ApplyConflict",
    "ApplyError",
    "FieldSet",
    "InvalidObject",
    "Schema",
    "apply",
    "default_manager",
    "path_string",
    "update",
]
