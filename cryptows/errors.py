"""The cryptows exception tree: every error a user can see, each with a one-line message.

::

    CryptowsError                 base; ``exit_code`` says how the CLI exits (DESIGN §2)
    ├── UsageError                exit 2: the user asked for something we cannot do
    │   ├── SymbolError           a malformed symbol (what was wrong, what a valid one looks like)
    │   ├── VenueNameError        a venue name we do not support
    │   └── ConfigError           unreadable/invalid config: names the file, the line or the key
    ├── GatewayAuthError          exit 2: the LLM gateway rejected the API key (HTTP 401/403)
    └── RuntimeFailure            exit 1: the request was fine, the world was not
        └── GatewayError          the LLM gateway failed: names the HTTP status and its message

Library errors (``msgspec.DecodeError``, ``tomllib.TOMLDecodeError``, ...) are caught at one seam
per boundary and re-raised as one of these ``from exc``. The CLI turns any ``CryptowsError`` into
``cryptows: error: <message>`` on stderr and its exit code; nothing else reaches the user.
"""

from __future__ import annotations


class CryptowsError(Exception):
    """Base of every error cryptows reports to a user."""

    exit_code: int = 1
    """Process exit code the CLI uses for this error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """One line, fit for a user: what went wrong and, where possible, what to do."""

    def __str__(self) -> str:
        return self.message


class UsageError(CryptowsError):
    """The user asked for something invalid (bad flag, symbol, venue or config): exit 2."""

    exit_code = 2


class SymbolError(UsageError, ValueError):
    """A symbol that cannot be read as BASE+QUOTE."""


class VenueNameError(UsageError, KeyError):
    """A venue name cryptows does not support."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class ConfigError(UsageError):
    """The configuration cannot be read or is invalid; the message names the file and the key."""


class RuntimeFailure(CryptowsError):
    """The request was valid but could not be carried out (e.g. every venue unreachable): exit 1."""

    exit_code = 1


class GatewayAuthError(CryptowsError):
    """The LLM gateway rejected the API key (HTTP 401 or 403): a configuration problem, exit 2."""

    exit_code = 2

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status the gateway answered (401 or 403)."""


class GatewayError(RuntimeFailure):
    """The LLM gateway could not answer: an HTTP error, a timeout, no connection, a bad body."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status of the last answer; ``None`` when none came (timeout, no connection)."""
        self.attempts = attempts
        """How many requests were made before giving up."""
