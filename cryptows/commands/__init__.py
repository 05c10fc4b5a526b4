"""The commands: their Typer definitions (``cli_*.py``, shared options in ``options.py``),
imported at start-up, and their implementations, imported only when the command runs."""
