"""A small synchronous HTTPS client for integration tests that send raw requests.

Job: let a test say exactly which bytes, headers and query it sends to a real API server
and see exactly what came back (status, headers, parsed body), including answers a typed
client would refuse to send or would hide behind an exception.

Design: `http.client.HTTPSConnection` with an SSL context built from a kubeconfig's
CA/cert/key. One new connection per request keeps tests independent (a failed request
cannot poison the next). Watches are read line by line from the chunked response with a
socket timeout, so a stuck stream fails the test instead of hanging it. Headers are kept
as a list of pairs because `Warning` may repeat.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from kubepy.pki.kubeconfig import load_kubeconfig
from kubepy.pki.tls import client_ssl_context

__all__ = ["Response", "HTTPClient"]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    raw: bytes
    body: Any = field(default=None)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def warnings(self) -> list[str]:
        """The texts of all `Warning` headers (`299 - "text"`), whether sent as separate
        headers or as one comma-separated list, with quoting undone."""
        texts: list[str] = []
        for value in self.header_values("Warning"):
            for match in _WARNING.finditer(value):
                texts.append(re.sub(r"\\(.)", r"\1", match.group(1)))
        return texts

    def __repr__(self) -> str:  # shown by pytest on failed asserts
        return f"Response({self.status}, {self.raw[:600]!r})"


_WARNING = re.compile(r'\d{3} \S+ "((?:[^"\\]|\\.)*)"')


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class HTTPClient:
    """Raw HTTPS requests to one API server, trusting the CA of `kubeconfig`.

    Credentials: by default the kubeconfig's client certificate; `with_cert=False`
    connects without one; `client_cert=(cert_pem, key_pem)` presents another one;
    `token` adds `Authorization: Bearer <token>`.
    """

    def __init__(self, url: str, kubeconfig: Path, *, with_cert: bool = True,
                 client_cert: tuple[bytes, bytes] | None = None, token: str | None = None,
                 timeout: float = 15.0) -> None:
        info = load_kubeconfig(kubeconfig)
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 443
        self.token = token
        self.timeout = timeout
        if client_cert is not None:
            self.context: ssl.SSLContext = client_ssl_context(info.ca_pem, *client_cert)
        elif with_cert:
            self.context = client_ssl_context(info.ca_pem, info.client_cert_pem, info.client_key_pem)
        else:
            self.context = client_ssl_context(info.ca_pem)

    def _connect(self, timeout: float | None = None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                           timeout=timeout or self.timeout)

    def _headers(self, headers: Mapping[str, str] | None, body: bytes | None, content_type: str | None) -> dict[str, str]:
        out = {"Accept": "application/json"}
        if body is not None:
            out["Content-Type"] = content_type or "application/json"
        if self.token is not None:
            out["Authorization"] = f"Bearer {self.token}"
        out.update(headers or {})
        return out

    @staticmethod
    def _target(path: str, query: Mapping[str, Any] | None) -> str:
        if not query:
            return path
        sep = "&" if "?" in path else "?"
        return path + sep + urlencode(query, doseq=True)

    def request(self, method: str, path: str, *, body: Any = None, query: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, content_type: str | None = None) -> Response:
        """Send one request; `body` may be bytes/str (sent as is) or a JSON-able value."""
        data: bytes | None
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        conn = self._connect()
        try:
            conn.request(method, self._target(path, query), body=data,
                         headers=self._headers(headers, data, content_type))
            resp = conn.getresponse()
            raw = resp.read()
            return Response(resp.status, list(resp.getheaders()), raw, _parse(raw))
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("POST", path, body=body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path: str, body: Any, content_type: str = "application/merge-patch+json", **kw: Any) -> Response:
        return self.request("PATCH", path, body=body, content_type=content_type, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("DELETE", path, body=body, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        """The parsed body of a request that must succeed (2xx)."""
        resp = self.request(method, path, **kw)
        assert 200 <= resp.status < 300, f"{method} {path} -> {resp!r}"
        return resp.body

    def watch(self, path: str, *, query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
              read_timeout: float = 10.0) -> Generator[dict[str, Any], None, None]:
        """Open a watch and yield its events; ends when the server ends the stream.

        A read that waits longer than `read_timeout` raises `TimeoutError`. Close the
        generator to drop the connection early.
        """
        conn = self._connect(timeout=read_timeout)
        try:
            conn.request("GET", self._target(path, {"watch": "true", **(query or {})}),
                         headers=self._headers(headers, None, None))
            resp = conn.getresponse()
            if resp.status != 200:
                raw = resp.read()
                raise AssertionError(f"watch {path} -> {resp.status} {raw[:500]!r}")
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()

    def collect(self, path: str, *, count: int | None = None, until: Callable[[dict[str, Any]], bool] | None = None,
                query: Mapping[str, Any] | None = None, read_timeout: float = 10.0) -> list[dict[str, Any]]:
        """Events of a watch up to the `count`-th, or up to the first one `until` accepts.

        Fewer when the stream ends first; a stream that goes quiet before then raises
        `TimeoutError` after `read_timeout` seconds.
        """
        events: list[dict[str, Any]] = []
        stream = self.watch(path, query=query, read_timeout=read_timeout)
        try:
            for event in stream:
                events.append(event)
                if (count is not None and len(events) >= count) or (until is not None and until(event)):
                    break
        finally:
            stream.close()
        return events
