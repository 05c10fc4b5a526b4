"""Read a recording: the header first (a bad file is a one-line error), then its records.

The gzip stream is inflated chunk by chunk with :func:`zlib.decompressobj`, so a file cut short
(a recorder killed between two flushes) simply ends at the last complete line: no error, at most
the last second lost (:attr:`RecordingReader.truncated` says so). A line that is not a valid
record is skipped and counted (:attr:`RecordingReader.corrupt`).
"""

from __future__ import annotations

import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import msgspec

from cryptows.errors import UsageError
from cryptows.recording.format import FORMAT_VERSION, READS, Header, Record

CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"


class RecordingReader:
    """A recording opened for one pass: :attr:`header` now, :meth:`records` once.

    Raises:
        UsageError: the file is missing or unreadable, not gzip, empty (no header), not a
            cryptows recording, or of a format version this cryptows does not read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.corrupt = 0
        """Lines skipped because they were not valid records."""
        self.truncated = False
        """The file ended inside the gzip stream (a recorder killed before closing it)."""
        self.records_read = 0
        try:
            with path.open("rb") as f:
                magic = f.read(2)
        except FileNotFoundError:
            raise UsageError(f"recording {path} not found; make one with: cryptows record "
                             f"{path.name} --demo --duration 10") from None  # fmt: skip
        except OSError as exc:
            raise UsageError(f"cannot read recording {path}: {exc.strerror or exc}") from exc
        if not magic:
            raise UsageError(f"recording {path} is empty (0 bytes)")
        if magic != GZIP_MAGIC:
            raise UsageError(f"{path} is not a cryptows recording (not gzip)")
        self._lines = self._read_lines()
        self.header = self._read_header(next(self._lines, None))
        self._decoder = msgspec.json.Decoder(Record)

    def records(self) -> Iterator[Record]:
        """Every record after the header, in file order; corrupt lines skipped and counted."""
        decode = self._decoder.decode
        for line in self._lines:
            try:
                record = decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.corrupt += 1
                continue
            self.records_read += 1
            yield record

    def close(self) -> None:
        """Release the file (also done once :meth:`records` is exhausted)."""
        self._lines.close()

    def _read_header(self, line: bytes | None) -> Header:
        path = self.path
        if line is None:
            raise UsageError(f"recording {path} is empty (no header: cut off before its first "
                             "flush?)")  # fmt: skip
        try:
            raw: Any = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raw = None
        if not isinstance(raw, dict) or raw.get("t") != "header":
            raise UsageError(f"{path} is not a cryptows recording (no header line)")
        if raw.get("format") not in READS:
            raise UsageError(
                f"{path} has recording format version {raw.get('format')!r}; this cryptows "
                f"reads versions up to {FORMAT_VERSION} (replay it with the cryptows that wrote it)"
            )
        try:
            return msgspec.convert(raw, Header)
        except msgspec.ValidationError as exc:
            raise UsageError(f"{path}: bad recording header: {exc}") from exc

    def _read_lines(self) -> Generator[bytes, None, None]:
        """The file's lines; stops quietly at a truncated or damaged end."""
        inflate = zlib.decompressobj(wbits=31)
        pending = b""
        started = False
        fed = False  # the current gzip member has had data, and has not ended
        with self.path.open("rb") as f:
            while chunk := f.read(CHUNK):
                while chunk:
                    try:
                        data = inflate.decompress(chunk)
                    except zlib.error as exc:
                        if not started:
                            raise UsageError(f"{self.path} is not a cryptows recording (bad "
                                             "gzip data)") from exc  # fmt: skip
                        self.truncated = True  # damaged: what came before is still good
                        return
                    started = fed = True
                    chunk = b""
                    if inflate.eof:  # another gzip member may follow (concatenated files)
                        chunk = inflate.unused_data
                        inflate = zlib.decompressobj(wbits=31)
                        fed = False
                    lines = (pending + data).split(b"\n")
                    pending = lines.pop()
                    yield from (line for line in lines if line.strip())
        if fed or pending.strip():
            self.truncated = True  # the end of the stream is missing: its last line is dropped
