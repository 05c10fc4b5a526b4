"""Record raw venue frames with their receipt times, and replay them through the same parsers.

:mod:`.format` defines the file (gzip NDJSON, a header line then one record a line),
:mod:`.writer` writes it (sync-flushed at least once a second, so a killed recorder loses at most
about a second), :mod:`.reader` reads it (a truncated tail is the end; a corrupt line is skipped
and counted), and :mod:`.replay` drives the market service from it on the recording's clock.
"""
