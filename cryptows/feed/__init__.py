"""Live connections: one reconnecting connection per venue, run together by the manager."""
