"""Every script in lua_examples/ runs with `stateui run` and leaves the state it promises."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, stateui_command


def run_examples(*names: str) -> tuple[list[str], dict[str, Any]]:
    result = subprocess.run(
        [*stateui_command(), "run", *(str(EXAMPLES / name) for name in names), "--dump", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    output, _, dumped = result.stdout.partition("{")
    return output.splitlines(), json.loads("{" + dumped)


def test_every_example_is_covered() -> None:
    covered = {name for case in CASES for name in case[0]} | TESTED_BELOW
    assert covered == {path.name for path in Path(EXAMPLES).glob("*.lua")}


TESTED_BELOW = {
    "workflow_steps.lua",
    "key_naming.lua",
    "cache.lua",
    "progress_tracking.lua",
    "parallel_branch_1.lua",
    "parallel_branch_2.lua",
    "pipeline.lua",
}


CASES: list[tuple[tuple[str, ...], list[str] | None, dict[str, Any]]] = [
    (
        ("basic_usage.lua",),
        ["key = value", "after delete: nil", "keys: answer, greeting"],
        {"answer": 42, "greeting": "hello"},
    ),
    (
        ("complex_data.lua",),
        ["Retries: 3", "Timeout: 30", "Stored retries still: 3"],
        {
            "user_config": {
                "name": "John",
                "retries": 3,
                "settings": {"timeout": 30, "verbose": True},
            }
        },
    ),
    (("counter.lua",), ["api_attempts = 3"], {"api_attempts": 3}),
    (
        ("error_handling.lua",),
        ["set a default", "retries: 0"],
        {"might_not_exist": "default_value"},
    ),
    (
        ("update.lua",),
        ["widgets: 7 left, 3 reserved", "recent: event 3, event 4, event 5"],
        {
            "events:recent": ["event 3", "event 4", "event 5"],
            "inventory:widgets": {"count": 7, "reserved": 3},
        },
    ),
    (
        ("clear.lua",),
        [
            "cached: 5",
            "cleared 5 cache keys",
            "cache:api_response:user_1 exists: false",
            "kept: workflow:data_pipeline:status",
        ],
        {"workflow:data_pipeline:status": "running"},
    ),
    (("atomic_counter.lua",) * 4, None, {"n": 100_000}),
]


@pytest.mark.parametrize(
    ("names", "lines", "state"), CASES, ids=lambda v: v[0] if isinstance(v, tuple) else ""
)
def test_example_output_and_state(
    names: tuple[str, ...], lines: list[str] | None, state: dict[str, Any]
) -> None:
    output, dumped = run_examples(*names)
    if lines is not None:
        assert output == lines
    assert dumped == state


def test_workflow_steps() -> None:
    output, state = run_examples("workflow_steps.lua")
    assert output == ["1000 records, 5 errors: flagging for review", "status: needs_review"]
    assert state["processed_data"]["records"] == 1000
    assert state["workflow:data_pipeline:status"] == "needs_review"


def test_key_naming() -> None:
    output, state = run_examples("key_naming.lua")
    assert output == ["workflow:data_pipeline:progress", "workflow:data_pipeline:status"]
    assert state["cache:api_response:user_123"] == {"id": 123, "name": "Ada", "plan": "pro"}


def test_cache_fetches_once() -> None:
    output, state = run_examples("cache.lua")
    assert output == ["got user 123"] * 3 + ["fetched from the API 1 time(s)"]
    assert state["cache:user_123"]["id"] == 123


def test_progress_tracking() -> None:
    output, state = run_examples("progress_tracking.lua")
    assert output == ["import_job: 20/20 (100%)"]
    progress = state["progress:import_job"]
    assert (progress["current"], progress["total"], progress["percent"]) == (20, 20, 100.0)


def test_parallel_branches() -> None:
    output, state = run_examples("parallel_branch_1.lua", "parallel_branch_2.lua")
    assert sorted(output) == [
        "[parallel_branch_1.lua] All branches complete",
        "[parallel_branch_1.lua] branch 1 done",
        "[parallel_branch_2.lua] All branches complete",
        "[parallel_branch_2.lua] branch 2 done",
    ]
    assert state == {"branch_1_complete": True, "branch_2_complete": True}


def test_pipeline() -> None:
    output, state = run_examples("pipeline.lua")
    assert output[0] == "[1/6] imported ada" and output[-1] == "pipeline done: 6 records"
    assert state["workflow:data_pipeline:status"] == "done"
    assert state["workflow:data_pipeline:records"] == 6
    assert state["progress:import_users"]["percent"] == 100.0
    assert len(state["workflow:data_pipeline:summary"]["users"]) == 6


def test_the_multi_job_import_runs_five_jobs_at_once_and_one_fails_halfway() -> None:
    jobs = sorted((EXAMPLES / "import").glob("*.lua"))
    assert [job.stem for job in jobs] == ["invoices", "orders", "products", "reviews", "users"]
    result = subprocess.run(
        [*stateui_command(), "run", *map(str, jobs), "--dump", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, "the invoices job fails"
    assert "invoices: record 50 of 100 is malformed" in result.stderr
    output, _, dumped = result.stdout.partition("{")
    assert sorted(output.splitlines()) == [
        "[orders.lua] orders: 200 records imported",
        "[products.lua] products: 150 records imported",
        "[reviews.lua] reviews: 60 records imported",
        "[users.lua] users: 300 records imported",
    ]
    progress = {
        key.removeprefix("progress:import_"): (value["current"], value["total"])
        for key, value in json.loads("{" + dumped).items()
    }
    assert progress == {
        "invoices": (49, 100),
        "orders": (200, 200),
        "products": (150, 150),
        "reviews": (60, 60),
        "users": (300, 300),
    }


def test_the_job_queue_hands_every_job_to_one_worker_and_sums_up() -> None:
    folder = EXAMPLES / "job_queue"
    result = subprocess.run(
        [
            *stateui_command(),
            "run",
            *(str(folder / name) for name in ("producer.lua", "worker_1.lua", "worker_2.lua")),
            "--dump",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output, _, dumped = result.stdout.partition("{")
    lines = sorted(output.splitlines())
    assert lines[0] == "[producer.lua] 6 jobs done, the sums of squares add up to 369"
    taken = [int(line.split(" took ")[1].split()[0]) for line in lines[1:]]
    assert [line.split("]")[0] for line in lines[1:]] == ["[worker_1.lua", "[worker_2.lua"]
    assert sum(taken) == 6
    state = json.loads("{" + dumped)
    summary = state["queue:summary"]
    assert (summary["jobs"], summary["total"]) == (6, 369)
    assert sum(summary["by_worker"].values()) == 6
    assert sorted(key for key in state if key.startswith("results:")) == [
        f"results:{n}" for n in range(1, 7)
    ]
    assert state["queue:next"] == 8  # each worker's last claim found the queue empty
