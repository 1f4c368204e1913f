"""How each line of the key tree reads: a folder with its count, a key, "… N more"."""

from __future__ import annotations

from rich.text import Text

from tui.app.model.key_index import KeyIndex
from tui.app.model.tree_items import Item, KeyItem, MoreItem, show_name
from tui.state import Op

TTL_MARK = "◷"
"""After a key that has a TTL: it expires by itself. A clock face one cell wide in
every font that has it (the stopwatch, U+23F1, is missing from common terminal fonts
and drawn two cells wide by some terminals)."""

GONE_AS = {Op.DELETE: "deleted", Op.EXPIRE: "expired", Op.EVICT: "evicted"}
"""How a key went, after a key line that stays under the cursor once its key is gone."""


def line_label(
    item: Item,
    index: KeyIndex,
    *,
    hot: bool,
    shown: int,
    differs: bool = False,
    expires: bool = False,
    gone: str = "deleted",
) -> Text:
    """The label of a tree line, from the index as it is now.

    A key that just changed (`hot`) is drawn reversed, a key that `expires` (it has a
    TTL) marked; a key no longer in the index is struck through, with how it went
    (`gone`: deleted, expired, evicted). A "… more" line counts what is left after the
    `shown` lines. While the view stands in the past, a key whose value then `differs`
    from now is marked.
    """
    if isinstance(item, KeyItem):
        name = show_name(item.name)
        if item.key not in index:
            return Text.assemble((name, "strike dim"), (f"  {gone}", "italic dim"))
        label = Text(name, style="bold reverse") if hot else Text(name)
        if expires:
            label.append(f"  {TTL_MARK}", style="dim")
        if differs:
            label.append("  ≠ now", style="italic yellow")
        return label
    folder = index.folder(item.prefix)
    if isinstance(item, MoreItem):
        rest = 0 if folder is None else folder.child_count(index.delimiter) - shown
        return Text(f"… {rest:,} more", style="italic dim")
    name = show_name(item.name)
    count = 0 if folder is None else folder.count
    return Text.assemble((name, "bold"), (f"  {count:,}", "dim"))
