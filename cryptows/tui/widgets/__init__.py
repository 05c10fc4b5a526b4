"""The dashboard's widgets: header bar, watchlist, per-venue table, arbitrage and health panels."""
