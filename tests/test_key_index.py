"""The key tree's model: grouping by delimiter, counts, natural order, lazy folders."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.app.model.key_index import Child, KeyIndex, natural_key


def names(index: KeyIndex, prefix: str = "") -> list[tuple[str, bool]]:
    folder = index.folder(prefix)
    assert folder is not None
    return [(child.name, child.is_folder) for child in folder.children(index.delimiter)]


def test_keys_are_grouped_by_their_colon_prefixes_with_counts() -> None:
    index = KeyIndex(
        ":",
        [
            "workflow:data_pipeline:status",
            "workflow:data_pipeline:step",
            "workflow:other:status",
            "cache:api_response:user_123",
            "progress:import_job",
            "plain",
        ],
    )
    assert names(index) == [
        ("cache", True),
        ("progress", True),
        ("workflow", True),
        ("plain", False),
    ]
    workflow = index.folder("workflow:")
    assert workflow is not None and workflow.count == 3
    assert names(index, "workflow:") == [("data_pipeline", True), ("other", True)]
    assert names(index, "workflow:data_pipeline:") == [("status", False), ("step", False)]
    assert len(index) == 6


def test_natural_order_puts_user_2_before_user_10() -> None:
    index = KeyIndex(":", ["user_10", "user_2", "User_3", "user_1", "a10b2", "a10b10", "a9"])
    assert [name for name, _ in names(index)] == [
        "a9", "a10b2", "a10b10", "user_1", "user_2", "User_3", "user_10",
    ]  # fmt: skip
    assert natural_key("x2") < natural_key("x10")


def test_a_key_that_is_also_a_prefix_shows_as_both() -> None:
    index = KeyIndex(":", ["job", "job:1", "job:2"])
    assert names(index) == [("job", True), ("job", False)]
    job = index.folder("job:")
    assert job is not None and job.count == 2


def test_empty_segments_and_other_delimiters() -> None:
    index = KeyIndex("/", ["a//b", "a/", "c:d"])
    assert names(index) == [("a", True), ("c:d", False)]
    assert names(index, "a/") == [("", True), ("", False)]
    assert names(index, "a//") == [("b", False)]


def test_folders_open_only_when_asked() -> None:
    index = KeyIndex(":", [f"big:{n}" for n in range(5000)])
    big = index.folder("big:")
    assert big is not None and big.count == 5000
    assert not big.is_open
    assert big.children(":", 3) == [Child("0", False), Child("1", False), Child("2", False)]
    assert big.is_open and big.child_count(":") == 5000


def test_add_and_remove_keep_counts_and_say_what_changed() -> None:
    index = KeyIndex(":", ["a:1"])
    names(index, "a:")  # open it: closed folders only count
    assert index.add("a:2") is True
    assert index.add("a:2") is False  # already there: nothing changes
    assert index.changed == {"a:"}
    index.changed.clear()
    assert index.add("b:x:y") is True
    assert index.changed == {""}  # a new folder at the top
    assert index.remove("nope") is False
    assert index.remove("a:1") and index.remove("a:2")
    assert index.folder("a:") is None  # an emptied folder disappears
    assert names(index) == [("b", True)]
    assert len(index) == 1


def test_sorted_children_follow_adds_and_removes() -> None:
    index = KeyIndex(":", [f"k:{n}" for n in range(100)])
    folder = index.folder("k:")
    assert folder is not None
    folder.children(":")  # builds the order
    for n in range(100, 200):  # many at once: merged
        index.add(f"k:{n}")
    index.add("k:50x")  # few: inserted
    index.remove("k:7")
    got = [child.name for child in folder.children(":")]
    want = sorted([str(n) for n in range(200) if n != 7] + ["50x"], key=natural_key)
    assert got == want
    for n in range(100, 150):
        index.remove(f"k:{n}")
    assert [child.name for child in folder.children(":")] == [
        name for name in want if not (name.isdigit() and 100 <= int(name) < 150)
    ]


@given(
    st.lists(
        st.tuples(st.booleans(), st.text(alphabet="ab:1", min_size=1, max_size=6)),
        max_size=60,
    )
)
def test_the_index_always_matches_the_key_set(operations: list[tuple[bool, str]]) -> None:
    index = KeyIndex(":", [])
    keys: set[str] = set()
    for step, (adding, key) in enumerate(operations):
        if step % 7 == 3:  # open every folder now and then, so both states are exercised
            walk_all(index)
        assert (index.add(key) if adding else index.remove(key)) == (
            (key not in keys) if adding else (key in keys)
        )
        keys.add(key) if adding else keys.discard(key)
    assert len(index) == len(keys)
    assert sorted(walk_all(index)) == sorted(keys)


def walk_all(index: KeyIndex, prefix: str = "") -> list[str]:
    folder = index.folder(prefix)
    assert folder is not None
    found = []
    total = 0
    for child in folder.children(index.delimiter):
        if child.is_folder:
            below = walk_all(index, f"{prefix}{child.name}:")
            found += below
            total += len(below)
        else:
            found.append(prefix + child.name)
            total += 1
    assert folder.count == total
    return found


def test_natural_order_details() -> None:
    names = ["b", "a10", "a", "a9", "A9", "a9b", "a09", "ab", "a-", "10", "9", "a1b2", "a1b10"]
    assert sorted(names, key=natural_key) == [
        "9", "10", "a", "a1b2", "a1b10", "A9", "a9", "a9b", "a09", "a10", "a-", "ab", "b",
    ]  # fmt: skip


@given(
    st.lists(st.from_regex(r"[ab]:(x:)?[a-c]{0,2}[0-9]{0,2}", fullmatch=True), max_size=40),
    st.lists(st.from_regex(r"[ab]:(x:)?[a-c]{0,2}[0-9]{0,2}", fullmatch=True), max_size=10),
    st.integers(0, 45),
    st.integers(0, 45),
)
def test_a_page_from_any_place_is_that_slice_of_all_the_children(
    keys: list[str], later: list[str], start: int, limit: int
) -> None:
    index = KeyIndex(":", keys)
    folder = index.folder("a:")
    if folder is None:
        return
    folder.children(":", 3)  # opened and ordered; what comes later waits unsorted
    for key in later:
        if key in index:
            index.remove(key)
        else:
            index.add(key)
    folder = index.folder("a:")
    if folder is None:
        return
    every = folder.children(":")
    assert folder.children(":", limit, start=start) == every[start : start + limit]
    assert folder.children(":", None, start=start) == every[start:]
