"""The benchmark's reference workload: a seeded mixed stream of frames in each venue's wire format.

10 symbols x 4 venues, six message kinds per venue, compact JSON byte for byte as the venues send
it (key sets and key order from ``tests/fixtures/<venue>/`` and the simulators in
:mod:`cryptows.sim`). Prices come from the simulators' own seeded market
(:class:`~cryptows.sim.market.MarketEngine` on every venue's
:class:`~cryptows.sim.market.VenueProfile`): a correlated walk, venue spreads and sizes, and
now and then a dislocation large enough to open an arbitrage opportunity (one is forced early
on, so even a short stream has one).

The simulators render frames only inside a live session (a server, a socket, per-connection
state), so the frames are rendered here, from the same facts. That is why this module is over
400 lines: four venues' renderers for six kinds each, kept together with the traffic model they
serve. (Record/replay, the next issue, may let the simulators render frames without a session;
then these renderers should go.)

Traffic model (:data:`VENUE_SHARES`, :data:`KINDS`, :data:`SYMBOL_WEIGHTS`): frames arrive at
:data:`FRAMES_PER_S` in all, shared between the venues, and within a venue between its kinds;
quotes dominate, as on a real connection. Each venue's stream starts with its subscription
ack(s), as a connection does. The counts per kind are exact (largest remainder, at least one of
each kind), and their order is a seeded shuffle; the same seed and length give the same bytes.

Per venue, the kinds and their share of its frames (``outcome``: what ``adapter.parse`` gives):

========  ===================  ======  ==========================================================
venue     kind                 share   outcome / note
========  ===================  ======  ==========================================================
binance   bookTicker           80 %    quote (book); ``<sym>@bookTicker`` on ``/stream``
binance   24hrTicker           10 %    quote (ticker); ``<sym>@ticker``, once a second per symbol
binance   24hrMiniTicker        3 %    quote (ticker); ``<sym>@miniTicker`` (from a recording)
binance   depthUpdate           4.5 %  ignored: ``<sym>@depth@100ms``, not subscribed to
binance   kline                 2.4 %  ignored: ``<sym>@kline_1m``
binance   ack                   0.1 %  ack: ``{"result":null,"id":N}``
bybit     orderbook.1          75 %    quote (book); level-1 snapshots, every 10 ms on change
bybit     tickers              17 %    quote (ticker); spot snapshots (no bid/ask)
bybit     publicTrade           6 %    ignored (``data`` is an array)
bybit     kline                 1.5 %  ignored (``kline.1.<SYM>``)
bybit     pong                  0.4 %  heartbeat: the answer to our ``{"op":"ping"}``
bybit     ack                   0.1 %  ack: ``{"success":true,"ret_msg":"subscribe",...}``
okx       tickers              50 %    quote (ticker, with bid/ask)
okx       bbo-tbt              30 %    quote (book); tick-by-tick best bid/offer
okx       books5               10 %    quote (book); five-level snapshots
okx       candle1m              9 %    ignored (its rows are arrays)
okx       pong                  0.8 %  heartbeat: the bare text frame ``pong``
okx       ack                   0.2 %  ack: one per subscribed arg
coinbase  ticker               55 %    quote (ticker with best bid/ask)
coinbase  heartbeat            32 %    heartbeat: one per product per second
coinbase  match                12 %    ignored (``matches`` channel; an unknown type to us)
coinbase  last_match            0.6 %  ignored
coinbase  subscriptions         0.2 %  ack: the connection's whole subscription state
coinbase  error                 0.2 %  subscription error (``... is not a valid product``)
========  ===================  ======  ==========================================================

"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from cryptows.sim.market import MarketEngine, TopOfBook, decimals
from cryptows.symbols import Symbol, parse_symbol
from cryptows.venues import ADAPTERS

SYMBOLS: tuple[str, ...] = (
    "BTCUSDT",
    "ETHUSDT",
    "SOLUSDT",
    "XRPUSDT",
    "DOGEUSDT",
    "ADAUSDT",
    "LINKUSDT",
    "LTCUSDT",
    "AVAXUSDT",
    "ETHBTC",
)
"""The ten symbols every simulated venue lists (:data:`cryptows.sim.market.EVERYWHERE`)."""

SYMBOL_WEIGHTS: Mapping[str, float] = {
    "BTCUSDT": 24,
    "ETHUSDT": 18,
    "SOLUSDT": 12,
    "XRPUSDT": 10,
    "DOGEUSDT": 8,
    "ADAUSDT": 6,
    "LINKUSDT": 6,
    "LTCUSDT": 5,
    "AVAXUSDT": 5,
    "ETHBTC": 6,
}
"""How a per-symbol frame picks its symbol: busy books send more."""

VENUE_SHARES: Mapping[str, float] = {"binance": 35, "bybit": 30, "okx": 20, "coinbase": 15}
"""Each venue's share of the frames (percent)."""

FRAMES_PER_S = 400
"""Frames per second, all venues together: receipt times are spread at this rate."""

DEFAULT_FRAMES = 50_000
DEFAULT_SEED = 7

QUOTE = "quote"
IGNORED = "ignored"
ACK = "ack"
HEARTBEAT = "heartbeat"
ERROR = "error"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of message of one venue, and its share of that venue's frames."""

    venue: str
    name: str
    share: float
    """Percent of the venue's frames."""
    outcome: str
    """What ``adapter.parse`` gives for it: one quote, nothing (ignored), an ack, a heartbeat
    or a subscription error."""

    @property
    def label(self) -> str:
        """``binance/bookTicker``."""
        return f"{self.venue}/{self.name}"


def _kinds(venue: str, *rows: tuple[str, float, str]) -> tuple[Kind, ...]:
    return tuple(Kind(venue, name, share, outcome) for name, share, outcome in rows)


KINDS: Mapping[str, tuple[Kind, ...]] = {
    "binance": _kinds(
        "binance",
        ("bookTicker", 80, QUOTE),
        ("24hrTicker", 10, QUOTE),
        ("24hrMiniTicker", 3, QUOTE),
        ("depthUpdate", 4.5, IGNORED),
        ("kline", 2.4, IGNORED),
        ("ack", 0.1, ACK),
    ),
    "bybit": _kinds(
        "bybit",
        ("orderbook.1", 75, QUOTE),
        ("tickers", 17, QUOTE),
        ("publicTrade", 6, IGNORED),
        ("kline", 1.5, IGNORED),
        ("pong", 0.4, HEARTBEAT),
        ("ack", 0.1, ACK),
    ),
    "okx": _kinds(
        "okx",
        ("tickers", 50, QUOTE),
        ("bbo-tbt", 30, QUOTE),
        ("books5", 10, QUOTE),
        ("candle1m", 9, IGNORED),
        ("pong", 0.8, HEARTBEAT),
        ("ack", 0.2, ACK),
    ),
    "coinbase": _kinds(
        "coinbase",
        ("ticker", 55, QUOTE),
        ("heartbeat", 32, HEARTBEAT),
        ("match", 12, IGNORED),
        ("last_match", 0.6, IGNORED),
        ("subscriptions", 0.2, ACK),
        ("error", 0.2, ERROR),
    ),
}
"""Every venue's six kinds (module docstring), in display order."""

_ACK_KIND = {"binance": "ack", "bybit": "ack", "okx": "ack", "coinbase": "subscriptions"}


@dataclass(frozen=True, slots=True)
class StreamFrame:
    """One frame of the stream: which venue sent it, its kind, its bytes, when it was received."""

    venue: str
    kind: str
    frame: bytes
    recv_ms: int
    """Wall-clock ms of receipt (the stream's own clock, from :data:`START_MS`)."""

    @property
    def label(self) -> str:
        return f"{self.venue}/{self.kind}"


@dataclass(frozen=True, slots=True)
class Stream:
    """A generated stream (see :func:`generate`)."""

    frames: tuple[StreamFrame, ...]
    symbols: tuple[str, ...]
    venues: tuple[str, ...]
    seed: int
    span_ms: int
    """Receipt time of the last frame minus that of the first."""

    def counts(self) -> dict[str, int]:
        """Frames per kind label, in :data:`KINDS` order (kinds without frames included)."""
        counts = {kind.label: 0 for venue in self.venues for kind in KINDS[venue]}
        for f in self.frames:
            counts[f.label] += 1
        return counts


START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: where the stream's clock starts."""


def kind_counts(frames: int, venues: Sequence[str] = tuple(KINDS)) -> dict[str, int]:
    """How many frames of each kind (label) a stream of ``frames`` frames holds: the shares
    applied exactly (largest remainder), at least one of each kind."""
    wanted = {
        kind.label: VENUE_SHARES[venue] * kind.share for venue in venues for kind in KINDS[venue]
    }
    if frames < len(wanted):
        raise ValueError(f"a stream needs at least {len(wanted)} frames, one of each kind")
    total = sum(wanted.values())
    exact = {label: frames * w / total for label, w in wanted.items()}
    counts = {label: max(1, int(x)) for label, x in exact.items()}
    by_remainder = sorted(exact, key=lambda label: (-(exact[label] % 1), label))
    for label in itertools.islice(by_remainder, max(0, frames - sum(counts.values()))):
        counts[label] += 1
    while sum(counts.values()) > frames:  # the ones given to rare kinds, taken from the largest
        counts[max(counts, key=counts.__getitem__)] -= 1
    return counts


def generate(
    frames: int = DEFAULT_FRAMES,
    *,
    seed: int = DEFAULT_SEED,
    symbols: Sequence[str] = SYMBOLS,
    venues: Sequence[str] = tuple(KINDS),
) -> Stream:
    """The mixed stream: ``frames`` frames over ``symbols`` on ``venues`` (module docstring)."""
    from cryptows.sim.cluster import venue_profiles  # the simulators' market facts

    rng = random.Random(f"cryptows.bench/{seed}")
    parsed = tuple(parse_symbol(s) for s in symbols)
    counts = kind_counts(frames, venues)
    # Per venue: its ack(s) first, as a connection sees them, then the rest in a seeded order.
    plan: dict[str, list[str]] = {}
    for venue in venues:
        ack = _ACK_KIND[venue]
        first = [ack] * min(counts[f"{venue}/{ack}"], _acks_at_start(venue, len(parsed)))
        rest = [k.name for k in KINDS[venue] for _ in range(counts[k.label])]
        for name in first:
            rest.remove(name)
        rng.shuffle(rest)
        plan[venue] = first + rest
    # The venues interleaved at random (each keeps its own order of kinds).
    order = [venue for venue, kinds in plan.items() for _ in kinds]
    rng.shuffle(order)
    position = dict.fromkeys(plan, 0)
    weights = [SYMBOL_WEIGHTS.get(s.canonical, 5.0) for s in parsed]
    picks = rng.choices(parsed, weights=weights, k=frames)
    engine = MarketEngine(seed, start_ms=START_MS, venues=venue_profiles())
    renderers = {venue: _RENDERERS[venue](rng, parsed) for venue in venues}
    step_ms = 1000 / FRAMES_PER_S
    forced_at = START_MS + int(frames * step_ms * 0.2)
    forced = False
    out: list[StreamFrame] = []
    for i, venue in enumerate(order):
        now = START_MS + int(i * step_ms)
        if not forced and now >= forced_at:
            # Every stream has at least one clear cross-venue opportunity: OKX's BTCUSDT 1 %
            # up for 3 s (the market's own dislocations come about every 6 s of a long stream).
            engine.dislocate("okx", "BTCUSDT", 1.0, 3_000, now_ms=now)
            forced = True
        kind = plan[venue][position[venue]]
        position[venue] += 1
        book = engine.book(venue, picks[i].canonical, now)
        body = renderers[venue].render(kind, book)
        out.append(StreamFrame(venue, kind, body, now))
    span = out[-1].recv_ms - out[0].recv_ms if out else 0
    return Stream(tuple(out), tuple(s.canonical for s in parsed), tuple(venues), seed, span)


def _acks_at_start(venue: str, symbols: int) -> int:
    """How many acks subscribing ``symbols`` symbols earns: one per request, one per OKX arg."""
    cls = ADAPTERS[venue]
    if venue == "okx":
        return symbols
    per_request = cls.limits.max_topics_per_request // cls.topics_per_symbol
    return -(-symbols // per_request)


def request_ids(venue: str, symbols: int) -> list[str]:
    """The request ids a fresh adapter issues when subscribing ``symbols`` symbols (``1``,
    ``2`` ...; none for a venue that issues none): what the acks echo."""
    cls = ADAPTERS[venue]
    if not cls.issues_request_ids:
        return []
    per_request = cls.limits.max_topics_per_request // cls.topics_per_symbol
    return [str(i + 1) for i in range(-(-symbols // per_request))]


# -- rendering ---------------------------------------------------------------------------------

_encode = msgspec.json.encode  # compact, keys in insertion order


def _fixed(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def _trimmed(value: float) -> str:
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text or "0"


def _iso(epoch_ms: int, micros: int) -> str:
    """RFC 3339 with microseconds and ``Z``, as Coinbase writes ``time``."""
    seconds, ms = divmod(epoch_ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms * 1000 + micros:06d}Z"


class _Renderer:
    """One venue's frames for a kind and a top of book."""

    def __init__(self, rng: random.Random, symbols: Sequence[Symbol]) -> None:
        self.rng = rng
        self.symbols = tuple(symbols)
        self.counter = 1_000_000
        self.handlers: dict[str, Callable[[TopOfBook], Any]] = {}

    def render(self, kind: str, book: TopOfBook) -> bytes:
        body = self.handlers[kind](book)
        return body if isinstance(body, bytes) else _encode(body)

    def next_id(self) -> int:
        self.counter += self.rng.randint(1, 40)
        return self.counter

    def trade_size(self, book: TopOfBook) -> float:
        return min(book.bid_size, book.ask_size) * self.rng.uniform(0.01, 0.5)

    def taker_side(self) -> bool:
        """Whether the trade's taker bought."""
        return self.rng.random() < 0.5


class _Binance(_Renderer):
    def __init__(self, rng: random.Random, symbols: Sequence[Symbol]) -> None:
        super().__init__(rng, symbols)
        self.counter = 7_488_717_758
        self.ids = request_ids("binance", len(symbols))
        self.handlers = {
            "bookTicker": self.book_ticker,
            "24hrTicker": self.ticker,
            "24hrMiniTicker": self.mini_ticker,
            "depthUpdate": self.depth_update,
            "kline": self.kline,
            "ack": self.ack,
        }

    @staticmethod
    def _stream(book: TopOfBook, name: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"stream": f"{book.symbol.canonical.lower()}@{name}", "data": data}

    @staticmethod
    def _places(book: TopOfBook) -> int:
        return max(8, decimals(book.tick))

    def book_ticker(self, book: TopOfBook) -> dict[str, Any]:
        places = self._places(book)
        data = {
            "u": self.next_id(),
            "s": book.symbol.canonical,
            "b": _fixed(book.bid, places),
            "B": _fixed(book.bid_size, 8),
            "a": _fixed(book.ask, places),
            "A": _fixed(book.ask_size, 8),
        }
        return self._stream(book, "bookTicker", data)

    def ticker(self, book: TopOfBook) -> dict[str, Any]:
        # Key order of a real frame (tests/fixtures/binance/ticker_24hr__combined.json).
        places = self._places(book)
        last, opened = book.last, book.open_24h
        data = {
            "e": "24hrTicker",
            "E": book.ts_ms,
            "s": book.symbol.canonical,
            "p": _fixed(last - opened, places),
            "P": f"{(last / opened - 1) * 100:.3f}",
            "w": _fixed((last + opened) / 2, places),
            "x": _fixed(opened, places),
            "c": _fixed(last, places),
            "Q": _fixed(self.trade_size(book), 8),
            "b": _fixed(book.bid, places),
            "B": _fixed(book.bid_size, 8),
            "a": _fixed(book.ask, places),
            "A": _fixed(book.ask_size, 8),
            "o": _fixed(opened, places),
            "h": _fixed(book.high_24h, places),
            "l": _fixed(book.low_24h, places),
            "v": _fixed(book.volume_24h, 8),
            "q": _fixed(book.quote_volume_24h, 8),
            "O": book.ts_ms - 86_400_000,
            "C": book.ts_ms,
            "F": book.seq,
            "L": book.seq + 600_000,
            "n": 600_001,
        }
        return self._stream(book, "ticker", data)

    def mini_ticker(self, book: TopOfBook) -> dict[str, Any]:
        places = self._places(book)
        data = {
            "e": "24hrMiniTicker",
            "E": book.ts_ms,
            "s": book.symbol.canonical,
            "c": _fixed(book.last, places),
            "o": _fixed(book.open_24h, places),
            "h": _fixed(book.high_24h, places),
            "l": _fixed(book.low_24h, places),
            "v": _fixed(book.volume_24h, 8),
            "q": _fixed(book.quote_volume_24h, 8),
        }
        return self._stream(book, "miniTicker", data)

    def depth_update(self, book: TopOfBook) -> dict[str, Any]:
        places = self._places(book)
        first = self.next_id()
        changes = self.rng.randint(1, 6)
        bids = [
            [_fixed(book.bid - i * book.tick, places), _fixed(book.bid_size * (i + 1), 8)]
            for i in range(changes)
        ]
        asks = [
            [_fixed(book.ask + i * book.tick, places), _fixed(book.ask_size * (i + 1), 8)]
            for i in range(self.rng.randint(1, 6))
        ]
        data = {
            "e": "depthUpdate",
            "E": book.ts_ms,
            "s": book.symbol.canonical,
            "U": first,
            "u": first + changes,
            "b": bids,
            "a": asks,
        }
        return self._stream(book, "depth@100ms", data)

    def kline(self, book: TopOfBook) -> dict[str, Any]:
        places = self._places(book)
        start = book.ts_ms - book.ts_ms % 60_000
        data = {
            "e": "kline",
            "E": book.ts_ms,
            "s": book.symbol.canonical,
            "k": {
                "t": start,
                "T": start + 59_999,
                "s": book.symbol.canonical,
                "i": "1m",
                "f": book.seq,
                "L": book.seq + 40,
                "o": _fixed(book.open_24h, places),
                "c": _fixed(book.last, places),
                "h": _fixed(max(book.last, book.open_24h), places),
                "l": _fixed(min(book.last, book.open_24h), places),
                "v": _fixed(book.volume_24h / 1440, 8),
                "n": 41,
                "x": False,
                "q": _fixed(book.quote_volume_24h / 1440, 8),
                "V": _fixed(book.volume_24h / 2880, 8),
                "Q": _fixed(book.quote_volume_24h / 2880, 8),
                "B": "0",
            },
        }
        return self._stream(book, "kline_1m", data)

    def ack(self, book: TopOfBook) -> dict[str, Any]:
        return {"result": None, "id": int(self.rng.choice(self.ids))}


class _Bybit(_Renderer):
    def __init__(self, rng: random.Random, symbols: Sequence[Symbol]) -> None:
        super().__init__(rng, symbols)
        self.conn_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.ids = request_ids("bybit", len(symbols))
        self.pings = 0
        self.handlers = {
            "orderbook.1": self.orderbook,
            "tickers": self.ticker,
            "publicTrade": self.trade,
            "kline": self.kline,
            "pong": self.pong,
            "ack": self.ack,
        }

    def orderbook(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        return {
            "topic": f"orderbook.1.{book.symbol.canonical}",
            "ts": book.ts_ms,
            "type": "snapshot",
            "data": {
                "s": book.symbol.canonical,
                "b": [[_fixed(book.bid, places), _fixed(book.bid_size, 6)]],
                "a": [[_fixed(book.ask, places), _fixed(book.ask_size, 6)]],
                "u": book.seq,
                "seq": 75_829_523_783 + book.seq,
            },
            "cts": book.ts_ms - 3,
        }

    def ticker(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        last, prev = book.last, book.open_24h
        usd = book.symbol.quote in ("USDT", "USDC")
        return {
            "topic": f"tickers.{book.symbol.canonical}",
            "ts": book.ts_ms,
            "type": "snapshot",
            "cs": 2_588_407_389 + book.seq,
            "data": {
                "symbol": book.symbol.canonical,
                "lastPrice": _fixed(last, places),
                "highPrice24h": _fixed(book.high_24h, places),
                "lowPrice24h": _fixed(book.low_24h, places),
                "prevPrice24h": _fixed(prev, places),
                "volume24h": _fixed(book.volume_24h, 6),
                "turnover24h": _fixed(book.quote_volume_24h, 8),
                "price24hPcnt": f"{last / prev - 1:.4f}",
                "usdIndexPrice": _fixed(last, 7) if usd else "",
            },
        }

    def trade(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        buy = self.taker_side()
        trade_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        return {
            "topic": f"publicTrade.{book.symbol.canonical}",
            "type": "snapshot",
            "ts": book.ts_ms,
            "data": [
                {
                    "T": book.ts_ms - 2,
                    "s": book.symbol.canonical,
                    "S": "Buy" if buy else "Sell",
                    "v": _fixed(self.trade_size(book), 6),
                    "p": _fixed(book.ask if buy else book.bid, places),
                    "L": "PlusTick" if buy else "MinusTick",
                    "i": str(trade_id),
                    "BT": False,
                }
            ],
        }

    def kline(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        start = book.ts_ms - book.ts_ms % 60_000
        return {
            "topic": f"kline.1.{book.symbol.canonical}",
            "data": [
                {
                    "start": start,
                    "end": start + 59_999,
                    "interval": "1",
                    "open": _fixed(book.open_24h, places),
                    "close": _fixed(book.last, places),
                    "high": _fixed(max(book.last, book.open_24h), places),
                    "low": _fixed(min(book.last, book.open_24h), places),
                    "volume": _fixed(book.volume_24h / 1440, 6),
                    "turnover": _fixed(book.quote_volume_24h / 1440, 8),
                    "confirm": False,
                    "timestamp": book.ts_ms,
                }
            ],
            "ts": book.ts_ms,
            "type": "snapshot",
        }

    def pong(self, book: TopOfBook) -> dict[str, Any]:
        self.pings += 1
        return {
            "success": True,
            "ret_msg": "pong",
            "conn_id": self.conn_id,
            "req_id": f"ping-{self.pings}",
            "op": "ping",
        }

    def ack(self, book: TopOfBook) -> dict[str, Any]:
        return {
            "success": True,
            "ret_msg": "subscribe",
            "conn_id": self.conn_id,
            "req_id": self.rng.choice(self.ids),
            "op": "subscribe",
        }


class _Okx(_Renderer):
    def __init__(self, rng: random.Random, symbols: Sequence[Symbol]) -> None:
        super().__init__(rng, symbols)
        self.counter = 130_639_474
        self.conn_id = f"{rng.getrandbits(32):08x}"
        self.ids = request_ids("okx", len(symbols))
        self.acked = 0
        self.handlers = {
            "tickers": self.ticker,
            "bbo-tbt": self.bbo,
            "books5": self.books5,
            "candle1m": self.candle,
            "pong": self.pong,
            "ack": self.ack,
        }

    @staticmethod
    def _inst(book: TopOfBook) -> str:
        return f"{book.symbol.base}-{book.symbol.quote}"

    def ticker(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        inst = self._inst(book)
        item = {
            "instType": "SPOT",
            "instId": inst,
            "last": _fixed(book.last, places),
            "lastSz": _trimmed(self.trade_size(book)),
            "askPx": _fixed(book.ask, places),
            "askSz": _trimmed(book.ask_size),
            "bidPx": _fixed(book.bid, places),
            "bidSz": _trimmed(book.bid_size),
            "open24h": _fixed(book.open_24h, places),
            "high24h": _fixed(book.high_24h, places),
            "low24h": _fixed(book.low_24h, places),
            "volCcy24h": _trimmed(book.quote_volume_24h),
            "vol24h": _trimmed(book.volume_24h),
            "sodUtc0": _fixed(book.last * 0.995, places),
            "sodUtc8": _fixed(book.last * 1.002, places),
            "ts": str(book.ts_ms),
        }
        return {"arg": {"channel": "tickers", "instId": inst}, "data": [item]}

    def _levels(self, book: TopOfBook, depth: int) -> tuple[list[list[str]], list[list[str]]]:
        places = decimals(book.tick)
        asks, bids = [], []
        for level in range(depth):
            ask_size = book.ask_size if level == 0 else book.ask_size * self.rng.uniform(0.5, 3)
            bid_size = book.bid_size if level == 0 else book.bid_size * self.rng.uniform(0.5, 3)
            ask = book.ask + level * book.tick
            bid = book.bid - level * book.tick
            asks.append(
                [_fixed(ask, places), _trimmed(ask_size), "0", str(self.rng.randint(1, 20))]
            )
            bids.append(
                [_fixed(bid, places), _trimmed(bid_size), "0", str(self.rng.randint(1, 20))]
            )
        return asks, bids

    def bbo(self, book: TopOfBook) -> dict[str, Any]:
        asks, bids = self._levels(book, 1)
        item = {"asks": asks, "bids": bids, "ts": str(book.ts_ms), "seqId": self.next_id()}
        return {"arg": {"channel": "bbo-tbt", "instId": self._inst(book)}, "data": [item]}

    def books5(self, book: TopOfBook) -> dict[str, Any]:
        asks, bids = self._levels(book, 5)
        inst = self._inst(book)
        item = {
            "asks": asks,
            "bids": bids,
            "instId": inst,
            "ts": str(book.ts_ms),
            "seqId": self.next_id(),
        }
        return {"arg": {"channel": "books5", "instId": inst}, "data": [item]}

    def candle(self, book: TopOfBook) -> dict[str, Any]:
        places = decimals(book.tick)
        start = book.ts_ms - book.ts_ms % 60_000
        volume = book.volume_24h / 1440
        row = [
            str(start),
            _fixed(book.open_24h, places),
            _fixed(max(book.last, book.open_24h), places),
            _fixed(min(book.last, book.open_24h), places),
            _fixed(book.last, places),
            _trimmed(volume),
            _trimmed(volume * book.last),
            _trimmed(volume * book.last),
            "0",
        ]
        return {"arg": {"channel": "candle1m", "instId": self._inst(book)}, "data": [row]}

    def pong(self, book: TopOfBook) -> bytes:
        return b"pong"  # a bare text frame, not JSON

    def ack(self, book: TopOfBook) -> dict[str, Any]:
        # One ack per subscribed arg: the first ones in subscription order, then any symbol.
        symbol = self.symbols[self.acked] if self.acked < len(self.symbols) else book.symbol
        self.acked += 1
        return {
            "id": self.rng.choice(self.ids),
            "event": "subscribe",
            "arg": {"channel": "tickers", "instId": f"{symbol.base}-{symbol.quote}"},
            "connId": self.conn_id,
        }


class _Coinbase(_Renderer):
    def __init__(self, rng: random.Random, symbols: Sequence[Symbol]) -> None:
        super().__init__(rng, symbols)
        self.counter = 37_475_248_783
        self.trade_ids: dict[str, int] = {}
        self.handlers = {
            "ticker": self.ticker,
            "heartbeat": self.heartbeat,
            "match": self.match,
            "last_match": self.last_match,
            "subscriptions": self.subscriptions,
            "error": self.error,
        }

    @staticmethod
    def _product(book: TopOfBook) -> str:
        return f"{book.symbol.base}-{book.symbol.quote}"

    def _trade_id(self, book: TopOfBook) -> int:
        product = self._product(book)
        trade_id = self.trade_ids.get(product, 370_843_401) + self.rng.randint(0, 3)
        self.trade_ids[product] = trade_id
        return trade_id

    def _time(self, book: TopOfBook) -> str:
        return _iso(book.ts_ms, self.rng.randrange(1000))

    def ticker(self, book: TopOfBook) -> dict[str, Any]:
        # Key order of a real frame (tests/fixtures/coinbase/ticker.json).
        places = decimals(book.tick)
        mid = (book.bid + book.ask) / 2
        return {
            "type": "ticker",
            "sequence": self.next_id(),
            "product_id": self._product(book),
            "price": _fixed(book.last, places),
            "open_24h": _fixed(book.open_24h, places),
            "volume_24h": _fixed(book.volume_24h, 8),
            "low_24h": _fixed(book.low_24h, places),
            "high_24h": _fixed(book.high_24h, places),
            "volume_30d": _fixed(book.volume_24h * 30, 8),
            "best_bid": _fixed(book.bid, places),
            "best_bid_size": _fixed(book.bid_size, 8),
            "best_ask": _fixed(book.ask, places),
            "best_ask_size": _fixed(book.ask_size, 8),
            "side": "buy" if book.last >= mid else "sell",
            "time": self._time(book),
            "trade_id": self._trade_id(book),
            "last_size": _fixed(self.trade_size(book), 8),
        }

    def heartbeat(self, book: TopOfBook) -> dict[str, Any]:
        return {
            "type": "heartbeat",
            "sequence": self.next_id(),
            "last_trade_id": self.trade_ids.get(self._product(book), 370_843_401),
            "product_id": self._product(book),
            "time": self._time(book),
        }

    def match(self, book: TopOfBook, kind: str = "match") -> dict[str, Any]:
        places = decimals(book.tick)
        buy = self.taker_side()
        return {
            "type": kind,
            "trade_id": self._trade_id(book),
            "sequence": self.next_id(),
            "maker_order_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "taker_order_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "time": self._time(book),
            "product_id": self._product(book),
            "size": _fixed(self.trade_size(book), 8),
            "price": _fixed(book.ask if buy else book.bid, places),
            "side": "sell" if buy else "buy",  # the maker's side
        }

    def last_match(self, book: TopOfBook) -> dict[str, Any]:
        return self.match(book, "last_match")

    def subscriptions(self, book: TopOfBook) -> dict[str, Any]:
        products = [f"{s.base}-{s.quote}" for s in self.symbols]
        return {
            "type": "subscriptions",
            "channels": [
                {"name": "ticker", "product_ids": products},
                {"name": "heartbeat", "product_ids": products},
            ],
        }

    def error(self, book: TopOfBook) -> dict[str, Any]:
        return {
            "type": "error",
            "message": "Failed to subscribe",
            "reason": f"{book.symbol.base}-USDX is not a valid product",
        }


_RENDERERS: Mapping[str, Callable[[random.Random, Sequence[Symbol]], _Renderer]] = {
    "binance": _Binance,
    "bybit": _Bybit,
    "okx": _Okx,
    "coinbase": _Coinbase,
}
