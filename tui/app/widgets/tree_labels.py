"""How each line of the key tree reads: a folder with its count, a key, "… N more"."""

from __future__ import annotations

from rich.text import Text

from tui.app.model.key_index import KeyIndex
from tui.app.model.tree_items import Item, KeyItem, MoreItem, show_name


def line_label(
    item: Item, index: KeyIndex, *, hot: bool, shown: int, differs: bool = False
) -> Text:
    """The label of a tree line, from the index as it is now.

    A key that just changed (`hot`) is drawn reversed, a key no longer in the index
    struck through; a "… more" line counts what is left after the `shown` lines. While
    the view stands in the past, a key whose value then `differs` from now is marked.
    """
    if isinstance(item, KeyItem):
        name = show_name(item.name)
        if item.key not in index:
            return Text.assemble((name, "strike dim"), ("  deleted", "italic dim"))
        label = Text(name, style="bold reverse") if hot else Text(name)
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
