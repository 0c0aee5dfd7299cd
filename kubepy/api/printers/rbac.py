"""Table printers for rbac.authorization.k8s.io bindings.

Roles and ClusterRoles have no upstream printer: they get the default table (Name,
Created At), like every kind without one.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import Cell, Column, Obj, TablePrinter, age_column, doc_column, name_column
from .helpers import age, name


def subjects_strings(subjects: list[dict[str, Any]] | None) -> tuple[list[str], list[str], list[str]]:
    """``rbac.SubjectsStrings``: (users, groups, ``namespace/name`` service accounts)."""
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for s in subjects or ():
        kind = s.get("kind")
        if kind == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
        elif kind == "User":
            users.append(s.get("name", ""))
        elif kind == "Group":
            groups.append(s.get("name", ""))
    return users, groups, sas


def _binding_printer(what: str, definition: str) -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        ref = obj.get("roleRef") or {}
        users, groups, sas = subjects_strings(obj.get("subjects"))
        return [
            name(obj),
            f"{ref.get('kind', '')}/{ref.get('name', '')}",
            age(obj, now),
            ", ".join(users),
            ", ".join(groups),
            ", ".join(sas),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Role", definition, "roleRef"),
            age_column(),
            Column("Users", description=f"Users in the {what}", priority=1),
            Column("Groups", description=f"Groups in the {what}", priority=1),
            Column("ServiceAccounts", description=f"ServiceAccounts in the {what}", priority=1),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    group = "rbac.authorization.k8s.io"
    return {
        (group, "RoleBinding"): _binding_printer("roleBinding", "io.k8s.api.rbac.v1.RoleBinding"),
        (group, "ClusterRoleBinding"): _binding_printer(
            "clusterRoleBinding", "io.k8s.api.rbac.v1.ClusterRoleBinding"
        ),
    }
