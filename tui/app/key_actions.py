"""What a person does to keys from the inspector: edit, make, delete, copy, clear, export."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from textual.app import App
from textual.worker import get_current_worker

from tui.app.format import count_of, format_size, pretty_json
from tui.app.model.tree_items import FolderItem, KeyItem, MoreItem
from tui.app.screens.confirm import Confirm
from tui.app.screens.prompt import Prompt
from tui.app.screens.value_editor import EDITOR_SOURCE, ValueEditor, editable_text
from tui.app.store_errors import reads_store

if TYPE_CHECKING:
    from tui.app.main_screen import MainScreen

COPY_LIMIT = 64 * 1024 * 1024
"""The most JSON `y` puts on the clipboard, in bytes; a bigger copy is refused."""

EXPORT_FILE = "stateui-dump.json"
"""The file the export offers first, in the folder stateui started in."""


def export_problem(name: str) -> str | None:
    """What is wrong with a file name to export to (None when it can be written)."""
    if not name.strip():
        return "Type a file name."
    try:
        path = Path(name).expanduser()
        if path.is_dir():
            return f"{name} is a folder: name a file."
        if not path.parent.is_dir():
            return f"There is no folder {path.parent}."
        path.exists()  # a name too long, or a folder that cannot be read, fails here
    except (OSError, RuntimeError, ValueError) as error:  # ~nobody/, too long, NUL
        return f"Cannot write there: {getattr(error, 'strerror', None) or error}"
    return None


class KeyActions:
    """The key actions of the main screen, on the key or folder under the tree's cursor.

    Every write carries the source `editor`; everything that cannot be undone asks first.
    """

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.store = screen.session.store

    @property
    def app(self) -> App[None]:
        """The app the actions are of (where a store that cannot be read is said)."""
        return self.screen.app

    def writable(self, *, travelling: bool = True) -> bool:
        """Whether the store takes writes; when not, say why. While the view stands in
        the past (`travelling` counts it), it takes none from the inspector."""
        if travelling and self.screen.feed.travel is not None:
            self.screen.say(
                "The view shows the store as it was: escape returns to live, or rewind "
                "from the palette (ctrl+p) to write the past back.",
                title="Read-only while in the past",
                severity="warning",
            )
            return False
        reason = self.store.read_only
        if reason is None:
            return True
        self.screen.say(
            f"{reason}. Editing, new keys and deleting are unavailable.",
            title="Read-only",
            severity="warning",
        )
        return False

    @reads_store
    def edit(self) -> None:
        """Edit the value of the key under the cursor."""
        if not self.writable():
            return
        screen = self.screen
        item = screen.key_tree.cursor_item
        if not isinstance(item, KeyItem):
            screen.say("Select a key to edit it (n makes a new one).", severity="warning")
            return
        entry = self.store.entry(item.key)
        if entry is None:
            screen.say(f"{item.key} no longer exists.", severity="warning")
            return
        try:
            text = editable_text(entry.value)
        except ValueError as too_long:
            screen.say(str(too_long), title=f"{item.key} is too big to edit here")
            return
        ttl = self.store.ttl(item.key)
        editor = ValueEditor(self.store, item.key, text=text, version=entry.version, ttl=ttl)
        screen.app.push_screen(editor, self._saved)

    @reads_store
    def new_key(self) -> None:
        """Make a new key, in the folder under the cursor."""
        if not self.writable():
            return
        self.screen.app.push_screen(
            ValueEditor(self.store, prefix=self.cursor_prefix()), self._saved
        )

    @reads_store
    def _saved(self, key: str | None) -> None:
        if key is not None:
            entry = self.store.entry(key)
            version = f" (version {entry.version})" if entry is not None else ""
            self.screen.say(f"Saved {key}{version}.", title="Saved")

    def cursor_prefix(self) -> str:
        """The folder the cursor is in (or on), as a key prefix."""
        item = self.screen.key_tree.cursor_item
        if isinstance(item, FolderItem | MoreItem):
            return item.prefix
        if isinstance(item, KeyItem):
            return item.key[: len(item.key) - len(item.name)]  # its folder's prefix
        return ""

    @reads_store
    def delete(self) -> None:
        """Delete the key under the cursor, or every key in the folder under it, once asked."""
        if not self.writable():
            return
        screen = self.screen
        item = screen.key_tree.cursor_item
        if isinstance(item, KeyItem):
            key = item.key
            screen.app.push_screen(
                Confirm("Delete key", f"Delete {key}?", yes="Delete"),
                lambda yes: self._delete_key(key) if yes else None,
            )
        elif isinstance(item, FolderItem):
            prefix, key_filter = item.prefix, screen.feed.key_filter
            which = f" that match {key_filter.text!r}" if key_filter else ""
            self.confirm_delete(screen.feed.keys_under(prefix), f"under {prefix}{which}")
        else:
            screen.say("Select a key or a folder to delete it.", severity="warning")

    @reads_store
    def _delete_key(self, key: str) -> None:
        if self.store.delete(key, source=EDITOR_SOURCE):
            self.screen.say(f"Deleted {key}.", title="Deleted")
        else:
            self.screen.say(f"{key} was already gone.", severity="warning")

    def confirm_delete(self, keys: list[str], where: str) -> None:
        """Ask, then delete exactly `keys`: keys written meanwhile are not part of the deal."""
        amount = count_of(len(keys), "key")

        def delete() -> None:  # in a thread: a million keys take a second
            deleted = self.store.delete_many(keys, source=EDITOR_SOURCE)
            done = f"Deleted {count_of(deleted, 'key')} {where}."
            self.screen.app.call_from_thread(self.screen.say, done, title="Deleted")

        def answered(yes: bool | None) -> None:
            if yes:
                self.screen.run_worker(
                    delete, name="delete", group="delete", thread=True, exit_on_error=False
                )

        self.screen.app.push_screen(
            Confirm("Delete keys", f"Delete the {amount} {where}?", yes=f"Delete {amount}"),
            answered,
        )

    @reads_store
    def copy(self) -> None:
        """Copy the value under the cursor as JSON, as the value pane shows it (keys sorted);
        a folder as one object of its keys and values.

        The values are read and formatted in a thread: a folder of big values takes
        seconds, and the screen goes on meanwhile. Past COPY_LIMIT bytes of JSON, the copy
        is refused with a message.
        """
        screen = self.screen
        item = screen.key_tree.cursor_item
        if isinstance(item, KeyItem):
            keys, prefix = [item.key], None
        elif isinstance(item, FolderItem):
            keys, prefix = screen.feed.keys_under(item.prefix), item.prefix
        else:
            screen.say("Select a key or a folder to copy it.", severity="warning")
            return
        screen.run_worker(
            partial(self._copy_in_thread, keys, prefix),
            name="copy",
            group="copy",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _copy_in_thread(self, keys: list[str], prefix: str | None) -> None:
        """Read and format the values of `keys` (a folder's when `prefix` is given), then
        hand the text to the UI thread to put on the clipboard."""
        app, say = self.screen.app, self.screen.say
        worker = get_current_worker()
        found: dict[str, bytes] = {}
        size = 0
        for key in keys:
            data = self.store.get_encoded(key)
            if data is not None:
                found[key] = data
                size += len(data)
                if size > COPY_LIMIT:
                    break
        if prefix is None:
            if not found:
                app.call_from_thread(say, f"{keys[0]} no longer exists.", severity="warning")
                return
            what = keys[0]
        else:
            what = f"{count_of(len(found), 'key')} under {prefix}"
            if size > COPY_LIMIT:
                what = f"the keys under {prefix}"
        if size <= COPY_LIMIT:
            if prefix is None:
                text = pretty_json(orjson.loads(found[keys[0]]))
            else:
                text = pretty_json({key: orjson.loads(data) for key, data in found.items()})
            size = len(text.encode())
        if size > COPY_LIMIT:
            problem = (
                f"Not copied: {what} is more than {format_size(COPY_LIMIT)} of JSON, the most "
                "y copies. Export the store to a file instead (ctrl+p, Export)."
            )
            app.call_from_thread(say, problem, title="Too big to copy", severity="warning")
            return
        if not worker.is_cancelled:  # a later y took over
            app.call_from_thread(self._copied, text, what, size)

    def _copied(self, text: str, what: str, size: int) -> None:
        self.screen.app.copy_to_clipboard(text)
        self.screen.say(f"Copied {what} as JSON ({format_size(size)}).", title="Copied")

    @reads_store
    def ask_clear(self) -> None:
        """Ask for a prefix, then delete every key under it once confirmed."""
        if not self.writable():
            return

        def check(prefix: str) -> str | None:
            return None if self.store.keys(prefix) else f"No key starts with {prefix!r}."

        def confirm(prefix: str | None) -> None:
            if prefix is not None:
                where = f"under {prefix}" if prefix else "in the store"
                self.confirm_delete(self.store.keys(prefix, sort=False), where)

        self.screen.app.push_screen(
            Prompt(
                "Clear keys under folder",
                "Every key that starts with this prefix is deleted (empty: every key).",
                value=self.cursor_prefix(),
                check=check,
            ),
            confirm,
        )

    @reads_store
    def ask_export(self) -> None:
        """Ask where to write the store as JSON (asking again before replacing a file)."""

        def export(name: str | None) -> None:
            if name is None:
                return
            path = Path(name).expanduser()
            if path.exists():
                self.screen.app.push_screen(
                    Confirm("Export store", f"{path} exists. Replace it?", yes="Replace"),
                    lambda yes: self._export(path) if yes else None,
                )
            else:
                self._export(path)

        self.screen.app.push_screen(
            Prompt(
                "Export store to JSON file",
                "Every key and value as one JSON object, as `stateui run --dump` writes it.",
                value=str(Path.cwd() / EXPORT_FILE),
                check=export_problem,
            ),
            export,
        )

    def _export(self, path: Path) -> None:
        """Write the store to `path` in a thread (a big store takes seconds), then say so."""
        say: Callable[..., None] = self.screen.say

        def write() -> None:
            count = len(self.store)
            try:
                self.store.write_dump(path)
            except OSError as error:
                problem = f"Could not write {path}: {error.strerror or error}"
                self.screen.app.call_from_thread(
                    say, problem, title="Export failed", severity="error"
                )
                return
            done = f"Wrote {count_of(count, 'key')} to {path}."
            self.screen.app.call_from_thread(say, done, title="Exported")

        self.screen.run_worker(write, name="export", thread=True, exit_on_error=False)
