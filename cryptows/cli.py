"""The ``cryptows`` command line: the app assembled from the command definitions
(``cryptows/commands/cli_*.py``, their shared options in ``cryptows/commands/options.py``), the
root options (``--version``, ``-v``, ``--log-file``) and the error contract.

stdout carries data only; diagnostics and log records go to stderr (or the log file). Any
:class:`~cryptows.errors.CryptowsError` becomes one line ``cryptows: error: <message>`` on
stderr and its exit code (2 usage/config, 1 runtime); Typer's own usage errors exit 2 as well.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from cryptows import __version__
from cryptows.commands import cli_doctor, cli_gateway, cli_market
from cryptows.commands.cli_config import config_app
from cryptows.commands.options import RootLogFileOption, RootVerboseOption, start_logging
from cryptows.errors import CryptowsError, UsageError


def _no_type_noise() -> None:
    """Typer prints each parameter's Python type beside it (``<bool>`` on every flag,
    ``<list[str]>`` on the symbols): noise for users. Show a metavar only where one says
    something (PATH, PCT, MS ...)."""
    option_type = TyperOption.display_type_rich

    def option_display(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.count:  # -v, -vv: no value to show
            return None
        return option_type(self, ctx) if self.metavar is None else self.metavar

    TyperOption.display_type_rich = option_display  # type: ignore[method-assign]
    TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


_no_type_noise()


def report_error(err: CryptowsError) -> NoReturn:
    """Print ``err`` as one stderr line and exit with its code: the CLI's single error handler."""
    message = " ".join(str(err).split())  # one line, whatever the message holds
    print(f"cryptows: error: {message}", file=sys.stderr, flush=True)
    sys.exit(err.exit_code)


class _CryptowsGroup(TyperGroup):
    """Root command group: every error of a run ends as one stderr line and an exit code.

    Domain errors go through :func:`report_error`; Click/Typer usage errors (bad option value,
    unknown command) become ``cryptows: error: <what>; see `<command> --help``` with exit 2, in
    place of Typer's multi-line box. Handling this here, rather than around ``app()``, means
    ``typer.testing.CliRunner`` and the console script behave the same.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Ctrl-C before the command's own handler was installed (or after it was removed):
            # asyncio.run has already cancelled and unwound the run; stopping is not an error.
            return 0

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except CryptowsError as err:
            report_error(err)
        except typer.TyperException as err:  # Typer's (vendored Click) usage errors
            ctx = getattr(err, "ctx", None)
            if type(err).__name__ == "NoArgsIsHelpError":  # bare command: show its help
                typer.echo(err.format_message(), err=True)
                sys.exit(2)
            hint = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
            failure = UsageError(f"{err.format_message().rstrip('.')}{hint}")
            failure.exit_code = err.exit_code
            report_error(failure)
        except typer.Abort:  # Ctrl-C before a command installed its own handler: a clean stop
            sys.exit(0)
        if result == 130:  # Typer's code for Ctrl-C while parsing arguments: a clean stop too
            result = 0
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name="cryptows",
    cls=_CryptowsGroup,
    help="Live crypto quotes from several exchanges, cross-venue arbitrage and LLM analysis.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a key held in a local must never reach a traceback
    rich_markup_mode="rich",
    add_completion=False,
)
app.add_typer(config_app, name="config")
app.command("watch")(cli_market.watch)
app.command("quotes")(cli_market.quotes)
app.command("arb")(cli_market.arb)
app.command("analyze")(cli_gateway.analyze)
app.command("models")(cli_gateway.models)
app.command("sim")(cli_market.sim)
app.command("record")(cli_market.record)
app.command("doctor")(cli_doctor.doctor)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cryptows {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: RootVerboseOption = 0,
    log_file: RootLogFileOption = None,
) -> None:
    """Live crypto quotes from several exchanges, cross-venue arbitrage and LLM analysis."""
    start_logging(ctx)  # each command's own -v/--log-file (re)start it with their values too


def main() -> None:
    """Console-script entry point (``cryptows``); ``python -m cryptows`` runs it too.

    Usage errors exit 2; a ``CryptowsError`` becomes one ``cryptows: error:`` line and its exit
    code (handled in the root group, see :class:`_CryptowsGroup`).
    """
    try:
        app(prog_name="cryptows")
    except CryptowsError as err:  # only reachable if raised outside a command run
        report_error(err)
