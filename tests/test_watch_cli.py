"""`stateui watch` through the real entry point, in a pseudo-terminal like a person's."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from tests.conftest import stateui_command

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


class Terminal:
    """A child process on a pseudo-terminal, and what it has drawn so far (as text)."""

    def __init__(self, args: list[str], cwd: Path, size: tuple[int, int] = (110, 32)) -> None:
        self.master, slave = pty.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = b""

    def forget(self) -> None:
        """Look only at what is drawn from now on."""
        self.screen = b""

    def read_until(self, text: str, timeout: float = 20) -> None:
        """Read the child's output until `text` has been drawn."""
        deadline = time.monotonic() + timeout
        while text.encode() not in _ESCAPES.sub(b"", self.screen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    raise AssertionError(f"{text!r} never appeared; the app ended") from None

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def drain(self, seconds: float) -> None:
        """Keep reading for a while: a child whose terminal is full cannot go on (or exit)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    return  # the child has closed its terminal

    def quit(self, timeout: float = 20) -> int:
        """Press q until the app exits (a key pressed while it starts up can be lost)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.press("q")
            self.drain(0.5)
            if self.process.poll() is not None:
                return self.process.returncode
        raise AssertionError("q never quit the app")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def test_watch_runs_the_script_reruns_it_on_save_and_quits_with_q(tmp_path: Path) -> None:
    script = tmp_path / "job.lua"
    script.write_text('State.set("job:state", "first")\nprint("first_version_ran")\n')
    terminal = Terminal([*stateui_command(), "watch", "job.lua"], cwd=tmp_path)
    try:
        terminal.read_until("first_version_ran")
        terminal.read_until("job")
        for attempt in range(100):  # save until the watcher is up: it has no ready signal
            script.write_text(f'print("saved_{attempt}")\n')
            try:
                terminal.read_until(f"saved_{attempt}", timeout=0.3)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("the rerun never showed")
        terminal.forget()
        # Quitting must not wait for this loop.
        script.write_text('print("looping_now")\nwhile true do end\n')
        terminal.read_until("looping_now")
        started = time.monotonic()
        assert terminal.quit() == 0
        assert time.monotonic() - started < 3
    finally:
        terminal.close()


def test_stateui_alone_opens_the_app_on_the_loaded_store(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"config:app_name": "loaded_from_file"}')
    terminal = Terminal([*stateui_command(), "watch", "--load", "state.json"], cwd=tmp_path)
    try:
        terminal.read_until("Keys · 1")
        assert terminal.quit() == 0
    finally:
        terminal.close()
    terminal = Terminal(stateui_command(), cwd=tmp_path)
    try:
        terminal.read_until("The store is empty")
        assert terminal.quit() == 0
    finally:
        terminal.close()


def test_the_console_runs_lines_in_a_real_terminal_and_keeps_them(
    tmp_path: Path, state_home: Path
) -> None:
    (tmp_path / "state.json").write_text('{"config:name": "loaded"}')
    terminal = Terminal([*stateui_command(), "watch", "--load", "state.json"], cwd=tmp_path)
    try:
        terminal.read_until("Keys · 1")
        terminal.press(":")
        terminal.read_until("tab Complete")  # the footer of the console line
        terminal.press('State.set("config:answer", 6 * 7)\r')
        terminal.read_until("Keys · 2")
        terminal.forget()
        terminal.press('State.get("config:answer") + 0.5\r')
        terminal.read_until("42.5")
        terminal.press("\x1b")  # escape: back to the tree, where q quits
        terminal.read_until("q Quit")
        assert terminal.quit() == 0
    finally:
        terminal.close()
    history = (state_home / "stateui" / "console_history").read_text()
    assert history.splitlines() == [
        '"State.set(\\"config:answer\\", 6 * 7)"',
        '"State.get(\\"config:answer\\") + 0.5"',
    ]


def test_progress_prefix_chooses_the_keys_of_the_progress_panel(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(
        '{"jobs:import": {"current": 3, "total": 4}, "progress:other": {"percent": 10}}'
    )
    terminal = Terminal(
        [*stateui_command(), "watch", "--load", "state.json", "--progress-prefix", "jobs:"],
        cwd=tmp_path,
    )
    try:
        terminal.read_until("Progress · 1 running · 0 done")
        terminal.read_until("3/4")
        assert terminal.quit() == 0
    finally:
        terminal.close()
