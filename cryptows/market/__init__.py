"""Market logic on normalised quotes: pure and synchronous (no I/O, no clock reads)."""
