"""Errors raised by every Store backend (the apiserver maps them to HTTP statuses)."""


class StorageError(Exception):
    """Base of all storage errors."""


class KeyExists(StorageError):
    """create() of a key that already exists."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFound(StorageError):
    """update()/delete() of a key that does not exist."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class Conflict(StorageError):
    """Compare-and-swap failed: the key's mod_revision is not the expected one."""

    def __init__(self, key: str, *, expected: int, actual: int) -> None:
        super().__init__(f"conflict on {key}: expected revision {expected}, found {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class Compacted(StorageError):
    """A read or watch asked for a revision older than the compacted history."""

    def __init__(self, *, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} is compacted (oldest kept: {compacted})")
        self.requested = requested
        self.compacted = compacted
