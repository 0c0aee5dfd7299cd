"""Table printers for cluster-administration kinds: priority and runtime classes,
certificate signing requests, admission configuration, API priority and fairness, and
aggregated APIServices (upstream v1.32 columns)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import Cell, Column, Obj, TablePrinter, age_column, doc_column, name_column
from .helpers import NONE, UNSET, age, human_duration, label_selector_string, name


def _priority_class_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [
            name(obj),
            obj.get("value") or 0,
            bool(obj.get("globalDefault")),
            age(obj, now),
            obj.get("preemptionPolicy") or "",
        ]

    pc = "io.k8s.api.scheduling.v1.PriorityClass"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Value", pc, "value", type="integer"),
            doc_column("Global-Default", pc, "globalDefault", type="boolean"),
            age_column(),
            doc_column("PreemptionPolicy", pc, "preemptionPolicy"),
        ),
        cells=cells,
    )


def _runtime_class_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), obj.get("handler") or "", age(obj, now)]

    # upstream reads the description from ObjectMeta, which has no "handler": it is empty
    return TablePrinter(columns=(name_column(), Column("Handler"), age_column()), cells=cells)


def csr_condition(obj: Obj) -> str:
    """``extractCSRStatus``: Denied/Approved/Pending, then ``,Failed`` and ``,Issued``."""
    status = obj.get("status") or {}
    kinds = {c.get("type") for c in status.get("conditions") or ()}
    text = "Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"
    if "Failed" in kinds:
        text += ",Failed"
    if status.get("certificate"):
        text += ",Issued"
    return text


def _csr_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        seconds = spec.get("expirationSeconds")
        return [
            name(obj),
            age(obj, now),
            spec.get("signerName") or NONE,
            spec.get("username") or "",
            NONE if seconds is None else human_duration(_dt.timedelta(seconds=seconds)),
            csr_condition(obj),
        ]

    csr = "io.k8s.api.certificates.v1.CertificateSigningRequest"
    return TablePrinter(
        columns=(
            name_column(),
            age_column(),
            doc_column("SignerName", csr + "Spec", "signerName"),
            doc_column("Requestor", csr + "Spec", "request"),
            doc_column("RequestedDuration", csr + "Spec", "expirationSeconds"),
            doc_column("Condition", csr + "Status", "conditions"),
        ),
        cells=cells,
    )


def _webhook_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), len(obj.get("webhooks") or ()), age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "Webhooks",
                type="integer",
                description="Webhooks indicates the number of webhooks registered in this configuration",
            ),
            age_column(),
        ),
        cells=cells,
    )


def _admission_policy_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        param_kind = spec.get("paramKind")
        kind = UNSET if param_kind is None else f"{param_kind.get('apiVersion', '')}/{param_kind.get('kind', '')}"
        return [name(obj), len(spec.get("validations") or ()), kind, age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "Validations",
                type="integer",
                description="Validations indicates the number of validation rules defined in this configuration",
            ),
            Column(
                "ParamKind", description="ParamKind specifies the kind of resources used to parameterize this policy"
            ),
            age_column(),
        ),
        cells=cells,
    )


def _admission_policy_binding_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        ref: dict[str, Any] | None = spec.get("paramRef")
        param = UNSET
        if ref is not None:
            if ref.get("name"):
                param = f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else f"*/{ref['name']}"
            elif ref.get("selector") is not None:
                param = label_selector_string(ref["selector"]) or ""
        return [name(obj), spec.get("policyName") or "", param, age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "PolicyName",
                description="PolicyName indicates the policy definition which the policy binding binded to",
            ),
            Column("ParamRef", description="ParamRef indicates the param resource which sets the configration param"),
            age_column(),
        ),
        cells=cells,
    )


def _flow_schema_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        method = spec.get("distinguisherMethod")
        missing = "?"
        for cond in (obj.get("status") or {}).get("conditions") or ():
            if cond.get("type") == "Dangling":
                missing = cond.get("status") or ""
                break
        return [
            name(obj),
            (spec.get("priorityLevelConfiguration") or {}).get("name") or "",
            spec.get("matchingPrecedence") or 0,
            NONE if method is None else method.get("type") or "",
            age(obj, now),
            missing,
        ]

    fc = "io.k8s.api.flowcontrol.v1."
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("PriorityLevel", fc + "PriorityLevelConfigurationReference", "name"),
            doc_column("MatchingPrecedence", fc + "FlowSchemaSpec", "matchingPrecedence"),
            doc_column("DistinguisherMethod", fc + "FlowSchemaSpec", "distinguisherMethod"),
            age_column(),
            Column("MissingPL", description="references a broken or non-existent PriorityLevelConfiguration"),
        ),
        cells=cells,
    )


def _priority_level_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        limited = spec.get("limited")
        shares: Cell = NONE
        queues: Cell = NONE
        hand: Cell = NONE
        qlen: Cell = NONE
        if limited is not None:
            shares = limited.get("nominalConcurrencyShares") or 0
            queuing = (limited.get("limitResponse") or {}).get("queuing")
            if queuing is not None:
                queues = queuing.get("queues") or 0
                hand = queuing.get("handSize") or 0
                qlen = queuing.get("queueLengthLimit") or 0
        return [name(obj), spec.get("type") or "", shares, queues, hand, qlen, age(obj, now)]

    fc = "io.k8s.api.flowcontrol.v1."
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Type", fc + "PriorityLevelConfigurationSpec", "type"),
            doc_column("NominalConcurrencyShares", fc + "LimitedPriorityLevelConfiguration", "nominalConcurrencyShares"),
            doc_column("Queues", fc + "QueuingConfiguration", "queues"),
            doc_column("HandSize", fc + "QueuingConfiguration", "handSize"),
            doc_column("QueueLengthLimit", fc + "QueuingConfiguration", "queueLengthLimit"),
            age_column(),
        ),
        cells=cells,
    )


def _api_service_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        svc = spec.get("service")
        service = "Local" if svc is None else f"{svc.get('namespace', '')}/{svc.get('name', '')}"
        available = "Unknown"
        for cond in (obj.get("status") or {}).get("conditions") or ():
            if cond.get("type") == "Available":
                status = cond.get("status") or ""
                reason = cond.get("reason") or ""
                available = f"{status} ({reason})" if status != "True" and reason else status
                break
        return [name(obj), service, available, age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Service", description="The reference to the service that hosts this API endpoint."),
            Column("Available", description="Whether this service is available."),
            age_column(),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    adm = "admissionregistration.k8s.io"
    fc = "flowcontrol.apiserver.k8s.io"
    return {
        ("scheduling.k8s.io", "PriorityClass"): _priority_class_printer(),
        ("node.k8s.io", "RuntimeClass"): _runtime_class_printer(),
        ("certificates.k8s.io", "CertificateSigningRequest"): _csr_printer(),
        (adm, "MutatingWebhookConfiguration"): _webhook_printer(),
        (adm, "ValidatingWebhookConfiguration"): _webhook_printer(),
        (adm, "ValidatingAdmissionPolicy"): _admission_policy_printer(),
        (adm, "ValidatingAdmissionPolicyBinding"): _admission_policy_binding_printer(),
        (fc, "FlowSchema"): _flow_schema_printer(),
        (fc, "PriorityLevelConfiguration"): _priority_level_printer(),
        ("apiregistration.k8s.io", "APIService"): _api_service_printer(),
    }
