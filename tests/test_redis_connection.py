"""The Redis store's connection: its scripts against a real redis-server."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from tests.redis_server import RedisServer
from tui.state import Change, Op, StateError
from tui.state.location import StoreLocation
from tui.state.redis.connection import RedisConnection
from tui.state.redis.stream import ChangeStream


def connect(url: str) -> RedisConnection:
    address = StoreLocation.parse(url).redis
    assert address is not None
    return RedisConnection(address)


def test_a_set_is_a_value_a_revision_and_a_stream_entry(redis_server: RedisServer) -> None:
    link = connect(redis_server.url())
    assert link.revision() == 0
    revision = link.set(
        "job:1", b'{"n":1}', source="a.lua#1", origin="a.lua:3", ttl=None, maxlen=100
    )
    assert revision == 1 and link.revision() == 1
    assert link.value("job:1") == b'{"n":1}'
    entry = link.entry("job:1")
    assert entry is not None
    assert (entry.value, entry.version, entry.source, entry.origin) == (
        b'{"n":1}',
        1,
        "a.lua#1",
        "a.lua:3",
    )
    assert link.keys() == ["job:1"] and link.keys("job:") == ["job:1"] and link.keys("x") == []
    [change] = link.since(0)
    assert (change.op, change.key, change.version, change.value, change.created) == (
        Op.SET,
        "job:1",
        1,
        b'{"n":1}',
        True,
    )
    assert link.delete("job:1", source="cli", origin="", maxlen=100) == 2
    assert link.delete("job:1", source="cli", origin="", maxlen=100) == -1
    assert [c.op for c in link.since(1)] == [Op.DELETE]


def test_a_ttl_is_redis_s_own(redis_server: RedisServer) -> None:
    link = connect(redis_server.url())
    link.set("brief", b"1", source="t", origin="", ttl=0.2, maxlen=10)
    entry = link.entry("brief")
    assert entry is not None and entry.expires > time.time()
    time.sleep(0.25)
    assert link.value("brief") is None


def test_versions_are_checked_by_the_server(redis_server: RedisServer) -> None:
    link = connect(redis_server.url())
    first = link.set("k", b"1", source="t", origin="", ttl=None, maxlen=10, expected=0)
    assert first == 1
    assert link.set("k", b"2", source="t", origin="", ttl=None, maxlen=10, expected=0) == 0
    assert link.set("k", b"2", source="t", origin="", ttl=None, maxlen=10, expected=1) == 2


def _incr_many(url: str, times: int) -> None:
    link = connect(url)
    for _ in range(times):
        while True:  # optimistic: read, then write only if nobody wrote meanwhile
            entry = link.entry("n")
            total = (0 if entry is None else int(entry.value)) + 1
            expected = 0 if entry is None else entry.version
            if link.set(
                "n",
                str(total).encode(),
                source="t",
                origin="",
                ttl=None,
                maxlen=10,
                expected=expected,
            ):
                break


def test_four_processes_incrementing_at_once_lose_nothing(redis_server: RedisServer) -> None:
    url = redis_server.url()
    workers = [multiprocessing.Process(target=_incr_many, args=(url, 500)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert connect(url).value("n") == b"2000"


def test_an_unreachable_server_is_one_clear_error_within_the_timeout() -> None:
    from tests.redis_server import free_port

    started = time.monotonic()
    with pytest.raises(
        StateError, match=r"the store at redis://:\*\*\*@127.0.0.1:\d+/0 is unreachable"
    ) as caught:
        connect(f"redis://:pw@127.0.0.1:{free_port()}/0")
    assert "pw" not in str(caught.value)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("timeout", [0.3, 1.0])
def test_a_server_that_never_answers_is_unreachable_after_the_timeout(timeout: float) -> None:
    import socket

    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StateError, match="is unreachable: Timeout"):
            connect(f"redis://127.0.0.1:{port}/0?timeout={timeout}")
        took = time.monotonic() - started
    assert timeout <= took < timeout + 0.5, took


def test_a_namespace_written_by_a_newer_stateui_is_refused(redis_server: RedisServer) -> None:
    import redis

    redis.Redis(port=redis_server.port).set("future:format", 99)
    with pytest.raises(StateError, match="written by a newer stateui"):
        connect(redis_server.url("future"))


def test_a_database_that_is_not_there_is_said(redis_server: RedisServer) -> None:
    with pytest.raises(StateError, match="there is no database 99"):
        connect(f"redis://127.0.0.1:{redis_server.port}/99")


def test_the_stream_follower_hands_on_every_change_once_in_order(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url()
    writer, reader = connect(url), connect(url)
    seen: list[int] = []
    got = threading.Event()

    def on_changes(changes: list[Change]) -> None:
        seen.extend(change.version for change in changes)
        if len(seen) >= 30:
            got.set()

    stream = ChangeStream(reader, 0, on_changes=on_changes, on_gap=lambda first: 0).start()
    try:
        for number in range(30):
            writer.set(f"k{number % 3}", b"1", source="t", origin="", ttl=None, maxlen=1000)
        assert got.wait(5), seen
        assert seen == list(range(1, 31))
    finally:
        stream.stop()


def test_a_follower_left_behind_a_trimmed_stream_is_told_where_it_starts(
    redis_server: RedisServer,
) -> None:
    import redis

    url = redis_server.url()
    writer = connect(url)
    for number in range(20):
        writer.set(f"k{number}", b"1", source="t", origin="", ttl=None, maxlen=1000)
    redis.Redis(port=redis_server.port).xtrim(f"{writer.ns}:log", minid="15-0", approximate=False)
    gaps: list[int] = []
    told = threading.Event()

    def on_gap(first: int) -> int:
        gaps.append(first)
        told.set()
        return writer.revision()  # reloaded: go on from the store's revision

    stream = ChangeStream(connect(url), 3, on_changes=lambda changes: None, on_gap=on_gap)
    stream.start()
    try:
        assert told.wait(5)
        assert gaps == [15]
    finally:
        stream.stop()
    assert stream.revision == 20


def test_a_namespace_holding_someone_else_s_keys_is_refused_untouched(
    redis_server: RedisServer,
) -> None:
    import redis

    client = redis.Redis(port=redis_server.port)
    client.set("theirs:rev", "notanumber")
    with pytest.raises(StateError, match=r"'theirs' is not a stateui store \(it has no"):
        connect(redis_server.url("theirs"))
    assert sorted(client.keys("theirs*")) == [b"theirs:rev"]  # nothing written
    client.hset("hashed:format", "a", "b")
    with pytest.raises(StateError, match="holds keys stateui did not write"):
        connect(redis_server.url("hashed"))
