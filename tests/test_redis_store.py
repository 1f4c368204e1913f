"""The Store API over Redis: the same behaviour as the other stores, shared by processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer
from tui.state import MISSING, Change, Op, StateError, Store, Subscription
from tui.state.limits import Limits
from tui.state.location import StoreLocation
from tui.state.redis.connection import RedisConnection
from tui.state.redis.scripts import stream_length
from tui.state.redis.store import RedisStore
from tui.state.waiting import wait_for


def open_redis(url: str) -> RedisStore:
    address = StoreLocation.parse(url).redis
    assert address is not None
    return RedisStore(RedisConnection(address))


@pytest.fixture
def shared(redis_server: RedisServer) -> Iterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one namespace, as two processes would open it."""
    url = redis_server.url()
    first, second = open_redis(url), open_redis(url)
    yield first, second
    first.close()
    second.close()


def test_what_one_writes_the_other_reads(shared: tuple[RedisStore, RedisStore]) -> None:
    first, second = shared
    version = first.set("job:1", {"state": "running"}, source="a.lua#1")
    assert second.get("job:1") == {"state": "running"}
    entry = second.entry("job:1")
    assert entry is not None and (entry.version, entry.source) == (version, "a.lua#1")
    assert second.keys() == ["job:1"] and second.exists("job:1")
    assert second.delete("job:1", source="b.lua#1")
    assert first.get("job:1") is None


def test_every_subscriber_sees_every_change_once_in_order(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    feeds = [first.subscribe(), second.subscribe()]
    for number in range(10):
        (first if number % 2 else second).set(f"k{number % 3}", number, source="t")
    first.delete("k0", source="t")
    for feed in feeds:
        got: list[tuple[Op, int]] = []
        while len(got) < 11:
            assert feed.wait(5), got
            got += [(change.op, change.version) for change in feed.drain()[0]]
        assert [version for _, version in got] == list(range(1, 12))
        assert got[-1][0] is Op.DELETE


def test_incr_from_two_stores_at_once_loses_nothing(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    def add(store: Store) -> None:
        for _ in range(300):
            store.incr("n", source="t")

    workers = [threading.Thread(target=add, args=(store,)) for store in shared]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert shared[0].get("n") == 600


def test_compare_and_set_is_checked_by_the_server(shared: tuple[RedisStore, RedisStore]) -> None:
    first, second = shared
    assert first.compare_and_set("k", 1, MISSING, source="t")
    assert not second.compare_and_set("k", 2, MISSING, source="t")
    _, version = second.versioned("k")
    assert second.compare_and_set("k", 2, version, source="t")
    assert not first.compare_and_set("k", 3, version, source="t")
    assert first.get("k") == 2


def drain_until(feed: Subscription, count: int) -> list[Change]:
    got: list[Change] = []
    while len(got) < count:
        assert feed.wait(5), got
        got += feed.drain()[0]
    return got


def test_ttls_are_redis_s_own_and_each_expiry_is_a_change(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    feed = second.subscribe()
    first.set("brief", 1, source="t", ttl=0.2)
    first.set("long", 2, source="t", ttl=600)
    left = second.ttl("long")
    assert left is not None and 599 < left <= 600
    assert second.ttl("brief") is not None and second.ttl("missing") is None
    time.sleep(0.25)
    assert second.get("brief") is None and not second.exists("brief")  # exact at once
    changes = drain_until(feed, 3)
    assert [(c.op, c.key, c.source) for c in changes[2:]] == [(Op.EXPIRE, "brief", "ttl")]


def test_expire_and_persist_are_changes_and_a_plain_set_makes_a_key_permanent(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    first.set("k", "v", source="t")
    assert second.expire("k", 30, source="t")
    ttl = first.ttl("k")
    assert ttl is not None and 29 < ttl <= 30
    assert not second.expire("missing", 30, source="t")
    assert first.persist("k", source="t") and not first.persist("k", source="t")
    assert second.ttl("k") is None
    first.set("k", "w", source="t", ttl=30)
    first.incr("n", source="t")
    first.set("k", "x", source="t")
    assert second.ttl("k") is None
    with pytest.raises(StateError, match="ttl must be a number of seconds above 0"):
        first.set("k", "y", source="t", ttl=-1)
    assert second.get("k") == "x"


def test_a_write_to_a_key_redis_expired_records_the_expiry_first(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    first._sweeper.stop()  # only the write may record it here
    second._sweeper.stop()
    first.set("n", 41, source="t", ttl=0.05)
    time.sleep(0.1)
    assert first.incr("n", source="t") == 1
    ops = [(c.op, c.key) for c in first.changes_since(1)]
    assert ops == [(Op.EXPIRE, "n"), (Op.SET, "n")]


def test_clear_deletes_a_prefix_at_once(shared: tuple[RedisStore, RedisStore]) -> None:
    first, second = shared
    for number in range(5):
        first.set(f"cache:{number}", number, source="t")
    first.set("keep", 1, source="t")
    assert second.clear("cache:", source="t") == 5
    assert first.keys() == ["keep"]
    assert len(first) == 1


def test_limits_are_kept_in_redis_and_hold_for_every_process(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    first.set_limits(Limits(max_keys=2))
    assert second.limits == Limits(max_keys=2)
    second.set("a", 1, source="t")
    first.set("b", 1, source="t")
    with pytest.raises(StateError, match=r"^the store is full: 2 keys, the limit is 2$"):
        second.set("c", 1, source="t")
    assert first.keys() == ["a", "b"]
    first.set("a", 2, source="t")  # an existing key still changes
    second.set_limits(Limits(max_keys=2, when_full="evict-oldest"))
    feed = first.subscribe()
    second.set("c", 1, source="t")
    changes = drain_until(feed, 2)
    assert [(c.op, c.key, c.source) for c in changes] == [
        (Op.EVICT, "b", "limit"),
        (Op.SET, "c", "t"),
    ]
    assert first.keys() == ["a", "c"]


def test_incr_of_an_integer_is_one_script_and_keeps_the_ttl(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    first.set("n", 5, source="t", ttl=60)
    assert second.incr("n", 10, source="t") == 15
    assert second.incr("n", -20, source="t") == -5
    ttl = first.ttl("n")
    assert ttl is not None and 59 < ttl <= 60
    assert first.incr("f", 0.5, source="t") == 0.5  # a float: the checked write
    assert first.incr("f", 1, source="t") == 1.5
    first.set("s", "text", source="t")
    with pytest.raises(StateError, match="not a number"):
        first.incr("s", source="t")


def test_wait_sees_a_change_another_process_makes(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    revision = first.revision
    threading.Timer(0.1, lambda: second.set("result:1", {"ok": True}, source="w")).start()
    change = wait_for(first, "result:*", timeout=5)
    assert change is not None and (change.key, change.value) == ("result:1", b'{"ok":true}')
    later = wait_for(first, "result:1", timeout=5, after=revision)  # from the stream
    assert later is not None and later.version == change.version


def test_the_keys_under_a_prefix_come_in_key_order_and_in_batches(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    names = [f"job:{n:03}" for n in range(25)] + ["job", "jobs:x", "joc", "ä:1", "a:é"]
    for name in names:
        first.set(name, 1, source="t")
    first.set("job:gone", 1, source="t", ttl=0.05)
    deadline = time.monotonic() + 5
    while first.get("job:gone") is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # Redis expires the key itself
    assert second.keys() == sorted(names)
    assert second.keys("job:") == sorted(n for n in names if n.startswith("job:"))
    batches = list(second._redis.key_batches("job:", size=10))
    assert len(batches) >= 3 and all(len(batch) <= 10 for batch in batches)
    assert [key for batch in batches for key in batch] == second.keys("job:")
    assert list(second.key_batches("nothing:")) == [[]]
    assert second.clear("job", source="t") == 27
    assert second.keys() == ["a:é", "joc", "ä:1"]


def test_the_stream_is_trimmed_to_the_history_kept(redis_server: RedisServer) -> None:
    url = redis_server.url()
    address = StoreLocation.parse(url).redis
    assert address is not None
    store = RedisStore(RedisConnection(address), history=2)
    try:
        assert stream_length(2) == 10_000
        for number in range(10_250):
            store.set("busy", number, source="t")
        store.set("quiet", 1, source="t")
        held = store._redis.stream_size()
        assert 10_000 <= held <= 10_400, held  # trimmed every 100 changes, in whole nodes
        assert [change.value for change in store.versions("busy")] == [b"10249", b"10248"]
        assert store.changes_since(0)[0].version > 1  # the oldest are gone
        # The history setting is the namespace's: a process that does not say one keeps it.
        again = RedisStore(RedisConnection(address))
        assert again.history == 2
        again.close()
    finally:
        store.close()


def test_a_load_writes_in_pipelines_and_keeps_each_expiry(
    shared: tuple[RedisStore, RedisStore],
) -> None:
    first, second = shared
    now = time.time()
    values = {f"k{n:04}": n for n in range(2_500)}  # three round trips of scripts
    expires = {"k0001": now + 60, "k0002": now + 0.05, "k0003": now - 1}
    assert first.load(values, source="restore", expires=expires) == 2_499  # k0003 is gone
    deadline = time.monotonic() + 5
    while second.get("k0002") is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # Redis expires it by itself
    assert len(second.keys()) == 2_498
    ttl = second.ttl("k0001")
    assert ttl is not None and 59 < ttl <= 60
    assert second.get("k2499") == 2499 and second.get("k0003") is None
    assert [c.source for c in second.changes_since(0, 3)] == ["restore"] * 3


def test_a_wait_sees_a_change_made_after_the_server_came_back_empty(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # not durable: it comes back without its data
    url = server.url()
    waiting = open_redis(url)
    for number in range(50):
        waiting.set(f"before:{number}", number, source="t")
    got: list[Change | None] = []
    waiter = threading.Thread(target=lambda: got.append(wait_for(waiting, "x", timeout=15)))
    try:
        waiter.start()
        assert waiting.in_step()
        server.stop()
        deadline = time.monotonic() + 10
        while waiting.link_error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        server.start()
        writer = open_redis(url)
        writer.set("x", 42, source="other")  # revision 1 of the store as it is now
        writer.close()
        waiter.join(15)
        assert got and got[0] is not None, got
        assert (got[0].key, got[0].value, got[0].version) == ("x", b"42", 1)
    finally:
        waiting.close()
        server.stop()
