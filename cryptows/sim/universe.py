"""What the simulated venues list: a realistic, deterministic universe of several hundred books.

Two layers:

- The **core**: the sixteen books the simulator has always had (:data:`CORE_INSTRUMENTS`, listed
  as in :data:`CORE_LISTINGS`). The market engine walks them step by step on its seeded random
  stream, exactly as before, so every seeded market of the core stays what it was.
- The **wide market**: a few hundred real base assets (:data:`BASES`, roughly by market cap,
  with a plausible USD price each), listed per venue the way the real venues list them: Binance,
  Bybit and OKX mostly ``XXXUSDT`` plus some ``XXXUSDC`` and BTC-quoted books, Coinbase mostly
  ``XXX-USD`` plus a few ``-USDC``, ``-USDT`` and ``-BTC`` ones. Majors are everywhere, many
  bases on two or three venues, some on one only. Which venue lists what is derived from each
  base's name and rank with a fixed hash (no run-to-run randomness); the engine evolves these
  books lazily, only when somebody asks for them (:mod:`cryptows.sim.wide`).

Every book's price and tick come from its base's USD price and its quote asset, so the same base
quotes consistently on every venue and in every quote asset.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

from cryptows.symbols import Symbol, parse_symbol

VENUES = ("binance", "bybit", "okx", "coinbase")

CORE_INSTRUMENTS: dict[str, tuple[float, float]] = {
    # canonical symbol: (start price, tick size)
    "BTCUSDT": (97_000.0, 0.01),
    "ETHUSDT": (3_400.0, 0.01),
    "SOLUSDT": (190.0, 0.01),
    "XRPUSDT": (2.2, 0.0001),
    "DOGEUSDT": (0.32, 0.00001),
    "BNBUSDT": (650.0, 0.01),
    "ADAUSDT": (0.98, 0.0001),
    "LINKUSDT": (23.5, 0.001),
    "LTCUSDT": (118.0, 0.01),
    "AVAXUSDT": (41.0, 0.001),
    "BTCUSDC": (97_000.0, 0.01),
    "ETHUSDC": (3_400.0, 0.01),
    "BTCUSD": (97_000.0, 0.01),
    "ETHUSD": (3_400.0, 0.01),
    "SOLUSD": (190.0, 0.01),
    "ETHBTC": (0.035, 0.00001),
}
"""The core books, walked step by step on the engine's seeded stream (their draws are pinned by
tests: a change here changes every seeded market)."""

EVERYWHERE = frozenset(
    {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ETHBTC", "ADAUSDT", "LINKUSDT",
     "LTCUSDT", "AVAXUSDT"}
)  # fmt: skip
"""Core books listed on every simulated venue, so 10 symbols can be watched on all four at
once."""

CORE_LISTINGS: dict[str, frozenset[str]] = {
    "binance": EVERYWHERE | {"BNBUSDT", "BTCUSDC", "ETHUSDC"},
    "bybit": EVERYWHERE | {"BTCUSDC", "ETHUSDC"},
    "okx": EVERYWHERE | {"BTCUSDC", "ETHUSDC"},
    "coinbase": EVERYWHERE | {"BTCUSD", "ETHUSD", "SOLUSD"},
}
"""Which venue lists which core book (BTCUSD on Coinbase only, BNBUSDT on Binance only...)."""

CORE_BASES: dict[str, str] = {
    s.removesuffix("USDT"): s for s in CORE_INSTRUMENTS if s.endswith("USDT")
}
"""Bases whose USD price is their core ``XXXUSDT`` book's (the wide market's books of these
bases follow it)."""

# Base assets by rough market-cap rank, each with a plausible USD price. Groups decide where a
# base is listed: "major" everywhere; "broad" on Binance, Bybit and OKX (Coinbase for some);
# "mid" on some of those three (Coinbase for a few); "<venue>" on that venue only.
_TABLE = """
major: BTC 97000 ETH 3400 XRP 2.2 BNB 650 SOL 190 DOGE 0.32 ADA 0.98 TRX 0.25 AVAX 41 LINK 23.5
 TON 5.6 SHIB 0.000022 SUI 4.2 XLM 0.42 DOT 7.2 HBAR 0.28 BCH 440 LTC 118 UNI 13.5 PEPE 0.000019
 NEAR 5.2 APT 9.4 ICP 10.5 AAVE 340 POL 0.5 ETC 27 RENDER 7.2 FIL 5.2 ARB 0.75 ATOM 6.8
broad: VET 0.045 TAO 480 FET 1.3 ALGO 0.38 OP 2.0 STX 1.6 IMX 1.3 INJ 23 WIF 2.0 MKR 1500
 TIA 5.1 THETA 2.0 GRT 0.22 SEI 0.45 BONK 0.000031 LDO 1.8 RUNE 4.9 FLOKI 0.00018 JUP 0.9
 ENA 1.0 PYTH 0.36 SAND 0.6 GALA 0.035 XTZ 1.3 FLOW 0.75 EOS 0.8 MANA 0.55 QNT 105 NEO 14
 EGLD 36 AXS 6.4 CHZ 0.09 AR 19 STRK 0.5 JASMY 0.035 CFX 0.17 MINA 0.65 APE 1.25 DYDX 1.55
 KAVA 0.45 CRV 0.9 SNX 2.3 ZEC 55 COMP 80 IOTA 0.3 CAKE 2.5 ASTR 0.06 1INCH 0.45 ZRO 5.5
 NOT 0.0065 W 0.3 ROSE 0.09 WLD 2.4 ORDI 36 BLUR 0.3 ENS 38 ZK 0.2 ANKR 0.04 CELO 0.75 KSM 35
 ZIL 0.025 MEME 0.017 DASH 40 BAT 0.25 GLM 0.45 QTUM 4.0 PENDLE 5.3 BOME 0.009 AEVO 0.45
 ETHFI 2.0 MANTA 0.9 DYM 1.6 JTO 3.1 SSV 28 LRC 0.22 YFI 8500 SUSHI 1.4 UMA 3.2 ZRX 0.5
 STORJ 0.5 SKL 0.06 ICX 0.22 ONE 0.025 WOO 0.22 CELR 0.02 COTI 0.12 RVN 0.022 KNC 0.6
 API3 1.8 MASK 3.0 PEOPLE 0.06 ID 0.35 MAGIC 0.55 ARKM 1.8 PENGU 0.035 MOVE 0.8 USUAL 0.9
 EIGEN 3.5 POPCAT 1.0 NEIRO 0.0017 PNUT 0.7 GOAT 0.5 ACT 0.35 TURBO 0.009 IO 2.5 OM 3.8
 LPT 15 TRB 70 BICO 0.3 GMT 0.15 AXL 1.0 HNT 7.0 GAS 5.0 LUNC 0.00012 BLAST 0.01
mid: KAIA 0.2 BTT 0.0000011 XEC 0.000035 GMX 28 TWT 1.3 SUPER 1.2 RAY 5.0 GNO 300 ALT 0.13
 PIXEL 0.15 PORTAL 0.3 ACE 2.0 XAI 0.25 AI 0.5 NFP 0.2 RPL 12 BAL 2.6 BAND 1.5 ONT 0.25
 IOST 0.007 HOT 0.0025 SC 0.0065 DGB 0.012 ZEN 14 OGN 0.12 CTSI 0.16 AUDIO 0.18 ACH 0.03
 ARPA 0.05 HIGH 1.6 HOOK 0.35 RDNT 0.06 EDU 0.6 CYBER 3.0 NTRN 0.45 MAV 0.2 ME 4.5 VANA 18
 BIO 0.5 VIRTUAL 3.2 AIXBT 0.6 MOODENG 0.3 MEW 0.008 BRETT 0.15 SCR 0.9 HMSTR 0.004 CATI 0.4
 DOGS 0.0006 BANANA 45 LISTA 0.5 ZETA 0.7 OMNI 13 REZ 0.05 BB 0.4 SAGA 2.5 TNSR 0.6 C98 0.18
 CHR 0.3 DENT 0.0012 DUSK 0.2 FLUX 0.7 FXS 3.0 GTC 0.9 HFT 0.25 IOTX 0.05 JOE 0.45 KDA 0.9
 LQTY 1.5 MTL 1.3 NKN 0.1 PERP 0.9 PHA 0.25 POND 0.02 POWR 0.3 RLC 2.3 RSR 0.015 SFP 0.8
 SLP 0.004 SPELL 0.0009 STG 0.45 SXP 0.35 T 0.025 TLM 0.018 TRU 0.2 WAXP 0.05 XVS 10 YGG 0.6
 AGLD 1.5 ALICE 1.1 ARDR 0.1 AUCTION 20 BADGER 4.0 BNT 0.8 CKB 0.02 CVC 0.18 CVX 4.5 DODO 0.15
 ELF 0.5 ENJ 0.3 GLMR 0.3 ILV 45 JST 0.04 LSK 1.0 MOVR 12 PYR 5.0 RARE 0.12 SCRT 0.5 SUN 0.02
 SYS 0.12 TFUEL 0.07 VOXEL 0.2 WIN 0.00013 XVG 0.012 MERL 0.3 ETHW 3.0 MNT 1.1 CETUS 0.3
 ORCA 4.0 DRIFT 1.2 GRASS 2.5 COW 0.8 MORPHO 2.5 AERO 1.5 PRIME 12 BIGTIME 0.18
binance: WBETH 3500 BNSOL 200 ACA 0.1 ADX 0.2 ATM 2.0 ASR 2.0 PSG 2.5 JUV 1.5 LAZIO 1.5 PORTO 1.5
 BAR 1.8 OG 5.0 ALPINE 1.2 SANTOS 3.0 ACM 1.5 DATA 0.05 FIS 0.4 GHST 1.0 IDEX 0.05 LEVER 0.002
 NULS 0.4 PDA 0.1 PHB 1.0 PIVX 0.3 TKO 0.4 TROY 0.003 VIB 0.1 VITE 0.02 WING 6.0 1000SATS 0.0003
bybit: SPEC 5.0 MYRO 0.1 CTC 0.6 DECHAT 0.2 ZEREBRO 0.2 PUFFER 0.4 CLOUD 0.25 SQD 0.05 SAROS 0.002
 FIRE 0.3 SEOR 0.002 KMNO 0.1 MEMEFI 0.008 XAVA 0.6 PLUME 0.15
okx: OKB 50 LUNA 0.5 DEP 0.001 SWEAT 0.01 ULTI 0.03 PRCL 0.3 SD 0.8 UXLINK 0.6 XCH 20 MXC 0.004
 CITY 1.5 ZENT 0.02 WAL 0.5 BETH 3400 OAS 0.03
coinbase: AMP 0.008 CBETH 3600 CTX 1.5 DIA 0.8 DIMO 0.25 ERN 2.5 FARM 50 FOX 0.04 GODS 0.25
 GST 0.02 HONEY 0.05 INDEX 2.0 INV 30 KARRAT 0.6 KRL 0.4 LCX 0.25 LSETH 3500 MSOL 240 NCT 0.02
 OSMO 0.5 PLU 6.0 RAD 1.3 RARI 1.5 SHPING 0.005 SWFTC 0.01 SYN 0.6 TRAC 0.8 VELO 0.02 WCFG 0.4
 AVT 1.5 ASM 0.02 SEAM 1.5 PNG 0.3 MOBILE 0.0015 POLS 0.5 FORT 0.15 ALEPH 0.2 ACX 0.7 XYO 0.02
 ELA 2.5 MLN 20 MNDE 0.15 MATH 0.2 NMR 20
"""

_NEVER = frozenset({"DOGEUSD", "DOGEUSDC", "NMRUSDT"})
"""Books no simulated venue lists (tests rely on DOGEUSD suggesting only DOGEUSDT)."""


@dataclass(frozen=True, slots=True)
class Instrument:
    """One book of the wide market."""

    symbol: Symbol
    price: float
    """Start price, in the quote asset."""
    tick: float
    rank: int
    """The base's rank in :data:`BASES` (0 = biggest): sets volume and how often it changes."""


def _bases() -> tuple[dict[str, float], dict[str, str]]:
    prices: dict[str, float] = {}
    groups: dict[str, str] = {}
    group = ""
    for token in _TABLE.split():
        if token.endswith(":"):
            group = token[:-1]
        elif _is_number(token):
            prices[next(reversed(prices))] = float(token)
        else:
            if token in prices:
                raise ValueError(f"{token} twice in the universe table")
            prices[token] = 0.0
            groups[token] = group
    return prices, groups


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


BASES, _GROUPS = _bases()
"""Base asset -> start USD price, biggest first."""


def tick_for(price: float, quote: str) -> float:
    """A realistic tick for a book at ``price``: about 1/10,000 of it, at most 0.01 in
    dollar-like quotes, at least 1e-8 in BTC."""
    tick = 10.0 ** (math.floor(math.log10(price)) - 4)
    return max(tick, 1e-8) if quote == "BTC" else min(tick, 0.01)


def _venues_of(base: str, rank: int) -> set[str]:
    """The venues listing ``base``: its group's, drawn by a fixed hash of its name."""
    group = _GROUPS[base]
    if group in VENUES:
        return {group}
    draw = random.Random(zlib.crc32(base.encode()))
    if group == "major":
        return set(VENUES)
    if group == "broad":
        chosen = {"binance", "bybit", "okx"}
        if draw.random() < 0.45:
            chosen.add("coinbase")
        return chosen
    chance = {"binance": 0.8, "bybit": 0.65, "okx": 0.55, "coinbase": 0.25}
    chosen = {v for v in VENUES if draw.random() < chance[v]}
    return chosen or {"binance"}


def _quotes(venue: str, rank: int, usd_price: float, others: int) -> list[str]:
    """The quote assets ``venue`` lists a base of this rank against."""
    btc_ok = usd_price >= 0.3
    if venue == "coinbase":
        quotes = ["USD"]
        quotes += ["USDC"] if rank < 12 else []
        quotes += ["USDT"] if rank < 20 else []
        quotes += ["BTC"] if rank < 25 and btc_ok else []
        return quotes
    usdc_until, btc_until = {"binance": (100, 70), "bybit": (50, 15), "okx": (60, 30)}[venue]
    quotes = ["USDT"]
    quotes += ["USDC"] if rank < usdc_until or others == 0 and rank % 3 == 0 else []
    quotes += ["BTC"] if rank < btc_until and btc_ok else []
    return quotes


def _build() -> tuple[dict[str, Instrument], dict[str, frozenset[str]]]:
    instruments: dict[str, Instrument] = {}
    listed: dict[str, set[str]] = {venue: set() for venue in VENUES}
    core_symbols = set(CORE_INSTRUMENTS)
    for rank, (base, usd) in enumerate(BASES.items()):
        venues = _venues_of(base, rank)
        for venue in VENUES:
            if venue not in venues:
                continue
            for quote in _quotes(venue, rank, usd, len(venues) - 1):
                if quote == base:
                    continue  # no BTC book quoted in BTC
                canonical = base + quote
                if canonical in core_symbols or canonical in _NEVER:
                    continue  # the core's listings are its own
                if quote == "USD" and parse_symbol(canonical) != Symbol(base, quote):
                    # ARB+USD reads back as AR+BUSD: left out. (No known quote asset ends in
                    # USDT, USDC or BTC; a test reads every book back.)
                    continue
                if canonical not in instruments:
                    price = usd / BASES["BTC"] if quote == "BTC" else usd
                    tick = tick_for(price, quote)
                    instruments[canonical] = Instrument(Symbol(base, quote), price, tick, rank)
                listed[venue].add(canonical)
    listings = {venue: CORE_LISTINGS[venue] | listed[venue] for venue in VENUES}
    return instruments, listings


WIDE_INSTRUMENTS, LISTINGS = _build()
"""The wide market's books by canonical symbol, and each venue's whole list (core included)."""


def symbol_of(canonical: str) -> Symbol:
    """The :class:`Symbol` of a book, core or wide."""
    wide = WIDE_INSTRUMENTS.get(canonical)
    return wide.symbol if wide is not None else parse_symbol(canonical)


def tick_of(canonical: str) -> float:
    """The tick of a book, core or wide (``KeyError`` for one the universe does not have)."""
    wide = WIDE_INSTRUMENTS.get(canonical)
    return wide.tick if wide is not None else CORE_INSTRUMENTS[canonical][1]


def size_scale(canonical: str) -> float:
    """A typical resting size of a book's levels, in its base asset: about $20,000 worth at
    the base's start price (fixed, so that depth levels keep their sizes while the top moves)."""
    wide = WIDE_INSTRUMENTS.get(canonical)
    usd = BASES[wide.symbol.base] if wide is not None else CORE_INSTRUMENTS[canonical][0]
    return 20_000 / usd


def lot_of(canonical: str) -> float:
    """The size increment of a book: every size it shows or trades is a multiple of it
    (the core's sizes have 6 decimals, the wide market's 6 significant digits)."""
    return 1e-8 if canonical in WIDE_INSTRUMENTS else 1e-6
