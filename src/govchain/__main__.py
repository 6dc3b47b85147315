"""Run the command-line interface with `python -m govchain`."""

from govchain.cli import main

main()
