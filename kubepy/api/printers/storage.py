"""Table printers for storage.k8s.io: StorageClasses, VolumeAttachments, CSI kinds and
VolumeAttributesClasses (upstream v1.32 columns)."""

from __future__ import annotations

import datetime as _dt

from .columns import Cell, Column, Obj, TablePrinter, age_column, doc_column, name_column
from .helpers import NONE, UNSET, age, name

STORAGE = "io.k8s.api.storage.v1."
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
DEFAULT_VAC = "volumeattributesclass.alpha.kubernetes.io/is-default-class"


def _storage_class_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        shown = name(obj)
        if annotations.get(DEFAULT_CLASS) == "true" or annotations.get(BETA_DEFAULT_CLASS) == "true":
            shown += " (default)"
        return [
            shown,
            obj.get("provisioner") or "",
            obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate",
            bool(obj.get("allowVolumeExpansion")),
            age(obj, now),
        ]

    sc = STORAGE + "StorageClass"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Provisioner", sc, "provisioner"),
            doc_column("ReclaimPolicy", sc, "reclaimPolicy"),
            doc_column("VolumeBindingMode", sc, "volumeBindingMode"),
            doc_column("AllowVolumeExpansion", sc, "allowVolumeExpansion"),
            age_column(),
        ),
        cells=cells,
    )


def _volume_attributes_class_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        shown = name(obj)
        if annotations.get(DEFAULT_VAC) == "true":
            shown += " (default)"
        return [shown, obj.get("driverName") or "", age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("DriverName", "io.k8s.api.storage.v1beta1.VolumeAttributesClass", "driverName"),
            age_column(),
        ),
        cells=cells,
    )


def _volume_attachment_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        return [
            name(obj),
            spec.get("attacher") or "",
            (spec.get("source") or {}).get("persistentVolumeName") or "",
            spec.get("nodeName") or "",
            bool((obj.get("status") or {}).get("attached")),
            age(obj, now),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "Attacher",
                format="name",
                description=doc_column("", STORAGE + "VolumeAttachmentSpec", "attacher").description,
            ),
            doc_column("PV", STORAGE + "VolumeAttachmentSource", "persistentVolumeName"),
            doc_column("Node", STORAGE + "VolumeAttachmentSpec", "nodeName"),
            doc_column("Attached", STORAGE + "VolumeAttachmentStatus", "attached", type="boolean"),
            age_column(),
        ),
        cells=cells,
    )


def _csi_driver_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        attach = spec.get("attachRequired")
        tokens = spec.get("tokenRequests")
        modes = ",".join(spec.get("volumeLifecycleModes") or ())
        return [
            name(obj),
            True if attach is None else bool(attach),
            bool(spec.get("podInfoOnMount")),
            bool(spec.get("storageCapacity")),
            UNSET if tokens is None else ",".join(t.get("audience", "") for t in tokens),
            bool(spec.get("requiresRepublish")),
            modes or NONE,
            age(obj, now),
        ]

    spec = STORAGE + "CSIDriverSpec"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("AttachRequired", spec, "attachRequired", type="boolean"),
            doc_column("PodInfoOnMount", spec, "podInfoOnMount", type="boolean"),
            doc_column("StorageCapacity", spec, "storageCapacity", type="boolean"),
            doc_column("TokenRequests", spec, "tokenRequests"),
            doc_column("RequiresRepublish", spec, "requiresRepublish", type="boolean"),
            doc_column("Modes", spec, "volumeLifecycleModes"),
            age_column(),
        ),
        cells=cells,
    )


def _csi_node_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), len((obj.get("spec") or {}).get("drivers") or ()), age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column(
                "Drivers", type="integer", description="Drivers indicates the number of CSI drivers registered on the node"
            ),
            age_column(),
        ),
        cells=cells,
    )


def _csi_storage_capacity_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        capacity = obj.get("capacity")
        return [name(obj), obj.get("storageClassName") or "", UNSET if capacity is None else str(capacity)]

    cap = STORAGE + "CSIStorageCapacity"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("StorageClassName", cap, "storageClassName"),
            doc_column("Capacity", cap, "capacity"),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    group = "storage.k8s.io"
    return {
        (group, "StorageClass"): _storage_class_printer(),
        (group, "VolumeAttributesClass"): _volume_attributes_class_printer(),
        (group, "VolumeAttachment"): _volume_attachment_printer(),
        (group, "CSIDriver"): _csi_driver_printer(),
        (group, "CSINode"): _csi_node_printer(),
        (group, "CSIStorageCapacity"): _csi_storage_capacity_printer(),
    }
