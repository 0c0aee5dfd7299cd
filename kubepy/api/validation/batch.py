"""Validation of batch/v1 kinds (Job, CronJob) and the Job selector generation.

Mirrors ``pkg/apis/batch/validation``. ``generate_job_selector`` is the registry
strategy's step (upstream ``generateSelector`` in PrepareForCreate): the API server calls
it on create, after the name and uid are set and before validation, unless
``spec.manualSelector`` is true. Update options follow upstream's strategy: template
scheduling directives become mutable only for a suspended Job that never started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, duplicate, invalid, not_supported, required, too_long, too_many
from kubepy.api.validation import names
from kubepy.api.validation.cron import parse_standard_error, time_zone_errors
from kubepy.api.validation.meta import (
    FIELD_IMMUTABLE,
    as_dict,
    as_int,
    as_list,
    as_str,
    selector_matches,
    validate_immutable,
    validate_label_selector,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
    validate_qualified_name,
)
from kubepy.api.validation.pods import validate_pod_template_spec

LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"

MAX_PARALLELISM_INDEXED = 100_000
MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000
MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000
POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")


def _meta(obj: Mapping[str, Any]) -> Any:
    return obj.get("metadata")


def generate_job_selector(job: dict[str, Any]) -> None:
    """Add the job-name/controller-uid labels to the template and select on the uid (in place)."""
    meta = job.setdefault("metadata", {})
    spec = job.setdefault("spec", {})
    template = spec.setdefault("template", {})
    tmeta = template.get("metadata")
    if not isinstance(tmeta, dict):
        tmeta = template["metadata"] = {}
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = tmeta["labels"] = {}
    name, uid = as_str(meta.get("name")), as_str(meta.get("uid"))
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match_labels = selector.get("matchLabels")
    if not isinstance(match_labels, dict):
        match_labels = selector["matchLabels"] = {}
    match_labels.setdefault(CONTROLLER_UID_LABEL, uid)


def _has_label(tmeta: Mapping[str, Any], key: str, expected: str) -> list[FieldError]:
    labels = as_dict(tmeta.get("labels"))
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(path, dict(labels), f"must be '{expected}'")]
    return []


def _validate_generated_selector(job: Mapping[str, Any], require_prefixed: bool) -> list[FieldError]:
    spec = as_dict(job.get("spec"))
    if spec.get("manualSelector") is True or not isinstance(spec.get("selector"), dict):
        return []
    meta = as_dict(_meta(job))
    uid, name = as_str(meta.get("uid")), as_str(meta.get("name"))
    errs: list[FieldError] = []
    if not uid:
        errs.append(required("metadata.uid", ""))
    tmeta = as_dict(as_dict(spec.get("template")).get("metadata"))
    errs.extend(_has_label(tmeta, LEGACY_CONTROLLER_UID_LABEL, uid))
    errs.extend(_has_label(tmeta, LEGACY_JOB_NAME_LABEL, name))
    expected = {LEGACY_CONTROLLER_UID_LABEL: uid, LEGACY_JOB_NAME_LABEL: name}
    if require_prefixed:
        errs.extend(_has_label(tmeta, CONTROLLER_UID_LABEL, uid))
        errs.extend(_has_label(tmeta, JOB_NAME_LABEL, name))
        expected[CONTROLLER_UID_LABEL] = uid
        expected[JOB_NAME_LABEL] = name
    if not selector_matches(spec["selector"], expected):
        errs.append(invalid("spec.selector", spec["selector"], "`selector` not auto-generated"))
    return errs


def _validate_pod_failure_policy(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    rules = as_list(as_dict(spec.get("podFailurePolicy")).get("rules"))
    errs: list[FieldError] = []
    if len(rules) > 20:
        errs.append(too_many(f"{path}.rules", len(rules), 20))
    tspec = as_dict(as_dict(spec.get("template")).get("spec"))
    container_names = {as_str(as_dict(c).get("name")) for key in ("containers", "initContainers") for c in as_list(tspec.get(key))}
    for i, raw in enumerate(rules):
        rule = as_dict(raw)
        rp = f"{path}.rules[{i}]"
        action = as_str(rule.get("action"))
        if not action:
            errs.append(required(f"{rp}.action", 'valid values: ["Count" "FailIndex" "FailJob" "Ignore"]'))
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                errs.append(invalid(f"{rp}.action", action, "requires the backoffLimitPerIndex to be set"))
        elif action not in POD_FAILURE_ACTIONS:
            errs.append(not_supported(f"{rp}.action", action, POD_FAILURE_ACTIONS))
        on_exit = rule.get("onExitCodes")
        on_conditions = as_list(rule.get("onPodConditions"))
        if isinstance(on_exit, dict):
            ep = f"{rp}.onExitCodes"
            op = as_str(on_exit.get("operator"))
            if not op:
                errs.append(required(f"{ep}.operator", 'valid values: ["In" "NotIn"]'))
            elif op not in ("In", "NotIn"):
                errs.append(not_supported(f"{ep}.operator", op, ("In", "NotIn")))
            cname = on_exit.get("containerName")
            if cname is not None and cname not in container_names:
                errs.append(invalid(f"{ep}.containerName", cname, "must be one of the container or initContainer names in the pod template"))
            values = as_list(on_exit.get("values"))
            if not values:
                errs.append(invalid(f"{ep}.values", values, "at least one value is required"))
            elif len(values) > 255:
                errs.append(too_many(f"{ep}.values", len(values), 255))
            seen: set[int] = set()
            ordered = True
            for j, v in enumerate(values):
                if op == "In" and v == 0:
                    errs.append(invalid(f"{ep}.values[{j}]", v, "must not be 0 for the In operator"))
                if v in seen:
                    errs.append(duplicate(f"{ep}.values[{j}]", v))
                seen.add(v)
                if j > 0 and as_int(values[j - 1]) > as_int(v):
                    ordered = False
            if not ordered:
                errs.append(invalid(f"{ep}.values", values, "must be ordered"))
        for j, raw_pattern in enumerate(on_conditions):
            pattern = as_dict(raw_pattern)
            pp = f"{rp}.onPodConditions[{j}]"
            errs.extend(validate_qualified_name(as_str(pattern.get("type")), f"{pp}.type"))
            status = as_str(pattern.get("status"))
            if not status:
                errs.append(required(f"{pp}.status", 'valid values: ["False" "True" "Unknown"]'))
            elif status not in ("False", "True", "Unknown"):
                errs.append(not_supported(f"{pp}.status", status, ("False", "True", "Unknown")))
        if isinstance(on_exit, dict) and on_conditions:
            errs.append(FieldError("FieldValueInvalid", rp, "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported"))
        if not isinstance(on_exit, dict) and not on_conditions:
            errs.append(FieldError("FieldValueInvalid", rp, "Invalid value: specifying one of OnExitCodes and OnPodConditions is required"))
    return errs


def validate_job_spec_common(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    """upstream validateJobSpec: counts, completion mode, policies, template, restartPolicy."""
    errs: list[FieldError] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex"):
        if spec.get(key) is not None:
            errs.extend(validate_nonnegative(spec[key], f"{path}.{key}"))
    max_failed = spec.get("maxFailedIndexes")
    if max_failed is not None:
        errs.extend(validate_nonnegative(max_failed, f"{path}.maxFailedIndexes"))
        if spec.get("backoffLimitPerIndex") is None:
            errs.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    managed_by = spec.get("managedBy")
    if managed_by is not None:
        mb = as_str(managed_by)
        segments = mb.split("/", 1)
        if not mb:
            errs.append(required(f"{path}.managedBy", ""))
        elif len(segments) != 2 or not segments[0] or not segments[1]:
            errs.append(invalid(f"{path}.managedBy", mb, 'must be a domain-prefixed path (such as "acme.io/foo")'))
        else:
            errs.extend(invalid(f"{path}.managedBy", segments[0], m) for m in names.is_dns1123_subdomain(segments[0]))
        if len(mb) > 63:
            errs.append(too_long(f"{path}.managedBy", mb, 63))
    mode = spec.get("completionMode")
    completions, parallelism = spec.get("completions"), spec.get("parallelism")
    if mode is not None:
        if mode not in ("NonIndexed", "Indexed"):
            errs.append(not_supported(f"{path}.completionMode", mode, ("NonIndexed", "Indexed")))
        if mode == "Indexed":
            if completions is None:
                errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
            if parallelism is not None and as_int(parallelism) > MAX_PARALLELISM_INDEXED:
                errs.append(invalid(f"{path}.parallelism", parallelism, f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"))
            if completions is not None and max_failed is not None and as_int(max_failed) > as_int(completions):
                errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, "must be less than or equal to completions"))
            if max_failed is not None and as_int(max_failed) > MAX_FAILED_INDEXES:
                errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, f"must be less than or equal to {MAX_FAILED_INDEXES}"))
            if completions is not None and as_int(completions) > COMPLETIONS_SOFT_LIMIT and spec.get("backoffLimitPerIndex") is not None:
                if max_failed is None:
                    errs.append(required(f"{path}.maxFailedIndexes", f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}"))
                if parallelism is not None and as_int(parallelism) > PARALLELISM_LIMIT_HIGH_COMPLETIONS:
                    errs.append(invalid(f"{path}.parallelism", parallelism, f"must be less than or equal to {PARALLELISM_LIMIT_HIGH_COMPLETIONS} when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"))
                if max_failed is not None and as_int(max_failed) > MAX_FAILED_INDEXES_HIGH_COMPLETIONS:
                    errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, f"must be less than or equal to {MAX_FAILED_INDEXES_HIGH_COMPLETIONS} when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"))
    if mode in (None, "NonIndexed"):
        if spec.get("backoffLimitPerIndex") is not None:
            errs.append(invalid(f"{path}.backoffLimitPerIndex", spec["backoffLimitPerIndex"], "requires indexed completion mode"))
        if max_failed is not None:
            errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, "requires indexed completion mode"))
    if isinstance(spec.get("podFailurePolicy"), dict):
        errs.extend(_validate_pod_failure_policy(spec, f"{path}.podFailurePolicy"))
    if isinstance(spec.get("successPolicy"), dict):
        if mode != "Indexed":
            errs.append(invalid(f"{path}.successPolicy", spec["successPolicy"], "requires indexed completion mode"))
        else:
            rules = as_list(spec["successPolicy"].get("rules"))
            if not rules:
                errs.append(required(f"{path}.successPolicy.rules", "at least one rules must be specified when the successPolicy is specified"))
            if len(rules) > 20:
                errs.append(too_many(f"{path}.successPolicy.rules", len(rules), 20))
            for i, raw in enumerate(rules):
                rule = as_dict(raw)
                rp = f"{path}.successPolicy.rules[{i}]"
                if rule.get("succeededCount") is None and rule.get("succeededIndexes") is None:
                    errs.append(required(rp, "at least one of succeededCount or succeededIndexes must be specified"))
                count = rule.get("succeededCount")
                if count is not None:
                    errs.extend(validate_nonnegative(count, f"{rp}.succeededCount"))
                    if completions is not None and as_int(count) > as_int(completions):
                        errs.append(invalid(f"{rp}.succeededCount", count, f"must be less than or equal to {as_int(completions)} (the number of specified completions)"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if isinstance(spec.get("podFailurePolicy"), dict):
            if replacement != "Failed":
                errs.append(not_supported(f"{path}.podReplacementPolicy", replacement, ("Failed",)))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            errs.append(not_supported(f"{path}.podReplacementPolicy", replacement, ("Failed", "TerminatingOrFailed")))
    errs.extend(validate_pod_template_spec(spec.get("template"), f"{path}.template"))
    restart = as_str(as_dict(as_dict(spec.get("template")).get("spec")).get("restartPolicy"))
    rpath = f"{path}.template.spec.restartPolicy"
    if restart in ("Always", ""):
        errs.append(required(rpath, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(rpath, restart, ("OnFailure", "Never")))
    elif isinstance(spec.get("podFailurePolicy"), dict) and restart != "Never":
        errs.append(invalid(rpath, restart, 'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def _validate_job_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_job_spec_common(spec, "spec")
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        errs.append(required("spec.selector", ""))
        # a nil selector matches nothing, so upstream also reports the template labels
        tlabels = as_dict(as_dict(spec.get("template")).get("metadata")).get("labels")
        errs.append(invalid("spec.template.metadata.labels", as_dict(tlabels), "`selector` does not match template `labels`"))
    else:
        errs.extend(validate_label_selector(selector, "spec.selector"))
        tlabels = as_dict(as_dict(spec.get("template")).get("metadata")).get("labels")
        if not selector_matches(selector, tlabels) and (selector.get("matchLabels") or selector.get("matchExpressions")):
            errs.append(invalid("spec.template.metadata.labels", as_dict(tlabels), "`selector` does not match template `labels`"))
    return errs


def validate_job(job: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(job))
    spec = as_dict(job.get("spec"))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_generated_selector(job, require_prefixed=True))
    errs.extend(_validate_job_spec(spec))
    completions = spec.get("completions")
    if spec.get("completionMode") == "Indexed" and completions is not None and as_int(completions) > 0:
        hostname = f"{as_str(meta.get('name'))}-{as_int(completions) - 1}"
        if names.is_dns1123_label(hostname):
            errs.append(invalid("metadata.name", as_str(meta.get("name")), f"will not able to create pod with invalid DNS label: {hostname}"))
    return errs


_SCHEDULING_KEYS = ("nodeSelector", "tolerations", "schedulingGates")


def _mutable_scheduling_template(new_t: Mapping[str, Any], old_t: Mapping[str, Any]) -> dict[str, Any]:
    """The old template with the directives a suspended, never-started Job may change taken from new."""
    old = dict(old_t)
    nmeta, ometa = as_dict(new_t.get("metadata")), dict(as_dict(old_t.get("metadata")))
    for key in ("labels", "annotations"):
        ometa.pop(key, None)
        if key in nmeta:
            ometa[key] = nmeta[key]
    old["metadata"] = ometa
    nspec, ospec = as_dict(new_t.get("spec")), dict(as_dict(old_t.get("spec")))
    for key in _SCHEDULING_KEYS:
        ospec.pop(key, None)
        if key in nspec:
            ospec[key] = nspec[key]
    naff, oaff = nspec.get("affinity"), ospec.get("affinity")
    if naff is None and isinstance(oaff, dict):
        rest = {k: v for k, v in oaff.items() if k != "nodeAffinity"}
        if rest:
            ospec["affinity"] = rest
        else:
            ospec.pop("affinity", None)
    elif isinstance(naff, dict):
        merged = {k: v for k, v in as_dict(oaff).items() if k != "nodeAffinity"}
        if "nodeAffinity" in naff:
            merged["nodeAffinity"] = naff["nodeAffinity"]
        ospec["affinity"] = merged
    old["spec"] = ospec
    return old


def validate_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs.extend(_validate_job_spec(nspec))
    # completions: immutable unless an Indexed job scales completions with parallelism
    if nspec.get("completions") != ospec.get("completions"):
        if nspec.get("completionMode") != "Indexed":
            errs.append(invalid("spec.completions", nspec.get("completions"), FIELD_IMMUTABLE))
        elif nspec.get("completions") is not None and nspec.get("completions") != nspec.get("parallelism"):
            errs.append(invalid("spec.completions", nspec.get("completions"), "can only be modified in tandem with spec.parallelism"))
    errs.extend(validate_immutable(nspec.get("selector"), ospec.get("selector"), "spec.selector"))
    new_t, old_t = as_dict(nspec.get("template")), as_dict(ospec.get("template"))
    suspended_never_started = ospec.get("suspend") is True and not as_dict(old.get("status")).get("startTime")
    if suspended_never_started:
        old_t = _mutable_scheduling_template(new_t, old_t)
    errs.extend(validate_immutable(dict(new_t), dict(old_t), "spec.template"))
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        errs.extend(validate_immutable(nspec.get(key), ospec.get(key), f"spec.{key}"))
    return errs


def validate_job_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    status = as_dict(new.get("status"))
    for key in ("active", "succeeded", "failed", "ready", "terminating"):
        errs.extend(validate_nonnegative(status.get(key), f"status.{key}"))
    seen: set[str] = set()
    uncounted = as_dict(status.get("uncountedTerminatedPods"))
    for kind in ("succeeded", "failed"):
        for i, uid in enumerate(as_list(uncounted.get(kind))):
            p = f"status.uncountedTerminatedPods.{kind}[{i}]"
            if not uid:
                errs.append(invalid(p, as_str(uid), "must not be empty"))
            elif uid in seen:
                errs.append(duplicate(p, uid))
            else:
                seen.add(as_str(uid))
    ready = status.get("ready")
    if ready is not None and as_int(ready) > as_int(status.get("active")):
        errs.append(invalid("status.ready", ready, "cannot set more ready pods than active"))
    return errs


# --- CronJob -----------------------------------------------------------------------------


def _validate_job_template_spec(tmpl: Mapping[str, Any], path: str) -> list[FieldError]:
    spec = as_dict(tmpl.get("spec"))
    errs = validate_job_spec_common(spec, f"{path}.spec")
    if spec.get("selector") is not None:
        errs.append(invalid(f"{path}.spec.selector", spec["selector"], "`selector` will be auto-generated"))
    if spec.get("manualSelector") is True:
        errs.append(not_supported(f"{path}.spec.manualSelector", True, ("nil", "false")))
    return errs


def _validate_cron_job_spec(spec: Mapping[str, Any], old_spec: Mapping[str, Any] | None) -> list[FieldError]:
    errs: list[FieldError] = []
    schedule = as_str(spec.get("schedule"))
    if not schedule:
        errs.append(required("spec.schedule", ""))
    else:
        allow_tz = old_spec is not None and "TZ" in as_str(old_spec.get("schedule"))
        err = parse_standard_error(schedule)
        if err:
            errs.append(invalid("spec.schedule", schedule, err))
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            errs.append(invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
        elif not allow_tz and "TZ" in schedule:
            errs.append(invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    if spec.get("startingDeadlineSeconds") is not None:
        errs.extend(validate_nonnegative(spec["startingDeadlineSeconds"], "spec.startingDeadlineSeconds"))
    tz = spec.get("timeZone")
    if tz is not None and (old_spec is None or old_spec.get("timeZone") != tz):
        errs.extend(invalid("spec.timeZone", tz, m) for m in time_zone_errors(as_str(tz)))
    policy = as_str(spec.get("concurrencyPolicy"))
    if not policy:
        errs.append(required("spec.concurrencyPolicy", ""))
    elif policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    errs.extend(_validate_job_template_spec(as_dict(spec.get("jobTemplate")), "spec.jobTemplate"))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(key) is not None:
            errs.extend(validate_nonnegative(spec[key], f"spec.{key}"))
    return errs


def validate_cron_job(cj: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(cj))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_cron_job_spec(as_dict(cj.get("spec")), None))
    name = as_str(meta.get("name"))
    if len(name) > names.DNS1035_LABEL_MAX - 11:
        errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


def validate_cron_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_cron_job_spec(as_dict(new.get("spec")), as_dict(old.get("spec"))))
    return errs


def validate_cron_job_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old))
