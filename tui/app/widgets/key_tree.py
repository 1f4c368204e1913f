"""The key tree: keys grouped into folders by their delimiter, with counts, live and lazy."""

from __future__ import annotations

import time
from collections.abc import Callable, Container
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.app.model.key_index import Child, KeyIndex, natural_key
from tui.app.model.tree_items import FolderItem, Item, KeyItem, MoreItem
from tui.app.widgets.tree_labels import line_label

PAGE = 1000
"""Children shown at a time under one folder; the rest wait behind a "… N more" line."""

HOT_SECONDS = 1.0
"""How long a key that just changed stays highlighted."""

REVEAL_MATCHES = 40
"""A filter with at most this many matches (about a screenful) opens their folders."""


Node = TreeNode[Item]


class KeyTree(Tree[Item]):
    """The key tree pane, drawn from a KeyIndex.

    A folder gets its children when it is first expanded, a page at a time. `refresh_from`
    brings the open folders, the counts and the highlights up to date after the index
    changed; the cursor and the expanded folders stay where they were. A key deleted
    while under the cursor stays, struck through, until the cursor leaves it. Keys in
    `expiring` (those with a TTL) are marked.
    """

    DEFAULT_CSS = """
    KeyTree { background: $surface; scrollbar-size: 1 1; }
    KeyTree > .tree--guides { color: $foreground 25%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=False),
        Binding("space", "toggle_node", "Toggle", show=False),
        Binding("right", "open_folder", "Open folder", show=False),
        Binding("left", "close_folder", "Close folder", show=False),
    ]

    class EditRequested(Message):
        """Enter on a key: its value should open in the editor."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        index: KeyIndex,
        *,
        expiring: Container[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__("store", FolderItem(""), id=id)
        self.show_root = False
        self.guide_depth = 3
        self.index = index
        self.expiring = expiring
        """The keys that have a TTL, kept up to date by the app: a key's mark is drawn
        afresh when the key is (`refresh_from` its change, `relabel`)."""
        self.gone_as = "deleted"
        """How the key that went from under the cursor went: deleted, expired, evicted."""
        self.clock = clock
        self._folders: dict[str, Node] = {"": self.root}
        self._keys: dict[str, Node] = {}
        self._shown: dict[str, int] = {}
        self._hot: dict[str, float] = {}
        self._ghost: Node | None = None
        self._filtered = False  # see `rebuild`
        self._touched: set[str] = set()
        self._hot_until = 0.0
        self._reopen: set[str] = set()
        """Folders that were open when their line was rebuilt: they open again."""
        self._counts: dict[str, int] = {}
        """The count each folder line shows."""
        self.differs: Callable[[str], bool] | None = None
        """While the view stands in the past: whether a key's value then is not its
        value now (such keys are marked)."""

    def on_mount(self) -> None:
        self.root.expand()
        self._sync(self.root)

    def action_open(self) -> None:
        """Enter: a key asks to be edited; a folder opens or closes; "… more" shows more."""
        node, item = self.cursor_node, self.cursor_item
        if node is None:
            return
        if isinstance(item, KeyItem):
            self.post_message(self.EditRequested(item.key))
        elif isinstance(item, MoreItem):
            self.show_more(node)
        else:
            self._toggle(node)

    def action_toggle_node(self) -> None:
        """Space: open or close the folder under the cursor."""
        if self.cursor_node is not None:
            self._toggle(self.cursor_node)

    def action_open_folder(self) -> None:
        """Right: open the folder under the cursor; in an open one, go to its first line."""
        node = self.cursor_node
        if node is None or not isinstance(node.data, FolderItem):
            return
        if not node.is_expanded:
            self._expand(node)
        elif node.children:
            self._move_to(node.children[0])

    def action_close_folder(self) -> None:
        """Left: close the open folder under the cursor; elsewhere, go to the folder above."""
        node = self.cursor_node
        if node is None:
            return
        if isinstance(node.data, FolderItem) and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self._move_to(node.parent)

    def _move_to(self, node: Node) -> None:
        """Put the cursor on a line, even one added since the tree was last drawn."""
        self.last_line  # noqa: B018 (reading it lays the lines out, so `node` has its line)
        self.move_cursor(node)

    def _toggle(self, node: Node) -> None:
        if not isinstance(node.data, FolderItem):
            return
        if node.is_expanded:
            node.collapse()
        else:
            self._expand(node)

    def _expand(self, node: Node) -> None:
        """Open a folder with its lines in place at once: keys typed ahead (enter, then
        down) move over the tree as it is after the folder opened."""
        node.expand()
        self._sync(node)

    # -- what the app calls -------------------------------------------------------

    @property
    def cursor_item(self) -> Item | None:
        """What the cursor is on."""
        node = self.cursor_node
        return None if node is None else node.data

    def node_for(self, item: Item) -> Node | None:
        """The line showing a folder or key, if it is in the tree now."""
        if isinstance(item, KeyItem):
            return self._keys.get(item.key)
        if isinstance(item, FolderItem):
            return self._folders.get(item.prefix)
        return None

    def open_prefixes(self) -> set[str]:
        """The folders open now (their prefixes)."""
        return {prefix for prefix, node in self._folders.items() if prefix and node.is_expanded}

    def reopen(self, prefixes: set[str]) -> None:
        """Open exactly these folders (those still there), closing the others."""
        for prefix, node in list(self._folders.items()):
            if prefix and node.is_expanded and prefix not in prefixes:
                node.collapse()
        for prefix in sorted(prefixes, key=len):
            folder = self._folders.get(prefix)
            if folder is not None and not folder.is_expanded:
                self._expand(folder)

    def reveal(self, keys: list[str]) -> None:
        """Open the folders holding these keys and put the cursor on the first key line."""
        for key in keys:
            self._open_folders_of(key)
        first = next(
            (
                line
                for line in range(self.last_line + 1)
                if isinstance(getattr(self.get_node_at_line(line), "data", None), KeyItem)
            ),
            None,
        )
        if first is not None:
            self.cursor_line = first
            self.scroll_to_line(first)

    def select_key(self, key: str) -> bool:
        """Open the folders of `key` and put the cursor on it; False when it has no line
        (not in the index, or past the first page of a folder)."""
        self._open_folders_of(key)
        node = self._keys.get(key)
        if node is None:
            return False
        self.move_cursor(node)
        # A folder opened just now has its lines laid out at the next refresh: the
        # cursor is put on the key again then.
        self.call_after_refresh(self._cursor_to, key)
        return True

    def _cursor_to(self, key: str) -> None:
        node = self._keys.get(key)
        if node is not None and self.cursor_node is not node:
            self.move_cursor(node)

    def _open_folders_of(self, key: str) -> None:
        delimiter = self.index.delimiter
        prefix, at = "", 0
        while (found := key.find(delimiter, at)) >= 0:
            prefix = key[: found + len(delimiter)]
            at = found + len(delimiter)
            folder = self._folders.get(prefix)
            if folder is None:
                return  # past the first page of its folder
            if not folder.is_expanded:
                self._expand(folder)

    def rebuild(self, index: KeyIndex, *, filtered: bool = False) -> None:
        """Start over from a new index, keeping what is open.

        After the change feed overflowed, a key gone from under the cursor was deleted
        and stays, struck through. When the new index is `filtered`, it was not: it
        just does not match.
        """
        self.index = index
        index.changed.update(self._folders)
        self._filtered = filtered
        if filtered:
            self._ghost = None
        try:
            self.refresh_from(set())
        finally:
            self._filtered = False

    def refresh_from(self, touched: set[str]) -> None:
        """Bring the tree up to date with the index; highlight the `touched` keys."""
        cursor_row = self.cursor_line - round(self.scroll_y)
        now = self.clock()
        # Lines added now for touched keys are made highlighted from the start.
        self._touched, self._hot_until = touched, now + HOT_SECONDS
        changed = set(self.index.changed)
        self.index.changed.clear()
        for prefix in sorted(changed, key=len):
            node = self._folders.get(prefix)
            if node is not None and (node is self.root or node.is_expanded):
                self._sync(node)
        self._touched = set()
        for key in self._keys.keys() & touched:  # iterates the smaller of the two
            if self._hot.get(key) != self._hot_until:
                self._hot[key] = self._hot_until
                self._relabel(self._keys[key])
        self.cool_down()
        counts = self._counts
        for prefix, node in self._folders.items():
            folder = self.index.folder(prefix) if prefix else None
            if folder is not None and counts.get(prefix) != folder.count:
                counts[prefix] = folder.count
                self._relabel(node)
        if 0 <= cursor_row < self.size.height and self.cursor_node is not None:
            line = self.cursor_node.line if self._tree_lines else -1
            if line >= 0:
                self.scroll_to(y=max(0, line - cursor_row), animate=False, immediate=True)

    @property
    def highlighting(self) -> bool:
        """Whether some key is highlighted as just changed."""
        return bool(self._hot)

    def cool_down(self) -> None:
        """End the highlights whose time is up."""
        now = self.clock()
        for key, deadline in list(self._hot.items()):
            if deadline <= now:
                del self._hot[key]
                node = self._keys.get(key)
                if node is not None:
                    self._relabel(node)

    def show_more(self, node: Node) -> None:
        """Show the next page of the folder that `node` (a "… more" line) ends."""
        item = node.data
        parent = node.parent
        if not isinstance(item, MoreItem) or parent is None:
            return
        prefix = item.prefix
        shown = self._shown.get(prefix, PAGE)
        self._shown[prefix] = shown + PAGE
        folder = self.index.folder(prefix)
        if folder is None or prefix in self.index.changed or parent.children[-1] is not node:
            self._sync(parent)  # the folder changed since it was drawn: draw it afresh
        else:
            # Only the new page is read and added, so that page 100 costs what page 2 does.
            delimiter = self.index.delimiter
            at = len(parent.children) - 1  # before the "… more" line
            for child in folder.children(delimiter, PAGE, start=shown):
                self._add_line(parent, self._item(prefix, child), at)
                at += 1
            if folder.child_count(delimiter) > shown + PAGE:
                self._relabel(node)
            else:
                node.remove()
        # The cursor's line now holds the first of the new page: say so, as a move would.
        if self.cursor_node is not None:
            self.post_message(Tree.NodeHighlighted(self.cursor_node))

    # -- drawing --------------------------------------------------------------------

    def process_label(self, label: str | Text) -> Text:
        # Labels are made here as one-line Text (keys hold no control characters), so
        # the Tree's markup parsing and line splitting are skipped: a page of a
        # thousand lines is added in a blink.
        return label if isinstance(label, Text) else Text(label)

    def get_label_width(self, node: Node) -> int:
        label = node.label
        assert isinstance(label, Text)
        return label.cell_len + (len(self.ICON_NODE) if node.allow_expand else 0)

    # -- events ---------------------------------------------------------------------

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[Item]) -> None:
        if isinstance(event.node.data, FolderItem):
            self._sync(event.node)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Item]) -> None:
        # A deleted key kept for the cursor goes once the cursor has moved on.
        ghost = self._ghost
        if ghost is not None and ghost is not event.node:
            self._ghost = None
            item = ghost.data
            # Only while that line is still in the tree (its folder may be gone).
            if isinstance(item, KeyItem) and self._keys.get(item.key) is ghost and ghost.parent:
                self._sync(ghost.parent)

    def _on_tree_node_selected(self, event: Tree.NodeSelected[Item]) -> None:
        # A click on a "… more" line (enter is `action_open`).
        if isinstance(event.node.data, MoreItem) and event.node.parent is not None:
            self.show_more(event.node)

    # -- inside ---------------------------------------------------------------------

    def _sync(self, node: Node) -> None:
        """Make a folder's children match the index (its first pages, in order)."""
        item = node.data
        assert isinstance(item, FolderItem)
        prefix = item.prefix
        folder = self.index.folder(prefix)
        if folder is None:
            return  # the folder is gone: its parent's sync removes it
        delimiter = self.index.delimiter
        limit = self._shown.get(prefix, PAGE)
        want = [self._item(prefix, child) for child in folder.children(delimiter, limit)]
        rest = folder.child_count(delimiter) - len(want)
        cursor = self.cursor_node
        if (
            cursor is not None
            and cursor.parent is node
            and isinstance(cursor.data, KeyItem)
            and cursor.data.key not in self.index
            and not self._filtered
        ):
            # The deleted key stays in its place in the natural order of the keys.
            place = natural_key(cursor.data.name)
            at = next(
                (
                    index
                    for index, line in enumerate(want)
                    if isinstance(line, KeyItem) and natural_key(line.name) > place
                ),
                len(want),
            )
            want.insert(at, cursor.data)
            self._ghost = cursor
        if rest > 0:
            want.append(MoreItem(prefix))
        if [child.data for child in node.children] != want:
            self._reshape(node, want)
        # New lines got their labels when added; of the others, only the "… more"
        # count and a deleted key under the cursor can have changed here (folder
        # counts and highlights are refreshed in `refresh_from`).
        last = node.children[-1] if node.children else None
        if last is not None and isinstance(last.data, MoreItem):
            self._relabel(last)
        if self._ghost is not None and self._ghost.parent is node:
            self._relabel(self._ghost)

    def _item(self, prefix: str, child: Child) -> Item:
        if child.is_folder:
            return FolderItem(f"{prefix}{child.name}{self.index.delimiter}", child.name)
        return KeyItem(prefix + child.name, child.name)

    def _reshape(self, node: Node, want: list[Item]) -> None:
        wanted = set(want)
        kept_items = [child.data for child in node.children if child.data in wanted]
        kept_set = set(kept_items)
        afresh = kept_items != [item for item in want if item in kept_set]
        if afresh:
            wanted = set()  # lines out of order (never expected): build the folder afresh
        doomed = []
        for child in node.children:
            if child.data not in wanted:
                if afresh and child.is_expanded and isinstance(child.data, FolderItem):
                    self._reopen.add(child.data.prefix)  # open again once re-added
                self._forget(child)
                doomed.append(child)
        self._remove_lines(node, doomed)
        kept = list(node.children)
        at = 0
        for position, item in enumerate(want):
            if at < len(kept) and kept[at].data == item:
                at += 1
                continue
            self._add_line(node, item, position)
        self._reopen.clear()

    def _add_line(self, node: Node, item: Item, position: int) -> None:
        """Add a line for `item` under `node`, at `position` among its children."""
        if isinstance(item, KeyItem) and item.key in self._touched:
            self._hot[item.key] = self._hot_until
        label = self._label(item)
        if isinstance(item, FolderItem):
            added = self._folders[item.prefix] = node.add(label, item, before=position)
            if item.prefix in self._reopen:
                self._reopen.discard(item.prefix)
                added.expand()
        elif isinstance(item, KeyItem):
            self._keys[item.key] = node.add_leaf(label, item, before=position)
        else:
            node.add_leaf(label, item, before=position)

    def _remove_lines(self, parent: Node, doomed: list[Node]) -> None:
        """Remove `doomed`, children of `parent`, with all their lines, in one pass.

        Textual's `TreeNode.remove` finds each node in its parent's list of children
        (`list.index`) and removes a folder's lines one by one that way: quadratic, 1.4 s
        for a folder showing 12,000 lines when a filter closed it. This does what it
        does, through the same private fields, in time linear in the lines removed.
        """
        if not doomed:
            return
        if len(doomed) == 1 and not doomed[0].children:
            doomed[0].remove()
            return
        nodes = self._tree_nodes
        going = set(map(id, doomed))
        stack = list(doomed)
        while stack:
            node = stack.pop()
            stack.extend(node._children)
            node._children = []
            nodes.pop(node.id, None)
        parent._children = [child for child in parent._children if id(child) not in going]
        self._invalidate()

    def _forget(self, node: Node) -> None:
        item = node.data
        if isinstance(item, KeyItem):
            self._keys.pop(item.key, None)
            self._hot.pop(item.key, None)
        elif isinstance(item, FolderItem):
            self._folders.pop(item.prefix, None)
            self._shown.pop(item.prefix, None)
            self._counts.pop(item.prefix, None)
            for child in node.children:
                self._forget(child)

    def _relabel(self, node: Node) -> None:
        assert node.data is not None
        label = self._label(node.data)
        shown = node.label
        assert isinstance(shown, Text)
        # Text equality ignores the base style, which is what a highlight changes.
        if shown != label or shown.style != label.style:
            node.set_label(label)

    def relabel(self, keys: set[str]) -> None:
        """Draw the lines of `keys` afresh (those shown)."""
        for key in self._keys.keys() & keys:
            self._relabel(self._keys[key])

    def _label(self, item: Item) -> Text:
        prefix = item.prefix if isinstance(item, MoreItem) else ""
        if not isinstance(item, KeyItem):
            return line_label(item, self.index, hot=False, shown=self._shown.get(prefix, PAGE))
        key = item.key
        return line_label(
            item,
            self.index,
            hot=key in self._hot,
            shown=PAGE,
            differs=self.differs is not None and self.differs(key),
            expires=key in self.expiring,
            gone=self.gone_as,
        )
