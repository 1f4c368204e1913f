"""Tab completion for the console's input line: `State.` functions and key names.

Pure Python (no Textual). Keys complete one folder level at a time, like paths in a
shell. The work over all the keys runs in C where it can (a join, counts, one regex, a
set), so a million keys complete in well under a second.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tui.app.model.key_index import natural_key

MAX_CHOICES = 100
"""Choices listed for the person; a last line says how many more there are."""

# Up to this many choices, the first in natural order are shown; past it, the shortest
# ones (user_0 to user_99 of a million), which is cheaper than a natural key for each.
_EXACT_ORDER = 50_000

# From this many names on, the common prefix is found by counting in C (see `_lines`).
_FEW = 1_000

# `State.` and the start of a function name, at the end of the text before the cursor.
# `MyState.` and `t.State.` are other tables.
_STATE_CALL = re.compile(r"(?<![A-Za-z0-9_.])State\.([A-Za-z_][A-Za-z0-9_]*)?\Z")

# `State.get(` and the other functions whose one argument is a key, just before a literal.
_KEY_CALL = re.compile(r"(?<![A-Za-z0-9_.])State\.(?:get|delete|exists|ttl|persist)\(\s*\Z")

# The escapes a key may need in a literal; any other one gives up on completing.
_UNESCAPE = {"\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True)
class Completion:
    """The input line after a completion, and the choices to list when it was ambiguous."""

    text: str
    cursor: int
    choices: tuple[str, ...] = ()
    closes: bool = False
    """A key literal completed to a whole key (not a folder): it can be closed."""


def complete(
    text: str,
    cursor: int,
    *,
    functions: Sequence[str],
    keys: Callable[[str], Iterable[str]],
    delimiter: str = ":",
) -> Completion | None:
    """Complete the key name or `State.` function at `cursor`, or None when nothing fits.

    `keys(prefix)` gives each key that starts with `prefix` once, in any order.
    """
    cursor = max(0, min(cursor, len(text)))
    before = text[:cursor]
    where = _scan(before)
    if where is None:
        return None
    start, quote = where
    after = text[cursor : cursor + 1]
    if quote:
        # Only at the end of the name: completing the middle would repeat its end.
        if after and after != quote:
            return None
        found = _complete_key(text, cursor, before[start:], quote, keys, delimiter)
        if found is not None and found.closes:
            return _close(found, quote, call=_KEY_CALL.search(before, 0, start - 1) is not None)
        return found
    if after.isalnum() or after == "_":
        return None
    call = _STATE_CALL.search(before)
    if call is None:
        return None
    return _complete_function(text, cursor, call.group(1) or "", functions)


def _scan(before: str) -> tuple[int, str] | None:
    """At the end of `before`: in a literal (start, quote), code (quote ""), comment (None)."""
    quote = ""
    start = 0
    index = 0
    end = len(before)
    while index < end:
        char = before[index]
        if quote:
            if char == "\\":
                index += 1  # the escaped character cannot close the literal
            elif char == quote or char == "\n":  # a line break ends a (broken) literal
                quote = ""
        elif char in "\"'":
            quote = char
            start = index + 1
        elif char == "-" and before.startswith("--", index):
            index = before.find("\n", index)
            if index < 0:
                return None
        index += 1
    return start, quote


def _complete_function(
    text: str, cursor: int, fragment: str, functions: Sequence[str]
) -> Completion | None:
    """Complete `State.<fragment>` from the function names."""
    names = sorted({name for name in functions if name.startswith(fragment)}, key=natural_key)
    if not names:
        return None
    if len(names) == 1:
        insert = names[0][len(fragment) :]
        if not text.startswith("(", cursor):
            insert += "("
        return _insert(text, cursor, insert, ())
    insert = _common_prefix(names)[len(fragment) :]
    return _insert(text, cursor, insert, _capped([f"State.{name}" for name in names]))


def _complete_key(
    text: str,
    cursor: int,
    literal: str,
    quote: str,
    keys: Callable[[str], Iterable[str]],
    delimiter: str,
) -> Completion | None:
    """Complete the key name in the literal that ends at `cursor`."""
    prefix = _unescape(literal)
    if prefix is None:
        return None
    found = keys(prefix)
    found = found if isinstance(found, list) else list(found)
    if not found:
        return None
    head, names, common = _candidates(found, prefix, delimiter)
    insert = _escape(common, quote)
    if len(names) == 1 and not (head + names[0]).endswith(delimiter):
        # One whole key: what it is is settled.
        end = cursor + len(insert)
        return Completion(text[:cursor] + insert + text[cursor:], end, (), closes=True)
    return _insert(text, cursor, insert, _choices(head, names) if len(names) > 1 else ())


def _close(found: Completion, quote: str, *, call: bool) -> Completion | None:
    """A whole key's literal closed after it, and the call it is the argument of, when the
    line ends there: `State.get("cache:u` becomes `State.get("cache:user_7")`."""
    text, cursor = found.text, found.cursor
    rest = text[cursor:]
    if rest.startswith(quote):
        closing = ""  # closed already: the cursor goes past it
        cursor += 1
    else:
        closing = quote + (")" if call and not rest.strip() else "")
    result = Completion(text[: found.cursor] + closing + rest, cursor + len(closing), ())
    return None if result.text == text and result.cursor == found.cursor else result


def _candidates(found: list[str], prefix: str, delimiter: str) -> tuple[str, list[str], str]:
    """The candidates one level below `prefix`, and what they share after it.

    The candidates are `head + name` for each name, where `head` is "" or `prefix`.
    """
    start = _delimiter_search_start(prefix, delimiter)
    lines = _lines(found) if start == len(prefix) and "\n" not in delimiter else None
    if lines is None:  # the general way: one pass in Python
        names = list(_next_level(found, prefix, start, delimiter))
        return prefix, names, _common_prefix(names)
    common = _common_line_prefix(lines, len(found))
    folder_end = common.find(delimiter, start)
    if folder_end >= 0:  # all the keys are in one folder
        folder = common[len(prefix) : folder_end + len(delimiter)]
        return prefix, [folder], folder
    # The candidates share what the keys share, as no shared delimiter cuts it short.
    common = common[len(prefix) :]
    if lines.count(delimiter) == len(found) * prefix.count(delimiter):
        return "", found, common  # no key goes deeper: the keys are the candidates
    # Each key cut after its first delimiter past the prefix, all in C.
    if prefix:
        lines = lines.replace("\n" + prefix, "\n")
    cut = re.sub(re.escape(delimiter) + "[^\n]*", delimiter.replace("\\", "\\\\"), lines)
    return prefix, list(set(cut[1:].split("\n"))), common


def _unescape(literal: str) -> str | None:
    """The text of a literal's content, or None for an escape a key name cannot need."""
    if "\\" not in literal:
        return literal
    parts: list[str] = []
    index = 0
    while (slash := literal.find("\\", index)) >= 0:
        char = _UNESCAPE.get(literal[slash + 1 : slash + 2])
        if char is None:
            return None
        parts.append(literal[index:slash])
        parts.append(char)
        index = slash + 2
    parts.append(literal[index:])
    return "".join(parts)


def _escape(name: str, quote: str) -> str:
    """`name` written inside a literal quoted with `quote`."""
    return name.replace("\\", "\\\\").replace(quote, "\\" + quote)


def _delimiter_search_start(prefix: str, delimiter: str) -> int:
    """Where to look for the next delimiter: a delimiter may have begun in the prefix.

    With `::` as the delimiter, the key `a::b` seen from the prefix `a:` is the folder
    `a::`. Delimiters are found from the left without overlap, as str.split does.
    """
    size = len(delimiter)
    if size == 1:
        return len(prefix)
    end = 0
    while (found := prefix.find(delimiter, end)) >= 0:
        end = found + size
    for start in range(max(end, len(prefix) - size + 1), len(prefix)):
        if delimiter.startswith(prefix[start:]):
            return start
    return len(prefix)


def _next_level(found: list[str], prefix: str, start: int, delimiter: str) -> set[str]:
    """The distinct tails after `prefix`, each cut after its first delimiter from `start`."""
    size = len(prefix)
    width = len(delimiter)
    return {
        key[size:] if (at := key.find(delimiter, start)) < 0 else key[size : at + width]
        for key in found
    }


def _lines(names: list[str]) -> str | None:
    """Each name after a line break, in one string; None if a name holds a line break."""
    lines = "\n" + "\n".join(names)
    return lines if lines.count("\n") == len(names) else None


def _common_prefix(names: list[str]) -> str:
    """The longest text every name starts with."""
    lines = _lines(names) if len(names) >= _FEW else None
    if lines is not None:
        return _common_line_prefix(lines, len(names))
    first, last = min(names), max(names)
    for index, char in enumerate(first):
        if last[index] != char:
            return first[:index]
    return first


def _common_line_prefix(lines: str, count: int) -> str:
    """The longest text every one of the `count` lines starts with (see `_lines`)."""
    end = lines.find("\n", 1)
    first = lines[1:] if end < 0 else lines[1:end]
    # Binary search on the length, each step one count in C over all the lines.
    low, high = 0, len(first)
    while low < high:
        middle = (low + high + 1) // 2
        if lines.count("\n" + first[:middle]) == count:
            low = middle
        else:
            high = middle - 1
    return first[:low]


def _choices(head: str, tails: list[str]) -> tuple[str, ...]:
    """The names `head + tail` to list, in natural order, at most MAX_CHOICES of them."""
    total = len(tails)
    if total > _EXACT_ORDER:
        tails = _shortest(tails, MAX_CHOICES)
    names = [head + tail for tail in tails] if head else tails
    return _capped(heapq.nsmallest(MAX_CHOICES, names, key=natural_key), total)


def _shortest(names: list[str], count: int) -> list[str]:
    """The `count` shortest names (among names of one length, the first ones found)."""
    return heapq.nsmallest(count, names, key=len)


def _capped(names: list[str], total: int | None = None) -> tuple[str, ...]:
    """The first MAX_CHOICES names, and a last line for the rest."""
    total = len(names) if total is None else total
    if total <= MAX_CHOICES:
        return tuple(names)
    return (*names[:MAX_CHOICES], f"… {total - MAX_CHOICES:,} more")


def _insert(text: str, cursor: int, insert: str, choices: tuple[str, ...]) -> Completion | None:
    """The text with `insert` at the cursor, or None when it changes nothing."""
    if not insert and not choices:
        return None
    return Completion(text[:cursor] + insert + text[cursor:], cursor + len(insert), choices)
