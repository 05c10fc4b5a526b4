"""Merging a venue's book-stream and ticker-stream quotes into one view per (venue, symbol)."""

from __future__ import annotations

from cryptows.models import Channel, Quote


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
