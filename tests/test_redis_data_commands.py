"""The data commands on a Redis store: what they do on a file store, on a namespace."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import stateui_command
from tests.redis_server import RedisServer, free_port
from tui.state.location import StoreLocation
from tui.state.redis.connection import RedisConnection
from tui.state.redis.store import RedisStore


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


def open_redis(url: str) -> RedisStore:
    address = StoreLocation.parse(url).redis
    assert address is not None
    return RedisStore(RedisConnection(address))


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def test_backup_and_restore(redis_server: RedisServer, tmp_path: Path) -> None:
    url = redis_server.url()
    stateui("set", "--store", url, "k", '"old"')
    backed = stateui("backup", "--store", url, tmp_path / "copy.db")
    assert backed.returncode == 0, backed.stderr
    assert backed.stdout == f"backed up {url} to {tmp_path / 'copy.db'} (1 keys)\n"
    # The backup is a store file: the data commands read it, with the key's history.
    assert stateui("get", "--store", tmp_path / "copy.db", "k").stdout == '"old"\n'
    kept = stateui("history", "--store", tmp_path / "copy.db", "k").stdout.splitlines()
    assert [line.split()[3:6] for line in kept] == [["cli", "-", "set"]]
    stateui("set", "--store", url, "k", '"new"')
    stateui("set", "--store", url, "other", "1")
    restored = stateui("restore", "--store", url, tmp_path / "copy.db")
    assert restored.returncode == 0, restored.stderr
    saved = re.search(r"saved in (\S+)", restored.stdout)
    assert saved is not None
    ns = url.rsplit("=", 1)[1]
    assert Path(saved.group(1)).parent == tmp_path  # beside the backup
    assert Path(saved.group(1)).name.startswith(f"{ns}.before-restore-")
    assert json.loads(stateui("export", "--store", url).stdout) == {"k": "old"}
    assert json.loads(stateui("export", "--store", saved.group(1)).stdout) == {
        "k": "new",
        "other": 1,
    }
    # A restore is a change like any other: the history goes on.
    lines = stateui("history", "--store", url, "k").stdout.splitlines()
    assert lines[0].split()[3:6] == ["restore", "-", "set"]
    refused = stateui("backup", "--store", url, tmp_path / "copy.db")
    assert refused.returncode == 2 and "the file exists" in refused.stderr


def test_restore_keeps_each_key_s_expiry_and_leaves_out_the_expired(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url, backup = redis_server.url(), tmp_path / "backup.db"
    store = open_redis(url)
    try:
        store.set("long", 1, source="cli", ttl=600)
        store.set("brief", 2, source="cli", ttl=1.5)
        store.set("plain", 3, source="cli")
        long, brief = store.entry("long"), store.entry("brief")
        assert long is not None and brief is not None
        assert stateui("backup", "--store", url, backup).returncode == 0
        until(lambda: time.time() > brief.expires + 0.05)  # `brief` has expired
        assert stateui("set", "--store", url, "other", "4").returncode == 0
        done = stateui("restore", "--store", url, backup)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("restored 2 keys")
        assert store.keys() == ["long", "plain"]
        restored = store.entry("long")
        assert restored is not None and abs(restored.expires - long.expires) < 0.01
        assert store.ttl("plain") is None
    finally:
        store.close()


def test_a_backup_restores_into_a_store_of_the_other_kind(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url, path = redis_server.url(), tmp_path / "s.db"
    assert (
        stateui("set", "--store", url, "from:redis", '{"a": [1, 2]}', "--ttl", "600").returncode
        == 0
    )
    assert stateui("set", "--store", path, "from:file", "true").returncode == 0
    assert stateui("backup", "--store", url, tmp_path / "redis.db").returncode == 0
    assert stateui("backup", "--store", path, tmp_path / "file.db").returncode == 0
    into_file = stateui("restore", "--store", path, tmp_path / "redis.db")
    assert into_file.returncode == 0, into_file.stderr
    assert json.loads(stateui("export", "--store", path).stdout) == {"from:redis": {"a": [1, 2]}}
    assert 590 < float(stateui("ttl", "--store", path, "from:redis").stdout) <= 600
    into_redis = stateui("restore", "--store", url, tmp_path / "file.db")
    assert into_redis.returncode == 0, into_redis.stderr
    assert json.loads(stateui("export", "--store", url).stdout) == {"from:file": True}


def test_two_restores_in_a_second_save_each_their_own_copy(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url()
    stateui("set", "--store", url, "k", "1")
    stateui("backup", "--store", url, tmp_path / "copy.db")
    first = stateui("restore", "--store", url, tmp_path / "copy.db")
    stateui("set", "--store", url, "between", "1")
    second = stateui("restore", "--store", url, tmp_path / "copy.db")
    saved = [re.search(r"saved in (\S+)", r.stdout) for r in (first, second)]
    assert saved[0] and saved[1] and saved[0].group(1) != saved[1].group(1)
    assert "restored 1 key from" in first.stdout
    kept = stateui("get", "--store", saved[1].group(1), "between")
    assert kept.stdout == "1\n", "the second restore's safety copy is its own"


def test_backup_and_restore_never_show_the_password(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, password="hunter2-secret")
    try:
        url = server.url()
        assert stateui("set", "--store", url, "k", "1").returncode == 0
        backed = stateui("backup", "--store", url, tmp_path / "copy.db")
        restored = stateui("restore", "--store", url, tmp_path / "copy.db")
        wrong = stateui("backup", "--store", url.replace("hunter2", "wrong"), tmp_path / "x.db")
    finally:
        server.stop()
    assert backed.returncode == 0 and restored.returncode == 0, backed.stderr + restored.stderr
    assert "redis://:***@127.0.0.1:" in backed.stdout
    assert wrong.returncode == 2 and "wrong user or password" in wrong.stderr
    assert not (tmp_path / "x.db").exists()
    for result in (backed, restored, wrong):
        assert "hunter2" not in result.stdout + result.stderr


def test_a_backup_of_an_unreachable_server_leaves_no_file(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    backed = stateui("backup", "--store", url, tmp_path / "copy.db")
    assert backed.returncode == 2 and "is unreachable" in backed.stderr
    assert list(tmp_path.iterdir()) == []
