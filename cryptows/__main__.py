"""``python -m cryptows`` and the ``cryptows`` console script.

The entry point lives here, not in :mod:`cryptows.cli`, so that a Ctrl-C while the CLI's
modules are still being imported ends the program quietly (exit 0) instead of with a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the ``cryptows`` command line."""
    from cryptows import interrupt

    interrupt.install()  # a Ctrl-C that lands in a finalizer while starting up is kept
    try:
        from cryptows.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # before any command installed its own handler
        sys.exit(0)
    except Exception as exc:
        if interrupt.caused_by_interrupt(exc):  # e.g. a Ctrl-C inside a class's __set_name__
            sys.exit(0)
        raise


if __name__ == "__main__":
    main()
