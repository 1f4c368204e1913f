"""A real redis-server for the tests: started on a free loopback port in a temporary
folder, never touching a Redis that is already running."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL = "redis-server is not installed: apt-get install redis-server (.ci/run does it)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reply(link: socket.socket) -> bytes:
    """One line the server sent (a simple reply or an error)."""
    line = b""
    while not line.endswith(b"\r\n"):
        chunk = link.recv(1)
        if not chunk:
            break
        line += chunk
    return line


class RedisServer:
    """One redis-server process of the test run's own."""

    def __init__(self, folder: Path, *, durable: bool = False, password: str | None = None) -> None:
        self.port = free_port()
        self.folder = folder
        self.durable = durable
        """Whether what it holds outlives a stop (an append-only file)."""
        self.password = password
        """The password clients must give (`requirepass`), or None for none."""
        self.start()

    def start(self) -> None:
        """Start the server (again, after `stop`: the same port; the data too when
        `durable`)."""
        binary = shutil.which("redis-server")
        assert binary is not None, INSTALL
        folder = self.folder
        self.process = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(folder),
                "--save", "",
                "--appendonly", "yes" if self.durable else "no",
                "--appendfsync", "always",
                "--daemonize", "no",
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=(folder / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "redis.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as link:
                    if self.password:
                        link.sendall(f"AUTH {self.password}\r\n".encode())
                        assert _reply(link).startswith(b"+OK"), "AUTH refused"
                    link.sendall(b"PING\r\n")
                    if _reply(link).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def url(self, namespace: str | None = None) -> str:
        """A store URL on this server (with its password, if it has one); a fresh
        namespace unless one is given."""
        name = namespace or f"t{uuid.uuid4().hex[:12]}"
        secret = f":{self.password}@" if self.password else ""
        return f"redis://{secret}127.0.0.1:{self.port}/0?namespace={name}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The test run's redis-server (one for the session; each test its own namespace)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()
