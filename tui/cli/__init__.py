"""The `stateui` command line."""

from tui.cli.commands import cli, main

__all__ = ["cli", "main"]
