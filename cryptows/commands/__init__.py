"""Command implementations behind the thin Typer layer in ``cryptows.cli``."""
