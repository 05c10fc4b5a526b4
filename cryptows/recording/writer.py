"""Write a recording: gzip NDJSON, sync-flushed so that a killed recorder loses at most ~1 s.

A plain gzip stream is unreadable until it is closed; :meth:`RecordingWriter.flush` (called at
least once a second by the ``record`` command) ends the pending deflate block with
``Z_SYNC_FLUSH`` and pushes it to the file, so everything written before it can be read back from
a file cut short at any point after it (:mod:`cryptows.recording.reader` stops cleanly at such
an end).
"""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path
from typing import BinaryIO

import msgspec

from cryptows.clock import wall_ms
from cryptows.errors import UsageError
from cryptows.models import SymbolStatus, VenueStatus
from cryptows.recording.format import Connected, Frame, Header, Status, SymbolChange, Tick


class RecordingWriter:
    """Appends records to a new recording at ``path`` (replaced if it exists).

    Raises :class:`UsageError` when the file cannot be created. Not thread-safe: every call comes
    from the event loop, in the order things happened.
    """

    def __init__(self, path: Path, header: Header) -> None:
        self.path = path
        try:
            self._raw: BinaryIO = path.open("wb")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        # mtime=0: the same records give the same bytes (the header holds the start time)
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._encode = msgspec.json.Encoder().encode
        self.frames = 0
        """Frames written so far."""
        self.started = time.monotonic()
        self._dirty = False
        self._size = 0
        self.accepting = True
        """Whether records are taken: cleared as the run stops, so that the recorder's own
        shutdown (every venue ``stopped``) is not recorded as the market's."""
        self._write(header)
        self.flush()

    @property
    def bytes_written(self) -> int:
        """Compressed bytes in the file so far (as of the last flush)."""
        return self._size if self._raw.closed else self._raw.tell()

    def connected(self, conn: str, venue: str) -> None:
        """Connection ``conn`` of ``venue`` opened (its next frames need a fresh parser)."""
        self._write(Connected(conn, venue, wall_ms(), time.monotonic_ns()))

    def frame(self, conn: str, venue: str, frame: str | bytes, mono_ns: int, recv_ms: int) -> None:
        """One raw frame with its receipt times (monotonic ns, wall ms)."""
        if isinstance(frame, str):
            record = Frame(conn, venue, recv_ms, mono_ns, text=frame)
        else:
            record = Frame(conn, venue, recv_ms, mono_ns, data=bytes(frame))
        if self.accepting:
            self._write(record)
            self.frames += 1

    def event(self, event: VenueStatus | SymbolStatus) -> None:
        """A venue state change or a symbol's problem, as the market service received it."""
        if isinstance(event, VenueStatus):
            self._write(Status(event, time.monotonic_ns()))
        else:
            self._write(SymbolChange(event, time.monotonic_ns()))

    def tick(self, now_ms: int) -> None:
        """The market's age check ran at ``now_ms`` (wall ms, the market's clock)."""
        self._write(Tick(now_ms))

    def flush(self) -> None:
        """Make everything written so far readable from the file (a sync flush)."""
        if self._dirty and not self._gz.closed:
            self._gz.flush(zlib.Z_SYNC_FLUSH)  # also flushes the file object
            self._dirty = False

    def close(self) -> None:
        """End the gzip stream and close the file (idempotent)."""
        if not self._gz.closed:
            self._gz.close()
            self._size = self._raw.tell()
            self._raw.close()

    def _write(self, record: msgspec.Struct) -> None:
        if not self.accepting:
            return
        self._gz.write(self._encode(record) + b"\n")
        self._dirty = True
