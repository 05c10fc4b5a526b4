"""``cryptows config init|show|path``: write, show and locate the configuration file.

Each body imports the configuration only when it runs (see :mod:`cryptows.commands.options`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cryptows.commands.options import ConfigOption, JsonObjectOption, LogFileOption, VerboseOption

config_app = typer.Typer(
    no_args_is_help=True,
    help="Write, show and locate the configuration file.",
    rich_markup_mode="rich",
)


@config_app.command("init")
def config_init(
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Write the commented example configuration (every key, its default and why)."""
    from cryptows import config as cfg

    path = cfg.write_example_config(cfg.locate_config(config).path, force=force)
    typer.echo(f"wrote {path}; check it with `cryptows config show`", err=True)


@config_app.command("show")
def config_show(
    config: ConfigOption = None,
    as_json: JsonObjectOption = False,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Show the effective settings and where each came from (secrets redacted)."""
    import json

    from cryptows.commands.common import load_settings

    settings = load_settings(config)
    values = settings.effective()
    if as_json:
        rows = {
            key: {"value": value, "source": settings.source(key)} for key, value in values.items()
        }
        file = str(settings.config_file) if settings.config_file else None
        typer.echo(json.dumps({"config_file": file, "settings": rows}, indent=2))
        return
    texts = {key: f"{key} = {json.dumps(value)}" for key, value in values.items()}
    width = max(map(len, texts.values()))
    read = settings.config_file or "none (built-in defaults; `cryptows config path` shows where)"
    typer.echo(f"# config file: {read}")
    for key, text in texts.items():
        typer.echo(f"{text:<{width}}  # {settings.source(key)}")


@config_app.command("path")
def config_path(
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    log_file: LogFileOption = None,
) -> None:
    """Print the config file path that would be used (a note on stderr says if it exists)."""
    from cryptows import config as cfg

    location = cfg.locate_config(config)
    typer.echo(str(location.path))
    state = "exists" if location.exists else "does not exist yet (`cryptows config init` writes it)"
    typer.echo(f"from {location.origin}; {state}", err=True)
