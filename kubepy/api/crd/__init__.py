"""Custom resources: structural schemas and what the API server does with them.

``CustomResourceSchema`` bundles one CRD version's compiled schema with the four things
done to custom resources on every write: pruning of undeclared fields, defaulting,
validation against the schema, and the ``x-kubernetes-validations`` CEL rules. The CRD
checks themselves (is this schema structural?) are ``schema_rules.validate_schema``.
"""

from __future__ import annotations

from typing import Any

from kubepy.api.crd import cel, defaulting, pruning, validation
from kubepy.api.crd.structural import Node, Rule, compile_schema
from kubepy.api.field_errors import FieldError, invalid

__all__ = ["CustomResourceSchema", "Node", "Rule", "compile_schema"]

RULES_NOT_CHECKED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


class CustomResourceSchema:
    """One CRD version's ``openAPIV3Schema``, compiled once; cheap to call per request."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.root: Node = compile_schema(raw)

    @property
    def has_defaults(self) -> bool:
        return self.root.has_defaults

    def prune(self, obj: dict[str, Any]) -> list[str]:
        """Remove undeclared fields in place; returns their paths (``spec.foo``)."""
        return pruning.prune(obj, self.root)

    def default(self, obj: dict[str, Any]) -> bool:
        """Apply schema defaults in place; True if anything changed."""
        return defaulting.apply_defaults(obj, self.root)

    def needs_defaults(self, obj: dict[str, Any]) -> bool:
        return defaulting.needs_defaults(obj, self.root)

    def validate(self, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[FieldError]:
        """Schema errors, then CEL rule errors (skipped, as upstream, after a type error)."""
        errs = validation.validate_object(obj, self.root)
        if self.root.has_rules:
            if validation.has_type_errors(errs):
                errs.append(invalid(cel.ROOT_FIELD, "null", RULES_NOT_CHECKED))
            else:
                errs.extend(cel.validate_rules(obj, old, self.root))
        return errs
