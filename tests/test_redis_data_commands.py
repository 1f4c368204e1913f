"""The data commands on a Redis store: what they do on a file store, on a namespace."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import stateui_command
from tests.redis_server import RedisServer


def stateui(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*stateui_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_data_commands_read_and_write_a_namespace(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url()
    assert stateui("set", "--store", url, "a", '{"x": 1}').returncode == 0
    assert stateui("set", "--store", url, "b", "2", "--ttl", "100").returncode == 0
    assert stateui("get", "--store", url, "a").stdout == '{\n  "x": 1\n}\n'
    assert 90 < float(stateui("ttl", "--store", url, "b").stdout) <= 100  # a few starts later
    assert stateui("ttl", "--store", url, "a").stdout == "none\n"
    assert stateui("keys", "--store", url).stdout == "a\nb\n"
    assert json.loads(stateui("export", "--store", url).stdout) == {"a": {"x": 1}, "b": 2}
    assert stateui("del", "--store", url, "a").stdout == "1\n"
    assert stateui("get", "--store", url, "a").returncode == 1
    history = stateui("history", "--store", url, "a").stdout.splitlines()
    assert [line.split()[5] for line in history] == ["delete", "set"]
    log = stateui("log", "--store", url).stdout.splitlines()
    assert [line.split()[3] for line in log] == ["set", "set", "delete"]
    dump = tmp_path / "dump.json"
    dump.write_text('{"c": 3, "d": [1]}')
    assert stateui("import", "--store", url, dump).returncode == 0
    assert stateui("keys", "--store", url).stdout == "b\nc\nd\n"
    info = stateui("info", "--store", url).stdout
    assert "keys:     3\n" in info and "revision: 5\n" in info


def test_the_namespace_is_all_a_store_touches(redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis(port=redis_server.port)
    client.set("someone:else", "theirs")
    url = redis_server.url()
    assert stateui("set", "--store", url, "mine", "1").returncode == 0
    script_clear = stateui("keys", "--store", url)
    assert script_clear.stdout == "mine\n"
    assert client.get("someone:else") == b"theirs"
    ns = url.rsplit("=", 1)[1]
    assert client.get(f"{ns}:v:mine") == b"1"  # plain JSON, readable with redis-cli
    assert all(name.startswith(f"{ns}:") for name in map(bytes.decode, client.keys(f"{ns}*")))
