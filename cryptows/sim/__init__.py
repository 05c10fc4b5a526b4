"""Embedded simulated exchanges: real WebSocket + REST servers on loopback, one module per venue."""
