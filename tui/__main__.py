"""`python -m tui` runs the stateui command line."""

from tui.cli import main

main()
