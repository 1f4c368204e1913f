"""A Redis store that cannot be used as named, through the real `stateui`: a wrong
password, a database the server lacks, a namespace of a newer stateui or of something
else, redis-py missing. Each is one clear line and exit 2, never the password."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import stateui_command
from tests.redis_server import RedisServer
from tui.state.redis.scripts import FORMAT

PASSWORD = "s3cret-Pa55"
WRONG = "not-the-Pa55"


def stateui(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*stateui_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server that wants a password."""
    server = RedisServer(tmp_path_factory.mktemp("redis-locked"), password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "one.lua"
    path.write_text('State.set("a", 1)\nprint(State.get("a"))\n')
    return path


def commands(url: str, script: Path) -> list[list[str | Path]]:
    """`run`, and data commands that read, on the store `url` names."""
    return [
        ["run", "--store", url, script],
        ["get", "--store", url, "a"],
        ["keys", "--store", url],
        ["info", "--store", url],
    ]


def refused(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """The one line a refused command printed (exit 2, nothing on standard output)."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for secret in secrets:
        assert secret not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_wrong_password_is_exit_2_and_never_shown(
    locked_server: RedisServer, script: Path
) -> None:
    url = f"redis://:{WRONG}@127.0.0.1:{locked_server.port}/0"
    for args in commands(url, script):
        line = refused(stateui(*args), WRONG, PASSWORD)
        assert line == (
            f"stateui: redis://:***@127.0.0.1:{locked_server.port}/0: wrong user or password "
            "(invalid username-password pair or user is disabled.)"
        )
    from_env = stateui("get", "--store", url.replace(f":{WRONG}@", ""), "a", env={
        "STATEUI_REDIS_PASSWORD": WRONG
    })  # fmt: skip
    assert "wrong user or password" in refused(from_env, WRONG)


def test_no_password_for_a_server_that_wants_one_says_where_to_give_it(
    locked_server: RedisServer, script: Path
) -> None:
    url = f"redis://127.0.0.1:{locked_server.port}/0"
    for args in commands(url, script):
        line = refused(stateui(*args))
        assert line == (
            f"stateui: {url}: the server wants a password: give it in the URL "
            "(redis://:PASSWORD@HOST:PORT/DB) or in STATEUI_REDIS_PASSWORD"
        )


def test_the_right_password_from_the_url_or_the_environment_opens_the_store(
    locked_server: RedisServer, script: Path
) -> None:
    url = locked_server.url()
    run = stateui("run", "--store", url, script)
    assert (run.returncode, run.stdout) == (0, "1\n"), run.stderr
    bare = url.replace(f":{PASSWORD}@", "")
    got = stateui("get", "--store", bare, "a", env={"STATEUI_REDIS_PASSWORD": PASSWORD})
    assert (got.returncode, got.stdout) == (0, "1\n"), got.stderr
    info = stateui("info", "--store", bare, env={"STATEUI_REDIS_PASSWORD": PASSWORD})
    assert info.returncode == 0, info.stderr
    assert f"store:    redis://:***@127.0.0.1:{locked_server.port}/0?namespace=" in info.stdout
    assert PASSWORD not in info.stdout + info.stderr + run.stderr


def test_a_database_the_server_lacks_is_exit_2(locked_server: RedisServer, script: Path) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{locked_server.port}/99"
    for args in commands(url, script):
        line = refused(stateui(*args), PASSWORD)
        assert line == (
            f"stateui: redis://:***@127.0.0.1:{locked_server.port}/99: "
            "there is no database 99 on this server"
        )


def test_a_namespace_of_a_newer_stateui_is_refused_untouched(
    redis_server: RedisServer, script: Path
) -> None:
    import redis

    url = redis_server.url()
    ns = url.rsplit("=", 1)[1]
    client = redis.Redis(port=redis_server.port)
    client.set(f"{ns}:format", FORMAT + 1)
    for args in commands(url, script):
        line = refused(stateui(*args))
        assert line == (
            f"stateui: {url}: the namespace {ns!r} was written by a newer stateui "
            f"(layout {FORMAT + 1}; this stateui knows {FORMAT} and older): "
            "upgrade stateui to open it"
        )
    assert client.keys(f"{ns}:*") == [f"{ns}:format".encode()]


def test_a_namespace_of_something_else_is_refused_untouched(
    redis_server: RedisServer, script: Path
) -> None:
    import redis

    url = redis_server.url()
    ns = url.rsplit("=", 1)[1]
    client = redis.Redis(port=redis_server.port)
    client.set(f"{ns}:format", "v2-of-another-tool")
    for args in commands(url, script):
        line = refused(stateui(*args))
        assert line == (
            f"stateui: {url}: the namespace {ns!r} is not a stateui store ({ns}:format "
            "holds 'v2-of-another-tool'): choose another with ?namespace=NAME"
        )
    assert client.get(f"{ns}:format") == b"v2-of-another-tool"


def test_without_redis_py_a_redis_url_says_how_to_install_it(tmp_path: Path, script: Path) -> None:
    # A `redis` module that cannot be imported, ahead of the installed one.
    shim = tmp_path / "no-redis"
    shim.mkdir()
    (shim / "redis.py").write_text('raise ImportError("no module named redis (a test shim)")\n')
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    url = f"redis://:{PASSWORD}@127.0.0.1:6379/0"
    for args in commands(url, script):
        line = refused(stateui(*args, env={"PYTHONPATH": path}), PASSWORD)
        assert line == (
            "stateui: redis://:***@127.0.0.1:6379/0: the Redis store needs redis-py: "
            "pip install 'stateui[redis]'"
        )
    # The other stores need no redis-py.
    run = stateui("run", "--store", tmp_path / "s.db", script, env={"PYTHONPATH": path})
    assert (run.returncode, run.stdout) == (0, "1\n"), run.stderr
