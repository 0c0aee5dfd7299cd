"""Table printers for batch/v1: Jobs and CronJobs (upstream v1.32 columns, wide)."""

from __future__ import annotations

import datetime as _dt

from .columns import (
    Cell,
    Column,
    Obj,
    TablePrinter,
    age_column,
    containers_column,
    doc_column,
    images_column,
    name_column,
)
from .helpers import (
    NONE,
    age,
    bool_ptr,
    condition_true,
    format_label_selector,
    human_duration,
    name,
    parse_time,
    since,
    template_containers,
)

BATCH = "io.k8s.api.batch.v1."


def job_status(job: Obj) -> str:
    """The Status cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running."""
    conditions = (job.get("status") or {}).get("conditions")
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    succeeded = status.get("succeeded") or 0
    completions = spec.get("completions")
    if completions is not None:
        completions_cell = f"{succeeded}/{completions}"
    else:
        parallelism = spec.get("parallelism") or 0
        completions_cell = f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
    start = parse_time(status.get("startTime"))
    duration = ""
    if start is not None:
        end = parse_time(status.get("completionTime"))
        duration = human_duration((end or now) - start)
    names, images = template_containers(spec.get("template"))
    return [
        name(obj),
        job_status(obj),
        completions_cell,
        duration,
        age(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _job_printer() -> TablePrinter:
    return TablePrinter(
        columns=(
            name_column(),
            Column("Status", description="Status of the job."),
            doc_column("Completions", BATCH + "JobStatus", "succeeded"),
            Column("Duration", description="Time required to complete the job."),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", BATCH + "JobSpec", "selector", priority=1),
        ),
        cells=_job_cells,
    )


def _cron_job_cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = template_containers(job_spec.get("template"))
    last = status.get("lastScheduleTime")
    tz = spec.get("timeZone")
    return [
        name(obj),
        spec.get("schedule") or "",
        NONE if tz is None else tz,
        bool_ptr(spec.get("suspend")),
        len(status.get("active") or ()),
        since(last, now) if last else NONE,
        age(obj, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


def _cron_job_printer() -> TablePrinter:
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Schedule", BATCH + "CronJobSpec", "schedule"),
            doc_column("Timezone", BATCH + "CronJobSpec", "timeZone"),
            doc_column("Suspend", BATCH + "CronJobSpec", "suspend", type="boolean"),
            doc_column("Active", BATCH + "CronJobStatus", "active", type="integer"),
            doc_column("Last Schedule", BATCH + "CronJobStatus", "lastScheduleTime"),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", BATCH + "JobSpec", "selector", priority=1),
        ),
        cells=_cron_job_cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    return {("batch", "Job"): _job_printer(), ("batch", "CronJob"): _cron_job_printer()}
