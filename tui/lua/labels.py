"""Script labels: the one place that names scripts for output, lists and write sources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path


def script_labels(paths: Sequence[Path]) -> list[str]:
    """Short, unique labels for scripts run together, in the order given.

    A script is labelled by its file name (`job.lua`); different paths that share a
    file name by their paths as given (`one/job.lua`, `two/job.lua`). A path given
    more than once keeps its label the first time and is numbered after that, the
    way copies of a file are named: `x.lua`, `x.lua (2)`, `x.lua (3)`, skipping any
    label already taken. A label holds no run number: a run's writes carry the source
    `LABEL#RUN` (`x.lua (2)#1`), so the only `#` number in a source is the run's.
    """
    names = Counter(path.name for path in set(paths))  # a path given twice is no clash
    labels = [path.name if names[path.name] == 1 else str(path) for path in paths]
    taken = set(labels)  # a number never makes a label that another script has
    given: set[str] = set()
    unique = []
    for label in labels:
        if label in given:
            number = 2
            while f"{label} ({number})" in taken:
                number += 1
            label = f"{label} ({number})"
            taken.add(label)
        given.add(label)
        unique.append(label)
    return unique
