"""Merging a venue's book-stream and ticker-stream quotes into one view per (venue, symbol)."""

from __future__ import annotations

from cryptows.models import Channel, Quote

_BOOK, _TICKER = Channel.BOOK, Channel.TICKER


def merge_quote(previous: Quote | None, new: Quote) -> Quote:
    """``new`` laid over ``previous`` for the same venue and symbol.

    - Best bid/ask (with their sizes) move as one unit, taken from the quote that supplies
      them: a book-stream quote always does (a side it lacks is absent, not unchanged: a
      one-sided book must not keep a stale side); a ticker-stream quote does only while no
      book-stream quote has been seen (Binance's 1 s ticker must not overwrite the real-time
      book). So the merged bid/ask always come from one frame, which was checked not crossed.
    - ``last``, ``volume_24h``, ``change_24h_pct`` and ``exchange_ts_ms``: the newest value
      sent; ``None`` keeps the previous one.
    - The receipt times are those of the frame that supplied the current bid/ask, so the age
      of a quote is the age of its prices (a ticker without bid/ask does not refresh it).
    """
    if previous is None:
        return new
    book_seen = previous.channel is Channel.BOOK
    is_book = new.channel is Channel.BOOK
    supplies_book = is_book or (not book_seen and (new.bid is not None or new.ask is not None))
    prices = new if supplies_book else previous
    return Quote(
        venue=new.venue,
        symbol=new.symbol,
        channel=Channel.BOOK if book_seen or is_book else Channel.TICKER,
        bid=prices.bid,
        bid_size=prices.bid_size,
        ask=prices.ask,
        ask_size=prices.ask_size,
        last=new.last if new.last is not None else previous.last,
        volume_24h=new.volume_24h if new.volume_24h is not None else previous.volume_24h,
        change_24h_pct=(
            new.change_24h_pct if new.change_24h_pct is not None else previous.change_24h_pct
        ),
        exchange_ts_ms=(
            new.exchange_ts_ms if new.exchange_ts_ms is not None else previous.exchange_ts_ms
        ),
        recv_mono_ns=prices.recv_mono_ns,
        recv_wall_ms=prices.recv_wall_ms,
    )


class QuoteSlot:
    """One (venue, symbol)'s latest merged quote, kept in place: ``merge`` applies exactly
    :func:`merge_quote`'s rules to the slot's fields instead of building a new ``Quote`` per
    frame; :meth:`to_quote` builds the immutable value when one is asked for."""

    __slots__ = (
        "venue",
        "symbol",
        "channel",
        "bid",
        "bid_size",
        "ask",
        "ask_size",
        "last",
        "volume_24h",
        "change_24h_pct",
        "exchange_ts_ms",
        "recv_mono_ns",
        "recv_wall_ms",
    )

    def __init__(self, first: Quote) -> None:
        """The slot as ``merge_quote(None, first)``: the first quote as it is."""
        self.venue = first.venue
        self.symbol = first.symbol
        self.channel = first.channel
        self.bid = first.bid
        self.bid_size = first.bid_size
        self.ask = first.ask
        self.ask_size = first.ask_size
        self.last = first.last
        self.volume_24h = first.volume_24h
        self.change_24h_pct = first.change_24h_pct
        self.exchange_ts_ms = first.exchange_ts_ms
        self.recv_mono_ns = first.recv_mono_ns
        self.recv_wall_ms = first.recv_wall_ms

    def merge(self, new: Quote) -> None:
        """Lay ``new`` over the slot, as ``merge_quote(slot, new)`` would (``new`` is of the
        slot's venue and symbol)."""
        if new.channel is _BOOK:
            self.channel = _BOOK
            supplies_book = True
        else:
            book_seen = self.channel is _BOOK
            supplies_book = not book_seen and (new.bid is not None or new.ask is not None)
            if not book_seen:
                self.channel = _TICKER
        if supplies_book:
            self.bid = new.bid
            self.bid_size = new.bid_size
            self.ask = new.ask
            self.ask_size = new.ask_size
            self.recv_mono_ns = new.recv_mono_ns
            self.recv_wall_ms = new.recv_wall_ms
        if new.last is not None:
            self.last = new.last
        if new.volume_24h is not None:
            self.volume_24h = new.volume_24h
        if new.change_24h_pct is not None:
            self.change_24h_pct = new.change_24h_pct
        if new.exchange_ts_ms is not None:
            self.exchange_ts_ms = new.exchange_ts_ms

    def to_quote(self) -> Quote:
        """The slot as an immutable ``Quote``."""
        return Quote(
            venue=self.venue,
            symbol=self.symbol,
            channel=self.channel,
            bid=self.bid,
            bid_size=self.bid_size,
            ask=self.ask,
            ask_size=self.ask_size,
            last=self.last,
            volume_24h=self.volume_24h,
            change_24h_pct=self.change_24h_pct,
            exchange_ts_ms=self.exchange_ts_ms,
            recv_mono_ns=self.recv_mono_ns,
            recv_wall_ms=self.recv_wall_ms,
        )
