"""Merging a venue's book-stream and ticker-stream quotes into one view per (venue, symbol)."""

from __future__ import annotations

from cryptows.models import Channel, Quote


def merge_quote(previous: Quote | None, new: Quote) -> Quote:
    """``new`` laid over ``previous`` for the same venue and symbol.

    Fields ``new`` does not carry (``None``) keep their previous value. Best bid/ask from the
    real-time book stream win: a ticker-stream bid/ask (Binance's 1 s ticker, say) fills them
    only while no book-stream quote has been seen. The result's channel is ``BOOK`` once any
    book quote has been merged.
    """
    if previous is None:
        return new
    book_seen = previous.channel is Channel.BOOK
    take_book = new.channel is Channel.BOOK or not book_seen

    def pick(old: float | None, fresh: float | None, allowed: bool = True) -> float | None:
        return fresh if allowed and fresh is not None else old

    return Quote(
        venue=new.venue,
        symbol=new.symbol,
        channel=Channel.BOOK if book_seen or new.channel is Channel.BOOK else Channel.TICKER,
        bid=pick(previous.bid, new.bid, take_book),
        bid_size=pick(previous.bid_size, new.bid_size, take_book),
        ask=pick(previous.ask, new.ask, take_book),
        ask_size=pick(previous.ask_size, new.ask_size, take_book),
        last=pick(previous.last, new.last),
        volume_24h=pick(previous.volume_24h, new.volume_24h),
        exchange_ts_ms=new.exchange_ts_ms
        if new.exchange_ts_ms is not None
        else previous.exchange_ts_ms,
        recv_mono_ns=new.recv_mono_ns,
        recv_wall_ms=new.recv_wall_ms,
    )
