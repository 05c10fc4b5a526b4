"""The server side of one simulated venue's WebSocket: what the websockets library's connection
does, plus what the simulator needs of it.

- The session sees the client's ping and pong frames (which the library otherwise answers
  unseen): Binance counts them against its message rate limit.
- Several frames go out in one socket write (:meth:`SimConnection.send_texts`): a push round
  of hundreds of books is one system call, not hundreds.
- How the connection ended is recorded as a :class:`ClientClose` on the venue server.
- With the venue's ``no_pong`` fault on, the client's protocol pings go unanswered (the library
  answers them by itself otherwise): a venue whose keepalive has failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

if TYPE_CHECKING:
    from cryptows.sim.server import Session

_PONG = bytes([0x80 | Opcode.PONG.value])


@dataclass(frozen=True, slots=True)
class ClientClose:
    """How one client connection ended, as the venue saw it."""

    code: int | None
    """The close code in the client's close frame (``None``: none came, the socket dropped)."""
    reason: str
    initiated_by_client: bool
    """The client closed first (else it answered the venue's own close frame)."""


class SimConnection(ServerConnection):
    """A server connection that shows the client's control frames to its session, and sends
    several frames in one write."""

    session: Session | None = None

    async def send_texts(self, frames: list[str]) -> None:
        """Send text frames in order with one socket write (what ``send`` does for one)."""
        while self.send_in_progress is not None:  # a fragmented message is under way
            await asyncio.shield(self.send_in_progress)
        async with self.send_context():
            for frame in frames:
                self.protocol.send_text(frame.encode())

    def send_data(self) -> None:
        chunks = self.protocol.data_to_send()
        if self.session is not None and self.session.server.faults.no_pong:
            # One chunk per frame; 0x8A starts an unmasked, final pong frame.
            chunks = [chunk for chunk in chunks if chunk[:1] != _PONG]
        if len(chunks) > 1 and all(chunks):  # an empty chunk is an EOF: leave those as they are
            self.transport.write(b"".join(chunks))
            return
        for data in chunks:
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()

    def process_event(self, event: Event) -> None:
        if (
            self.session is not None
            and isinstance(event, Frame)
            and event.opcode in (Opcode.PING, Opcode.PONG)
        ):
            self.session.on_control_frame(event.opcode)
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.session is not None:
            received = self.protocol.close_rcvd
            self.session.server.client_closes.append(
                ClientClose(
                    code=received.code if received is not None else None,
                    reason=received.reason if received is not None else "",
                    initiated_by_client=bool(self.protocol.close_rcvd_then_sent),
                )
            )
