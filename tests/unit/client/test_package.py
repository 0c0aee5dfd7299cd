"""The public surface of kubepy.client, its import rule, and the small pieces: errors,
back-off and the token bucket."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kubepy.client
from kubepy.client import (
    ApiError,
    Backoff,
    FakeClock,
    TokenBucket,
    is_already_exists,
    is_conflict,
    is_gone,
    is_not_found,
)
from kubepy.client.errors import status_from_response

PACKAGE = Path(kubepy.client.__file__).parent


def test_all_lists_exactly_the_exported_names() -> None:
    exported = set(kubepy.client.__all__)
    assert len(exported) == len(kubepy.client.__all__), "no duplicates"
    for name in exported:
        assert hasattr(kubepy.client, name), name
    public = {n for n in vars(kubepy.client) if not n.startswith("_")} - {
        m.stem for m in PACKAGE.glob("*.py")}
    assert public == exported


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_modules_import_only_api_and_pki_of_kubepy(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text())
    assert ast.get_docstring(tree), f"{module} needs a docstring stating its job"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kubepy"):
            assert node.module.split(".")[1] in ("client", "api", "pki"), f"{module} imports {node.module}"


def _err(code: int, reason: str) -> ApiError:
    return ApiError({"kind": "Status", "code": code, "reason": reason})


@pytest.mark.parametrize(
    ("error", "not_found", "conflict", "exists", "gone"),
    [
        (_err(404, "NotFound"), True, False, False, False),
        (_err(409, "Conflict"), False, True, False, False),
        (_err(409, "AlreadyExists"), False, False, True, False),
        (_err(410, "Expired"), False, False, False, True),
        (_err(410, "Gone"), False, False, False, True),
        (ValueError("x"), False, False, False, False),
    ],
    ids=["404 is not found", "a stale write is a conflict", "a duplicate create already exists",
         "an expired version is gone", "reason Gone is gone", "other exceptions are none of these"],
)
def test_error_predicates(error: BaseException, not_found: bool, conflict: bool, exists: bool, gone: bool) -> None:
    assert (is_not_found(error), is_conflict(error), is_already_exists(error), is_gone(error)) == (
        not_found, conflict, exists, gone)


@pytest.mark.parametrize(
    ("code", "body", "reason", "message"),
    [
        (404, b'{"kind":"Status","reason":"NotFound","message":"pods \\"x\\" not found"}', "NotFound",
         'pods "x" not found'),
        (503, b"<html>proxy</html>", "ServiceUnavailable", "<html>proxy</html>"),
        (502, b"", "InternalError", "the server responded with HTTP 502"),
    ],
    ids=["a Status body is kept", "a foreign body becomes the message", "an empty body gets a generic message"],
)
def test_status_from_response(code: int, body: bytes, reason: str, message: str) -> None:
    st = status_from_response(code, body)
    assert (st["code"], st["reason"], st["message"]) == (code, reason, message)


def test_backoff_doubles_up_to_the_cap_and_resets_after_a_quiet_period() -> None:
    clock = FakeClock()
    b = Backoff(initial=1, cap=5, factor=2, jitter=0, reset_after=60, clock=clock)
    assert [b.next_delay() for _ in range(5)] == [1, 2, 4, 5, 5]
    clock.advance(61)
    assert b.next_delay() == 1


def test_token_bucket_allows_the_burst_then_paces_at_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=2, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert bucket.reserve() == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)
    clock.advance(10)
    assert bucket.try_take() and bucket.try_take() and bucket.try_take() and not bucket.try_take()
