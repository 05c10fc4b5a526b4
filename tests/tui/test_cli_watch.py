"""`cryptows watch` as a user runs it: the real console script on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryptows.venues import VENUE_NAMES
from tests.integration.conftest import bound

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

_ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07"
)


class Terminal:
    """``cryptows ARGS`` on a COLSxROWS pseudo-terminal; collects everything it writes."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (80, 24)):
        import fcntl
        import termios

        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cryptows", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env | {"TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = b""

    def read_until(self, pattern: bytes, seconds: float) -> bool:
        """Read until the plain text contains ``pattern`` or the bound expires."""
        deadline = time.monotonic() + bound(seconds)
        while time.monotonic() < deadline:
            if pattern in self.text:
                return True
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return pattern in self.text
                if not chunk:
                    return pattern in self.text
                self.output += chunk
        return pattern in self.text

    @property
    def text(self) -> bytes:
        return _ANSI.sub(b"", self.output)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, seconds: float) -> int:
        deadline = time.monotonic() + bound(seconds)
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read_until(b"\x00never", 0.1)
        self.read_until(b"\x00never", 0.2)
        try:
            return self.proc.wait(timeout=1)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ) | {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "CRYPTOWS_LOG_DIR": str(tmp_path / "log"),
    }


def test_watch_demo_shows_the_dashboard_and_ctrl_c_quits_cleanly(
    env: dict[str, str], tmp_path: Path
) -> None:
    term = Terminal(["watch", "--demo", "BTCUSDT", "SOLUSDT"], env)
    assert term.read_until(b"DEMO", 20), term.text[-2000:]
    assert term.read_until(b"SOLUSDT", 10), term.text[-2000:]
    everyone = len(VENUE_NAMES)
    assert term.read_until(f"{everyone}/{everyone} live".encode(), 20), term.text[-2000:]
    term.send(b"\x03")  # Ctrl-C
    assert term.wait(15) == 0, term.text[-2000:]
    assert b"Traceback" not in term.text
    saved = (tmp_path / "state" / "cryptows" / "watch.json").read_text()
    assert '"BTCUSDT"' in saved
    assert '"SOLUSDT"' in saved


def test_watch_symbol_listed_nowhere_exits_2_with_one_line(env: dict[str, str]) -> None:
    term = Terminal(["watch", "--demo", "BTCUSDT", "NOPEUSDT"], env)
    code = term.wait(30)
    assert code == 2, term.text[-2000:]
    errors = [ln for ln in term.text.splitlines() if b"cryptows: error:" in ln]
    assert len(errors) == 1, term.text[-2000:]
    assert b"NOPEUSDT is not listed on any of" in errors[0]
    assert b"Traceback" not in term.text
