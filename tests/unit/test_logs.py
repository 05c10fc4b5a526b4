"""``cryptows.logs``: levels, destinations, and the filter that keeps secrets out of the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptows import logs

KEY = "sk-live-0123456789abcdef"
"""A key as HOLYSHEEP_API_KEY or the config would hold it."""


@pytest.fixture(autouse=True)
def _no_leftovers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(logs, "_secrets", set())
    yield
    logs.stop()


def test_redact_replaces_secrets_and_bearer_tokens() -> None:
    text = f"key={KEY} headers={{'Authorization': 'Bearer abc.DEF-123_~+/=='}} again {KEY}"
    shown = logs.redact(text, [KEY])
    assert KEY not in shown
    assert "abc.DEF" not in shown
    assert shown == (
        "key=******** headers={'Authorization': 'Bearer ********'} again ********"
    )  # the quote and brace after the token survive


def test_the_longer_secret_is_redacted_whole() -> None:
    assert logs.redact("x sk-abc-extra y", ["sk-abc", "sk-abc-extra"]) == "x ******** y"


def test_the_environment_key_is_always_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLYSHEEP_API_KEY", f" {KEY}\n")
    assert KEY in logs.known_secrets()
    assert logs.redact(f"sent {KEY}") == "sent ********"


def test_a_key_in_a_debug_record_its_arguments_and_its_traceback_never_reaches_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.log"
    logs.add_secret(KEY)
    logs.start(2, log_file=path)
    log = logging.getLogger("cryptows.test")
    log.debug("the key is %s", KEY)
    log.debug(f"inline {KEY} and Authorization: Bearer {KEY}")
    try:
        raise RuntimeError(f"the gateway echoed {KEY}")
    except RuntimeError:
        log.exception("request failed")
    log.debug("with a stack", stack_info=True, extra={"key": KEY})
    logs.stop()
    text = path.read_text(encoding="utf-8")
    assert KEY not in text
    assert "the key is ********" in text
    assert "inline ******** and Authorization: Bearer ********" in text
    assert "RuntimeError: the gateway echoed ********" in text  # the traceback is kept, redacted


def test_library_records_pass_the_same_filter(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    logs.add_secret(KEY)
    logs.start(3, log_file=path)
    logging.getLogger("websockets.client").debug("> Authorization: Bearer %s", KEY)
    logs.stop()
    assert path.read_text(encoding="utf-8").endswith(
        "websockets.client: > Authorization: Bearer ********\n"
    )


@pytest.mark.parametrize(
    ("verbosity", "ours", "libraries"),
    [
        (0, {"WARNING"}, {"WARNING"}),
        (1, {"WARNING", "INFO"}, {"WARNING"}),
        (2, {"WARNING", "INFO", "DEBUG"}, {"WARNING", "INFO"}),
        (3, {"WARNING", "INFO", "DEBUG"}, {"WARNING", "INFO", "DEBUG"}),
    ],
)
def test_verbosity_levels(
    tmp_path: Path, verbosity: int, ours: set[str], libraries: set[str]
) -> None:
    path = tmp_path / "run.log"
    logs.start(verbosity, log_file=path)
    for name in ("cryptows.feed", "aiohttp"):
        for level in ("DEBUG", "INFO", "WARNING"):
            logging.getLogger(name).log(getattr(logging, level), "%s %s", name, level)
    logs.stop()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert {ln.split()[-1] for ln in lines if "cryptows.feed:" in ln} == ours
    assert {ln.split()[-1] for ln in lines if "aiohttp:" in ln} == libraries


def _log_a_failure(logger: str, message: str) -> None:
    try:
        raise ValueError(f"bad {KEY}")
    except ValueError:
        logging.getLogger(logger).exception(message)


def test_stderr_gets_one_line_per_record_below_debug(capsys: pytest.CaptureFixture[str]) -> None:
    logs.add_secret(KEY)
    logs.start(0)
    _log_a_failure("cryptows.feed.connection", "binance: unexpected error")
    logging.getLogger("cryptows.x").info("not shown at verbosity 0")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "cryptows: error: cryptows.feed.connection: binance: unexpected error: "
        "ValueError: bad ******** (traceback with -vv)\n"
    )


def test_stderr_shows_the_redacted_traceback_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    logs.add_secret(KEY)
    logs.start(2)
    _log_a_failure("cryptows.x", "failed")
    err = capsys.readouterr().err
    assert err.startswith("cryptows: error: cryptows.x: failed\nTraceback")
    assert "ValueError: bad ********" in err
    assert KEY not in err


def test_nowhere_drops_records_without_the_last_resort_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.start(2, to_stderr=False)
    logging.getLogger("cryptows.x").error("dropped")
    assert capsys.readouterr() == ("", "")


def test_a_lazy_file_appears_with_its_folder_on_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "watch.log"
    logs.start(0, log_file=path, lazy=True)
    logging.getLogger("cryptows.x").info("below the level")
    assert not path.parent.exists()
    logging.getLogger("cryptows.x").warning("now")
    assert path.read_text(encoding="utf-8").endswith("cryptows.x: now\n")


def test_an_unwritable_file_fails_at_start_unless_lazy(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):  # noqa: PT011 - which OSError depends on the platform
        logs.start(0, log_file=blocker / "run.log")
    logs.start(0, log_file=blocker / "run.log", lazy=True)
    logging.getLogger("cryptows.x").error("lost, quietly")  # no "--- Logging error ---"


def test_malformed_arguments_do_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    root = logging.getLogger()
    runners = root.handlers[:]  # pytest's own capture would format the record first, and fail
    for handler in runners:
        root.removeHandler(handler)
    try:
        logs.start(0, log_file=path)
        logging.getLogger("cryptows.x").warning("two %s %s", "only one")
        logs.stop()
    finally:
        for handler in runners:
            root.addHandler(handler)
    assert "two %s %s (unformattable arguments left out)" in path.read_text(encoding="utf-8")


def test_stop_restores_levels_and_removes_handlers(tmp_path: Path) -> None:
    root, app = logging.getLogger(), logging.getLogger("cryptows")
    before = (root.level, app.level, list(root.handlers))
    logs.start(2, log_file=tmp_path / "a.log")
    logs.start(1, log_file=tmp_path / "b.log")  # a second start replaces the first
    assert len(root.handlers) == len(before[2]) + 1
    logs.stop()
    assert (root.level, app.level, list(root.handlers)) == before
