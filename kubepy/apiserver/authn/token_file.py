"""Static bearer tokens from a CSV file (`--token-auth-file`).

Job: `TokenFileAuthenticator(path)` maps the tokens listed in upstream's static token
file format to users. Each record is `token,user,uid[,"group1,group2"]`: at least three
columns, the optional fourth a comma-separated group list (quoted when it holds
commas). Records with an empty token are skipped; a later duplicate wins.

Design: the file is read once, at construction (API server start-up), into a dict, so a
lookup is one hash probe on the request path. Like upstream, an unknown token is
"not mine" (None), so the next token authenticator may still accept it.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

from kubepy.apiserver.authn import Credentials, UserInfo

__all__ = ["TokenFileAuthenticator", "TokenFileError", "parse_token_csv"]

log = logging.getLogger(__name__)


class TokenFileError(ValueError):
    """The token file cannot be read or has a record with fewer than three columns."""


def parse_token_csv(text: str, *, source: str = "<token file>") -> dict[str, UserInfo]:
    """token -> user for every record of a static token CSV."""
    tokens: dict[str, UserInfo] = {}
    record_num = 0
    for record in csv.reader(io.StringIO(text)):
        if not record:
            continue  # blank line
        if len(record) < 3:
            raise TokenFileError(
                f"token file '{source}' must have at least 3 columns "
                f"(token, user name, user uid), found {len(record)}"
            )
        record_num += 1
        token = record[0]
        if not token:
            log.warning("empty token in token file '%s', record number '%d'", source, record_num)
            continue
        if token in tokens:
            log.warning("duplicate token in token file '%s', record number '%d'", source, record_num)
        groups = tuple(record[3].split(",")) if len(record) >= 4 else ()
        tokens[token] = UserInfo(username=record[1], uid=record[2], groups=groups)
    return tokens


class TokenFileAuthenticator:
    """Bearer tokens listed in a static CSV file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        source = Path(path)
        try:
            text = source.read_text()
        except OSError as e:
            raise TokenFileError(f"cannot read token file '{source}': {e}") from e
        self._tokens = parse_token_csv(text, source=str(source))

    @classmethod
    def from_users(cls, tokens: dict[str, UserInfo]) -> TokenFileAuthenticator:
        """An authenticator over an in-memory table (tests, generated admin tokens)."""
        self = cls.__new__(cls)
        self._tokens = dict(tokens)
        return self

    async def authenticate(self, creds: Credentials) -> UserInfo | None:
        token = creds.bearer_token
        if not token:
            return None
        return self._tokens.get(token)
