"""``cryptows models``: the price table, and the gateway's model list when a key is set."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cryptows.analysis.client import GatewayClient
from cryptows.analysis.pricing import DEFAULT_PRICES, ModelPrice
from cryptows.commands.common import load_settings
from cryptows.errors import CryptowsError


async def run_models(config: Path | None, *, base_url: str | None, as_json: bool) -> None:
    """Print the effective price table and what the gateway lists (or why it could not)."""
    settings = load_settings(
        config, overrides={"analysis.base_url": base_url}, overrides_source="flag --base-url"
    )
    a = settings.analysis
    prices: dict[str, tuple[ModelPrice, str]] = {
        m: (p, "built-in") for m, p in DEFAULT_PRICES.items()
    }
    for model, price in a.prices.items():
        prices[model] = (price, "config")
    listed: list[str] | None = None
    why = "no API key set (HOLYSHEEP_API_KEY), so the gateway was not asked"
    if a.api_key:
        try:
            async with GatewayClient(
                a.base_url,
                a.api_key,
                connect_timeout_s=a.connect_timeout_s,
                total_timeout_s=10,
                max_attempts=1,
            ) as client:
                listed = await client.list_models()
            why = ""
        except CryptowsError as err:
            why = f"the gateway's model list is unavailable: {err}"
    if as_json:
        record = {
            "base_url": a.base_url,
            "prices": {
                m: {
                    "input_per_mtok": p.input_per_mtok,
                    "output_per_mtok": p.output_per_mtok,
                    "source": src,
                }
                for m, (p, src) in sorted(prices.items())
            },  # fmt: skip
            "gateway_models": listed,
            "note": why or None,
        }
        print(json.dumps(record))
        return
    console = Console()
    table = Table(title="price table (USD per million tokens)", title_justify="left")
    for column in ("model", "input", "output", "source"):
        table.add_column(column, justify="right" if column in ("input", "output") else "left")
    for model, (price, source) in sorted(prices.items()):
        table.add_row(model, f"{price.input_per_mtok:.2f}", f"{price.output_per_mtok:.2f}", source)
    console.print(table)
    if listed is not None:
        console.print(f"{a.base_url} lists {len(listed)} models: {', '.join(sorted(listed))}")
    else:
        console.print(why, markup=False)
