"""Admission: mutating then validating plugins between decoding and storage.

A plugin implements ``admit`` (may change ``attrs.obj``), ``validate`` (may only refuse),
or both, by raising ``StatusError``. The chain runs every mutating plugin, then every
validating one, in the configured order, as upstream's admission chain does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver.authn import UserInfo


@dataclass(slots=True)
class Attributes:
    operation: str  # CREATE, UPDATE, DELETE, CONNECT
    info: ResourceInfo
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: UserInfo | None
    subresource: str = ""
    dry_run: bool = False


class Plugin(Protocol):
    name: str

    async def admit(self, attrs: Attributes) -> None:
        """Mutate ``attrs.obj``; raise StatusError to refuse."""

    async def validate(self, attrs: Attributes) -> None:
        """Check only; raise StatusError to refuse."""


class Chain:
    def __init__(self, plugins: list[Plugin]) -> None:
        self.plugins = plugins

    async def run_mutating(self, attrs: Attributes) -> None:
        for p in self.plugins:
            await p.admit(attrs)

    async def run_validating(self, attrs: Attributes) -> None:
        for p in self.plugins:
            await p.validate(attrs)
