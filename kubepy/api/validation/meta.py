"""ObjectMeta, labels, annotations, label selectors and the small shared field rules.

Mirrors apimachinery's ``api/validation/objectmeta.go`` and ``apis/meta/v1/validation``
plus the core-group finalizer rule, over JSON dicts. Field paths are plain strings built
the way upstream's ``field.Path`` renders them (``metadata.labels``,
``metadata.annotations[example.com/x]``, ``spec.containers[0].image``).

What is *not* here, on purpose: the API server sets ``uid``, ``creationTimestamp``,
``resourceVersion``, ``generation`` and ``deletionTimestamp`` itself before validation;
``validate_object_meta_update`` only refuses a client trying to change the ones that are
immutable (upstream does the same: deletionTimestamp/deletionGracePeriodSeconds can be
set only through DELETE, so an update carrying a different value is rejected).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, forbidden, invalid, required, too_long
from kubepy.api.validation import names
from kubepy.api.validation.names import NameFn

FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

_EMPTY: Mapping[str, Any] = {}


def as_dict(value: Any) -> Mapping[str, Any]:
    """A JSON object or an empty mapping (missing / null / wrong type)."""
    return value if isinstance(value, dict) else _EMPTY


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    """A Go non-pointer integer: missing or null reads as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- small shared rules ---------------------------------------------------------------


def validate_nonnegative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(path, value, IS_NEGATIVE)]
    return []


def validate_immutable(new: Any, old: Any, path: str) -> list[FieldError]:
    if new != old:
        return [invalid(path, new, FIELD_IMMUTABLE)]
    return []


def validate_qualified_name(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in names.is_qualified_name(value)]


def validate_dns1123_label(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in names.is_dns1123_label(value)]


def validate_dns1123_subdomain(value: str, path: str) -> list[FieldError]:
    return [invalid(path, value, m) for m in names.is_dns1123_subdomain(value)]


def validate_name_with(fn: NameFn, value: str, path: str, prefix: bool = False) -> list[FieldError]:
    return [invalid(path, value, m) for m in fn(value, prefix)]


# --- labels, annotations, selectors ---------------------------------------------------


def validate_label_name(key: str, path: str) -> list[FieldError]:
    return [invalid(path, key, m) for m in names.is_qualified_name(key)]


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for k, v in as_dict(labels).items():
        errs.extend(validate_label_name(k, path))
        value = as_str(v)
        errs.extend(invalid(path, value, m) for m in names.is_valid_label_value(value))
    return errs


def validate_annotations(annotations: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for k, v in as_dict(annotations).items():
        # the rule is a qualified name, except that case does not matter
        errs.extend(invalid(path, k, m) for m in names.is_qualified_name(k.lower()))
        total += len(k.encode()) + len(as_str(v).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


_SELECTOR_OPS_WITH_VALUES = ("In", "NotIn")
_SELECTOR_OPS_WITHOUT_VALUES = ("Exists", "DoesNotExist")


def validate_label_selector(selector: Any, path: str, *, allow_invalid_label_value: bool = False) -> list[FieldError]:
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        errs.extend(
            validate_label_selector_requirement(
                as_dict(expr), f"{path}.matchExpressions[{i}]", allow_invalid_label_value=allow_invalid_label_value
            )
        )
    return errs


def validate_label_selector_requirement(
    req: Mapping[str, Any], path: str, *, allow_invalid_label_value: bool = False
) -> list[FieldError]:
    errs: list[FieldError] = []
    op = as_str(req.get("operator"))
    values = as_list(req.get("values"))
    if op in _SELECTOR_OPS_WITH_VALUES:
        if not values:
            errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in _SELECTOR_OPS_WITHOUT_VALUES:
        if values:
            errs.append(forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    else:
        errs.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
    errs.extend(validate_label_name(as_str(req.get("key")), f"{path}.key"))
    if not allow_invalid_label_value:
        for j, v in enumerate(values):
            value = as_str(v)
            errs.extend(invalid(f"{path}.values[{j}]", value, m) for m in names.is_valid_label_value(value))
    return errs


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether a LabelSelector (dict form) matches a label map. A None selector matches nothing."""
    if not isinstance(selector, dict):
        return False
    lbls = as_dict(labels)
    for k, v in as_dict(selector.get("matchLabels")).items():
        if lbls.get(k) != v:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        e = as_dict(expr)
        key, op, values = as_str(e.get("key")), e.get("operator"), as_list(e.get("values"))
        present = key in lbls
        if op == "In":
            if not present or lbls[key] not in values:
                return False
        elif op == "NotIn":
            if present and lbls[key] in values:
                return False
        elif op == "Exists":
            if not present:
                return False
        elif op == "DoesNotExist":
            if present:
                return False
        else:
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    s = as_dict(selector)
    return not s.get("matchLabels") and not s.get("matchExpressions")


# --- ownerReferences, finalizers, managedFields ---------------------------------------


def _split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        if "/" in version:  # upstream's FromAPIVersionAndKind yields an empty version
            return "", ""
        return group, version
    return "", api_version


def validate_owner_references(refs: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    first_controller = ""
    for raw in as_list(refs):
        ref = as_dict(raw)
        api_version = as_str(ref.get("apiVersion"))
        kind = as_str(ref.get("kind"))
        group, version = _split_api_version(api_version)
        if not version:
            errs.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not kind:
            errs.append(invalid(f"{path}.kind", kind, "must not be empty"))
        if not as_str(ref.get("name")):
            errs.append(invalid(f"{path}.name", as_str(ref.get("name")), "must not be empty"))
        if not as_str(ref.get("uid")):
            errs.append(invalid(f"{path}.uid", as_str(ref.get("uid")), "must not be empty"))
        if group == "" and version == "v1" and kind == "Event":
            errs.append(invalid(path, dict(ref), "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            current = f"{kind}/{as_str(ref.get('name'))}"
            if first_controller:
                errs.append(
                    invalid(
                        path,
                        refs,
                        "Only one reference can have Controller set to true. "
                        f'Found "true" in references for {first_controller} and {current}',
                    )
                )
            else:
                first_controller = current
    return errs


def validate_finalizers(finalizers: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    items = as_list(finalizers)
    for f in items:
        errs.extend(validate_qualified_name(as_str(f), path))
    if "orphan" in items and "foregroundDeletion" in items:
        errs.append(invalid(path, items, "finalizer orphan and foregroundDeletion cannot be both set"))
    return errs


def validate_kube_finalizer_names(finalizers: Any, path: str) -> list[FieldError]:
    """The core-group extra rule: an unprefixed finalizer must be a standard one."""
    errs: list[FieldError] = []
    for i, f in enumerate(as_list(finalizers)):
        name = as_str(f)
        if "/" not in name and name not in STANDARD_FINALIZERS:
            errs.append(invalid(f"{path}[{i}]", name, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def validate_managed_fields(entries: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(entries)):
        e = as_dict(raw)
        p = f"{path}[{i}]"
        op = as_str(e.get("operation"))
        if op not in ("Apply", "Update"):
            errs.append(invalid(f"{p}.operation", op, "must be `Apply` or `Update`"))
        ftype = as_str(e.get("fieldsType"))
        if ftype and ftype != "FieldsV1":
            errs.append(invalid(f"{p}.fieldsType", ftype, "must be `FieldsV1`"))
        manager = as_str(e.get("manager"))
        if len(manager) > 128:
            errs.append(too_long(f"{p}.manager", manager, 128))
        if len(as_str(e.get("subresource"))) > 256:
            errs.append(too_long(f"{p}.subresource", "", 256))
    return errs


# --- ObjectMeta -------------------------------------------------------------------------


def validate_object_meta(
    meta: Any,
    *,
    namespaced: bool,
    name_fn: NameFn,
    path: str = "metadata",
    core_group: bool = True,
) -> list[FieldError]:
    """ObjectMeta on create (after name generation). ``core_group`` adds the finalizer rule
    that upstream's core-group ValidateObjectMeta layers on top of apimachinery's."""
    m = as_dict(meta)
    errs: list[FieldError] = []
    generate_name = as_str(m.get("generateName"))
    name = as_str(m.get("name"))
    if generate_name:
        errs.extend(invalid(f"{path}.generateName", generate_name, msg) for msg in name_fn(generate_name, True))
    if not name:
        errs.append(required(f"{path}.name", "name or generateName is required"))
    else:
        errs.extend(invalid(f"{path}.name", name, msg) for msg in name_fn(name, False))
    errs.extend(_validate_meta_common(m, namespaced, path))
    if core_group:
        errs.extend(validate_kube_finalizer_names(m.get("finalizers"), f"{path}.finalizers"))
    return errs


def _validate_meta_common(m: Mapping[str, Any], namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    namespace = as_str(m.get("namespace"))
    if namespaced:
        if not namespace:
            errs.append(required(f"{path}.namespace", ""))
        else:
            errs.extend(invalid(f"{path}.namespace", namespace, msg) for msg in names.name_is_dns_label(namespace))
    elif namespace:
        errs.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    errs.extend(validate_nonnegative(m.get("generation"), f"{path}.generation"))
    errs.extend(validate_labels(m.get("labels"), f"{path}.labels"))
    errs.extend(validate_annotations(m.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_owner_references(m.get("ownerReferences"), f"{path}.ownerReferences"))
    errs.extend(validate_finalizers(m.get("finalizers"), f"{path}.finalizers"))
    errs.extend(validate_managed_fields(m.get("managedFields"), f"{path}.managedFields"))
    return errs


def validate_object_meta_update(
    new: Any, old: Any, *, path: str = "metadata", core_group: bool = True
) -> list[FieldError]:
    """ObjectMeta on update: immutable identity fields, resourceVersion present,
    generation not decremented, no new finalizers once deletion started, and the
    labels/annotations/ownerReferences/finalizers format rules again."""
    n, o = as_dict(new), as_dict(old)
    errs: list[FieldError] = []
    if o.get("deletionTimestamp"):
        extra = sorted(set(map(as_str, as_list(n.get("finalizers")))) - set(map(as_str, as_list(o.get("finalizers")))))
        if extra:
            rendered = "[]string{" + ", ".join(f'"{e}"' for e in extra) + "}"
            errs.append(
                forbidden(
                    f"{path}.finalizers",
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {rendered}",
                )
            )
    if not as_str(n.get("resourceVersion")):
        errs.append(invalid(f"{path}.resourceVersion", as_str(n.get("resourceVersion")), "must be specified for an update"))
    new_gen, old_gen = as_int(n.get("generation")), as_int(o.get("generation"))
    if new_gen < old_gen:
        errs.append(invalid(f"{path}.generation", new_gen, "must not be decremented"))
    for field, default in (
        ("name", ""),
        ("namespace", ""),
        ("uid", ""),
        ("creationTimestamp", None),
        ("deletionTimestamp", None),
        ("deletionGracePeriodSeconds", None),
    ):
        nv = n.get(field, default)
        ov = o.get(field, default)
        if default == "":
            nv, ov = as_str(nv), as_str(ov)
        errs.extend(validate_immutable(nv, ov, f"{path}.{field}"))
    errs.extend(validate_labels(n.get("labels"), f"{path}.labels"))
    errs.extend(validate_annotations(n.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_owner_references(n.get("ownerReferences"), f"{path}.ownerReferences"))
    errs.extend(validate_finalizers(n.get("finalizers"), f"{path}.finalizers"))
    errs.extend(validate_managed_fields(n.get("managedFields"), f"{path}.managedFields"))
    if core_group:
        errs.extend(validate_kube_finalizer_names(n.get("finalizers"), f"{path}.finalizers"))
    return errs


def validate_template_object_meta(meta: Any, path: str) -> list[FieldError]:
    """Embedded template metadata (PVC templates): only labels and annotations allowed."""
    m = as_dict(meta)
    errs = validate_annotations(m.get("annotations"), f"{path}.annotations")
    errs.extend(validate_labels(m.get("labels"), f"{path}.labels"))
    for key, value in m.items():
        if key not in ("labels", "annotations") and value not in (None, "", {}, []):
            errs.append(forbidden(f"{path}.{key}", "cannot be set"))
    return errs
