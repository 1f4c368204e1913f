"""The JSON editor for one key's value, or for a new key and its value."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Static, TextArea

from tui.app.format import format_size, pretty_json
from tui.app.screens.confirm import Confirm
from tui.app.screens.dialog import Dialog
from tui.state import MISSING, StateError, Store, codec
from tui.state.errors import StoreUnreachable
from tui.state.expiry import MIN_TTL, check_ttl
from tui.state.keys import key_problem
from tui.state.store import KEEP_TTL

EDITOR_SOURCE = "editor"
"""What the editor's writes carry as their source."""

HIGHLIGHT_BYTES = 64 * 1024
"""Values longer than this (as indented JSON) are edited without highlighting: it lags."""

EDIT_BYTES = 256 * 1024
"""The longest value the editor takes, as indented JSON: past it, every key lags."""


@dataclass(frozen=True)
class JsonProblem:
    """Why the text is not a value to store, and where (1-based line and column)."""

    message: str
    line: int | None = None
    column: int | None = None


def parse_json(text: str) -> Any:
    """The value the text holds; raises ValueError with a JsonProblem for a person.

    Parsed exactly (integers of any size), and with what JSON does not allow but the
    store refuses with a message of its own (NaN, Infinity, 1e400, integers past 64
    bits): the store says what is wrong with those.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(JsonProblem("Invalid JSON: nested too deeply to read")) from None
    except ValueError as error:
        where = (error.lineno, error.colno) if isinstance(error, json.JSONDecodeError) else None
    try:
        orjson.loads(text)  # its messages say more ("expected 'true'")
    except orjson.JSONDecodeError as error:
        where, message = (error.lineno, error.colno), error.msg
    else:
        message = "not valid JSON"
    line, column = where if where is not None else (None, None)
    at = f" at line {line}, column {column}" if line is not None else ""
    raise ValueError(JsonProblem(f"Invalid JSON{at}: {message}", line, column))


def editable_text(data: bytes) -> str:
    """Stored JSON as the editor shows it: indented by two spaces, keys sorted as in the
    value pane.

    Raises ValueError, with a message for a person, when it is too long to edit.
    """
    if len(data) > EDIT_BYTES:  # indenting only adds: refused before any formatting
        raise ValueError(
            f"It is {format_size(len(data))} of JSON: the editor takes up to "
            f"{format_size(EDIT_BYTES)}. Change it from the console, or copy it with y."
        )
    text = pretty_json(orjson.loads(data))
    if len(text) > EDIT_BYTES:
        raise ValueError(
            f"It is {format_size(len(text))} as indented JSON: the editor takes up to "
            f"{format_size(EDIT_BYTES)}. Change it from the console, or copy it with y."
        )
    return text


def parse_ttl(text: str) -> float | None:
    """The TTL typed, in seconds (None when empty: the key never expires); raises
    ValueError with a message for a person."""
    text = text.strip()
    if not text:
        return None
    never = "leave it empty for a key that never expires"
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValueError(f"The TTL must be a number of seconds, not {text!r} ({never}).")
    if seconds < MIN_TTL:
        raise ValueError(f"The TTL must be at least {MIN_TTL} seconds, not {text} ({never}).")
    return check_ttl(seconds)


def ttl_text(seconds: float) -> str:
    """A key's time left as the editor's TTL field shows it: `41.2`, `3600`."""
    return f"{max(seconds, 0.1):.1f}".removesuffix(".0")


class ValueEditor(Dialog[str | None]):
    """Edits a key's value as JSON; dismissed with the key once saved, or None.

    `text` is the value as `editable_text` gives it, at `version`.

    Saving is a compare-and-set against the version the editor opened: when a script
    changed (or deleted) the key meanwhile, it asks before overwriting. With no key
    given, it asks for one first (a new key), prefilled with `prefix`. Escape with
    unsaved changes asks before throwing them away.

    The TTL field holds the seconds the key has left (`ttl`), empty when it has no TTL.
    Saved as it opened, the key keeps its expiry as it is; changed, the key expires that
    many seconds after the save; emptied, it never expires.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+t", "ttl", "TTL", priority=True),
    ]

    def __init__(
        self,
        store: Store,
        key: str | None = None,
        *,
        text: str = "",
        version: int = MISSING,
        prefix: str = "",
        ttl: float | None = None,
    ) -> None:
        super().__init__("New key" if key is None else f"Edit {key}", classes="editor")
        self.store = store
        self._new = key is None
        self.key = key or ""
        self._text = text
        self.version = version
        """The version the edit is based on (MISSING for a new key)."""
        self._prefix = prefix
        self._ttl = "" if ttl is None else ttl_text(ttl)

    def compose(self) -> ComposeResult:
        with self.box():
            if self._new:
                yield Static("Key", classes="label")
                yield Input(
                    self._prefix, placeholder="cache:users:1", id="key", select_on_focus=False
                )
                yield Static("Value (JSON)", classes="label")
            else:
                yield Static(self._describe(), classes="label")
            yield TextArea.code_editor(
                self._text,
                language="json" if len(self._text) <= HIGHLIGHT_BYTES else None,
                soft_wrap=False,
                placeholder='{"any": "JSON value"}',
                id="value",
            )
            with Horizontal(classes="ttl"):
                yield Static("TTL", classes="label")
                yield Input(self._ttl, placeholder="none", id="ttl", select_on_focus=False)
                yield Static("seconds until the key expires; empty: never", classes="help")
            yield Static("", classes="problem")
            yield Static("ctrl+s: save · ctrl+t: TTL · escape: cancel", classes="help")

    def on_mount(self) -> None:
        if self._new:
            self.query_one("#key", Input).focus()
        else:
            self.query_one("#value", TextArea).focus()

    def _describe(self) -> str:
        return f"version {self.version} · saving checks that no one changed it meanwhile"

    def action_ttl(self) -> None:
        """Go to the TTL field, or from it back to the value."""
        field = self.query_one("#ttl", Input)
        if field.has_focus:
            self.query_one("#value", TextArea).focus()
        else:
            field.focus()

    # -- saving ---------------------------------------------------------------------

    def action_save(self) -> None:
        """Check the key and the JSON, then save unless someone changed the key meanwhile."""
        if self._new:
            key = self.query_one("#key", Input).value
            problem = key_problem(key)
            if problem is not None:
                self.show_problem(problem, focus=self.query_one("#key", Input))
                return
            self.key = key
        editor = self.query_one("#value", TextArea)
        try:
            value = parse_json(editor.text)
        except ValueError as error:
            found: JsonProblem = error.args[0]
            if found.line is not None and found.column is not None:
                editor.cursor_location = (found.line - 1, found.column - 1)
            self.show_problem(found.message, focus=editor)
            return
        if value is None:
            self.show_problem("A key cannot hold null: to delete the key, use d in the key tree.")
            return
        field = self.query_one("#ttl", Input)
        try:
            ttl = KEEP_TTL if not self._new and field.value == self._ttl else parse_ttl(field.value)
        except ValueError as error:
            self.show_problem(str(error), focus=field)
            return
        self._save(value, self.version, ttl)

    def _save(self, value: Any, version: int, ttl: float | None) -> None:
        """Save at `version` with `ttl` (seconds, None for none, KEEP_TTL as it is)."""
        try:
            data = codec.encode(value, self.store.max_value_bytes)
        except StateError as error:
            self.show_problem(f"The store refuses this value: {error}")
            return
        try:
            saved = self.store.compare_and_set_encoded(
                self.key, data, version, source=EDITOR_SOURCE, ttl=ttl
            )
        except StateError as error:
            self.show_problem(self._not_saved(error))
            return
        if saved:
            self.dismiss(self.key)
            return
        entry = self.store.entry(self.key)
        if entry is None:
            title, why = "Deleted meanwhile", f"{self.key} was deleted after you opened it."
            yes = "Save it again"
        elif version == MISSING:
            title, why = "Key exists", f"{self.key} already exists (set by {entry.source})."
            yes = "Overwrite"
        else:
            title = "Changed meanwhile"
            why = (
                f"{self.key} was changed by {entry.source} after you opened it "
                f"(version {version} → {entry.version})."
            )
            yes = "Overwrite"
        message = Text(f"{why}\nYour edit would replace what is there now.")

        def answered(overwrite: bool | None) -> None:
            if overwrite:
                # Asked and answered: whatever is there now is replaced, even if a busy
                # script wrote again while the question was open.
                self._overwrite(value, ttl)
            elif version == MISSING and entry is not None:
                self.show_problem("Not saved: the key exists (ctrl+s asks again).")
            else:
                self.show_problem("Not saved: the key changed meanwhile (ctrl+s asks again).")

        self.app.push_screen(Confirm(title, message, yes=yes, no="Keep editing"), answered)

    def _overwrite(self, value: Any, ttl: float | None) -> None:
        try:
            data = codec.encode(value, self.store.max_value_bytes)
        except StateError as error:
            self.show_problem(f"The store refuses this value: {error}")
            return
        try:
            if ttl == KEEP_TTL:
                ttl = self.store.ttl(self.key)  # the expiry the key has now, if any
            self.store.set_encoded(self.key, data, source=EDITOR_SOURCE, ttl=ttl)
        except StateError as error:
            self.show_problem(self._not_saved(error))
            return
        self.dismiss(self.key)

    def _not_saved(self, error: StateError) -> str:
        if isinstance(error, StoreUnreachable):  # the value was fine; the store was away
            return f"Not saved: {error}"
        return f"The store refuses this value: {error}"

    def action_cancel(self) -> None:
        """Close without saving; with unsaved changes, once asked."""
        if not self.changed:
            self.dismiss(None)
            return
        self.app.push_screen(
            Confirm("Unsaved changes", "Discard your changes?", yes="Discard", no="Keep editing"),
            self._discard,
        )

    def _discard(self, discard: bool | None) -> None:
        if discard:
            self.dismiss(None)

    @property
    def changed(self) -> bool:
        """Whether the value, the TTL or the new key's name differs from how they opened."""
        if self.query_one("#value", TextArea).text != self._text:
            return True
        if self.query_one("#ttl", Input).value != self._ttl:
            return True
        return self._new and self.query_one("#key", Input).value != self._prefix
