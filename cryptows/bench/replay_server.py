"""A fast loopback WebSocket server replaying pre-generated frames, in a process of its own.

The simulators (:mod:`cryptows.sim`) render every frame live and cannot send more than a few
thousand a second; this server sends frames rendered beforehand (:mod:`cryptows.bench.stream`)
as fast as the kernel takes them (well over a million a second on loopback) or at a paced rate,
so that what is measured is the client. It runs in its own process (a fresh interpreter), so it
does not share the client's core, and speaks just enough of RFC 6455 with blocking sockets and
the standard library alone:

- an HTTP request that is not a WebSocket upgrade (the client's REST symbol list) gets a 404,
  so the client subscribes every symbol unvalidated;
- the upgrade is answered 101, with ``permessage-deflate`` (``server_no_context_takeover``)
  when the client offers it and the plan says ``deflate``: each frame is then sent compressed on
  its own, as a venue compressing every message would;
- it waits for the client's first frame (its subscribe), then sends the plan's frames: the
  stream starts with the venue's subscription ack(s) in its format (:func:`~cryptows.bench.
  stream.generate` puts them first, with the request ids a fresh adapter uses);
- afterwards it answers pings and the closing handshake, and reports what it sent (frame
  count, bytes, and when each batch went out on the system-wide monotonic clock, which the
  client's ``time.monotonic_ns`` shares on Linux).

Each accepted WebSocket connection plays the plan set last (:meth:`ReplayServer.plan`) from its
first frame, so one server serves any number of runs, one at a time.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing.connection
import select
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CHUNK = 1 << 20
"""Bytes per write when sending flat out."""
TICK_S = 0.0002
"""When paced, how often frames that are due go out (each time as one write)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What the next connection is sent."""

    total: int
    """Frames to send (the server's frames cycled)."""
    rate: float | None = None
    """Frames per second (``None``: as fast as the socket takes them)."""
    deflate: bool = False
    """Accept ``permessage-deflate`` when offered (frames then go compressed)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """What one connection was sent."""

    frames: int
    bytes: int
    deflate: bool
    """``permessage-deflate`` was negotiated."""
    start_ns: int
    end_ns: int
    """Monotonic ns of the first write and after the last."""
    batches: list[tuple[int, int]] = field(default_factory=list)
    """Paced: (index of the batch's first frame, monotonic ns just before its write)."""

    @property
    def frames_per_s(self) -> float:
        """How fast the frames went out (bounded by how fast the client took them)."""
        return self.frames * 1e9 / max(1, self.end_ns - self.start_ns)


def ws_frame(payload: bytes, *, text: bool = True, rsv1: bool = False) -> bytes:
    """One unmasked (server-to-client) frame carrying ``payload``."""
    first = (0x81 if text else 0x82) | (0x40 if rsv1 else 0)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def deflated(payload: bytes) -> bytes:
    """``payload`` as a permessage-deflate message without context takeover (RFC 7692 7.2.1)."""
    compressor = zlib.compressobj(wbits=-9)  # 512-byte window: fits any window the client asks
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]  # without the trailing 00 00 ff ff


class ReplayServer:
    """The server process; a context manager (``with ReplayServer(frames) as server``).

    Args:
        frames: The payloads to send, in order (cycled up to a plan's ``total``).
    """

    def __init__(self, frames: Sequence[bytes]) -> None:
        self.frames = tuple(frames)
        self.port = 0
        self._pipe: multiprocessing.connection.Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ReplayServer:
        # A fresh interpreter (not multiprocessing's spawn, which would run the caller's
        # __main__ again), its control channel a socket pair: the frames go through it.
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-c", f"{_CHILD}({theirs.fileno()})"], pass_fds=[theirs.fileno()]
        )
        theirs.close()
        self._pipe = multiprocessing.connection.Connection(ours.detach())
        self._pipe.send(self.frames)
        if not self._pipe.poll(30):
            raise RuntimeError("the replay server did not start")
        self.port = self._pipe.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pipe is not None:
            try:
                self._pipe.send(("stop",))
            except OSError:
                pass
            self._pipe.close()
        if self._process is not None:
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def plan(self, plan: Plan) -> None:
        """What the next WebSocket connection is sent."""
        assert self._pipe is not None
        self._pipe.send(("plan", plan))

    def sent(self, timeout: float = 30.0) -> Sent:
        """What the last connection was sent (waits until it was all sent)."""
        assert self._pipe is not None
        if not self._pipe.poll(timeout):
            raise TimeoutError("the replay server reported nothing")
        result = self._pipe.recv()
        assert isinstance(result, Sent)
        return result


# -- the server process ---------------------------------------------------------------------------


_CHILD = "from cryptows.bench.replay_server import serve; serve"


def serve(fd: int) -> None:
    """The server process' main: its control channel is the socket ``fd``."""
    pipe = multiprocessing.connection.Connection(fd)
    frames: tuple[bytes, ...] = pipe.recv()
    plain = [ws_frame(f) for f in frames]
    compressed: list[bytes] | None = None
    listener = socket.create_server(("127.0.0.1", 0))
    pipe.send(listener.getsockname()[1])
    plan = Plan(total=len(frames))
    while True:
        ready, _, _ = select.select([listener.fileno(), pipe.fileno()], [], [])
        if pipe.fileno() in ready:
            try:
                message = pipe.recv()
            except EOFError:
                return
            if message[0] == "stop":
                return
            plan = message[1]
            continue
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            deflate = _handshake(sock, plan.deflate)
            if deflate is None:
                continue
            if deflate and compressed is None:
                compressed = [ws_frame(deflated(f), rsv1=True) for f in frames]
            wire = compressed if deflate and compressed is not None else plain
            rest = _first_frame(sock)
            sent = _play(sock, wire, plan, deflate)
            pipe.send(sent)
            _until_closed(sock, rest)
        except OSError:
            pass
        finally:
            sock.close()


def _read_request(sock: socket.socket) -> tuple[str, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed during the request")
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers


def _handshake(sock: socket.socket, deflate: bool) -> bool | None:
    """Answer the HTTP request: ``None`` for a plain request (404), else whether
    permessage-deflate was negotiated."""
    _, headers = _read_request(sock)
    key = headers.get("sec-websocket-key")
    if headers.get("upgrade", "").lower() != "websocket" or key is None:
        sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return None
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    offer = headers.get("sec-websocket-extensions", "")
    negotiated = deflate and "permessage-deflate" in offer
    extension = ""
    if negotiated:
        extension = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"
        for param in offer.split(",")[0].split(";"):
            name, _, value = param.strip().partition("=")
            if name == "server_max_window_bits" and value:
                extension += f"; server_max_window_bits={value}"
        extension += "\r\n"
    sock.sendall(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n{extension}\r\n".encode()
    )
    return negotiated


def _client_frame(data: bytes) -> tuple[int, bytes, bytes] | None:
    """The first whole (masked) client frame in ``data``: (opcode, payload, what follows)."""
    if len(data) < 2:
        return None
    opcode, n = data[0] & 0x0F, data[1] & 0x7F
    at = 2
    if n == 126:
        if len(data) < 4:
            return None
        (n,) = struct.unpack_from("!H", data, 2)
        at = 4
    elif n == 127:
        if len(data) < 10:
            return None
        (n,) = struct.unpack_from("!Q", data, 2)
        at = 10
    if len(data) < at + 4 + n:
        return None
    mask = data[at : at + 4]
    body = data[at + 4 : at + 4 + n]
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
    return opcode, payload, data[at + 4 + n :]


def _first_frame(sock: socket.socket) -> bytes:
    """Wait for the client's first frame (its subscribe); returns the bytes after it."""
    data = b""
    while (frame := _client_frame(data)) is None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before subscribing")
        data += chunk
    return frame[2]


def _play(sock: socket.socket, wire: list[bytes], plan: Plan, deflate: bool) -> Sent:
    n = len(wire)
    total = plan.total
    sent_bytes = 0
    batches: list[tuple[int, int]] = []
    start = time.monotonic_ns()
    if plan.rate is None:
        whole, part = divmod(total, n)
        blob = b"".join(wire) * whole + b"".join(wire[:part])
        sent_bytes = len(blob)
        view = memoryview(blob)
        for at in range(0, len(blob), _CHUNK):
            sock.sendall(view[at : at + _CHUNK])
    else:
        period_ns = 1e9 / plan.rate
        done = 0
        while done < total:
            now = time.monotonic_ns()
            due = min(total, int((now - start) / period_ns) + 1)
            if due > done:
                chunk = b"".join(wire[i % n] for i in range(done, due))
                batches.append((done, time.monotonic_ns()))
                sock.sendall(chunk)
                sent_bytes += len(chunk)
                done = due
            time.sleep(TICK_S)
    return Sent(total, sent_bytes, deflate, start, time.monotonic_ns(), batches)


def _until_closed(sock: socket.socket, data: bytes) -> None:
    """Answer pings and the closing handshake until the client goes (30 s at most)."""
    sock.settimeout(30)
    while True:
        while (frame := _client_frame(data)) is not None:
            opcode, payload, data = frame
            if opcode == 0x9:  # ping: pong
                sock.sendall(struct.pack("!BB", 0x8A, len(payload)) + payload)
            elif opcode == 0x8:  # close: echo its code
                sock.sendall(struct.pack("!BB", 0x88, len(payload[:2])) + payload[:2])
                return
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
