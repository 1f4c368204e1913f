"""Where a store lives, as `--store` (or STATEUI_STORE) names it."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

SUPPORTED = (
    "a file path, sqlite:///PATH (sqlite:////abs/path for an absolute one), or "
    "redis://[USER:PASSWORD@]HOST:PORT/DB (rediss:// for TLS)"
)

DEFAULT_NAMESPACE = "stateui"
DEFAULT_TIMEOUT = 2.0
"""Seconds to reach a Redis server, and for it to answer, unless `?timeout=` says."""
PASSWORD_VARIABLE = "STATEUI_REDIS_PASSWORD"
"""Where a Redis password may come from instead of the URL."""


class BadLocation(ValueError):
    """A --store value that names no store this stateui supports."""


@dataclass(frozen=True)
class RedisAddress:
    """A Redis server, the database in it, and the namespace the store keeps its keys under."""

    host: str
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    namespace: str = DEFAULT_NAMESPACE
    timeout: float = DEFAULT_TIMEOUT
    """Seconds to connect, and for the server to answer a call."""

    @property
    def shown(self) -> str:
        """The URL for people: the password never appears (`***` in its place)."""
        scheme = "rediss" if self.tls else "redis"
        user = self.username or ""
        secret = ":***" if self.password else ""
        at = f"{user}{secret}@" if user or secret else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        options = []
        if self.namespace != DEFAULT_NAMESPACE:
            options.append(f"namespace={self.namespace}")
        if self.timeout != DEFAULT_TIMEOUT:
            options.append(f"timeout={self.timeout:g}")
        suffix = "?" + "&".join(options) if options else ""
        return f"{scheme}://{at}{host}:{self.port}/{self.db}{suffix}"

    def __repr__(self) -> str:  # never the password, even in a traceback
        return f"RedisAddress({self.shown!r})"


@dataclass(frozen=True)
class StoreLocation:
    """A store in memory (`path` and `redis` None), in an SQLite file, or in Redis."""

    path: Path | None = None
    redis: RedisAddress | None = None

    @classmethod
    def parse(cls, text: str | None) -> StoreLocation:
        """The location `text` names; no text is the memory store. Raises BadLocation."""
        if text is None:
            return cls()
        if not text:
            raise BadLocation("needs a path (leave it out for a store in memory)")
        if "://" not in text:
            return cls(Path(text))
        scheme, rest = text.split("://", 1)
        if scheme.lower() == "sqlite":
            if not rest.startswith("/") or rest == "/":
                raise BadLocation(f"{text!r}: write sqlite:///PATH, with three slashes")
            return cls(Path(rest[1:]))
        if scheme.lower() in ("redis", "rediss"):
            return cls(redis=_redis(text))
        raise BadLocation(
            f"{_masked(text)!r}: stores of kind {scheme!r} are not supported; use {SUPPORTED}"
        )

    @property
    def in_memory(self) -> bool:
        return self.path is None and self.redis is None


def _redis(text: str) -> RedisAddress:
    shown = _masked(text)
    try:
        parts = urlsplit(text)
        port = parts.port or 6379
    except ValueError:
        raise BadLocation(f"{shown!r}: the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise BadLocation(f"{shown!r}: no host (redis://HOST:PORT/DB)")
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise BadLocation(f"{shown!r}: the database must be a number, not {db_text!r}")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"namespace", "timeout"})
    if unknown:
        raise BadLocation(
            f"{shown!r}: unknown option {unknown[0]!r} (the options are namespace and timeout)"
        )
    twice = sorted(name for name, values in query.items() if len(values) > 1)
    if twice:
        raise BadLocation(f"{shown!r}: {twice[0]} is given twice")
    namespace = query.get("namespace", [DEFAULT_NAMESPACE])[-1]
    if not namespace or any(c in namespace for c in ":{}*?[] \t\r\n"):
        # Without a colon, one namespace's keys (NAME:...) never overlap another's.
        raise BadLocation(
            f"{shown!r}: a namespace is a non-empty name without colons, spaces or globs"
        )
    timeout = _timeout(shown, query.get("timeout", [str(DEFAULT_TIMEOUT)])[-1])
    password = unquote(parts.password) if parts.password else os.environ.get(PASSWORD_VARIABLE)
    return RedisAddress(
        host=parts.hostname,
        port=port,
        db=int(db_text),
        username=unquote(parts.username) if parts.username else None,
        password=password or None,
        tls=parts.scheme.lower() == "rediss",
        namespace=namespace,
        timeout=timeout,
    )


def _timeout(shown: str, text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0.01 <= seconds <= 3600:  # NaN too
        raise BadLocation(f"{shown!r}: the timeout is seconds from 0.01 to 3600, not {text!r}")
    return seconds


def _masked(text: str) -> str:
    """`text` with the password of a URL (user:PASSWORD@) replaced by `***`."""
    try:
        parts: SplitResult = urlsplit(text)
    except ValueError:
        return text.split("@", 1)[-1] if "@" in text else text
    if parts.password is None:
        return text
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return parts._replace(netloc=f"{user}@{netloc[-1]}").geturl()
