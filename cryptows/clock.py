"""The wall clock, in one place: every module that needs epoch milliseconds reads it here.

Monotonic time (``time.monotonic_ns``) stays where it is measured; this module is only for the
wall-clock stamps shown to users and written to NDJSON.
"""

from __future__ import annotations

import time


def wall_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return time.time_ns() // 1_000_000
