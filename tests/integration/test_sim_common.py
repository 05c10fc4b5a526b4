"""What every simulated venue does alike: refusing handshakes on demand (451 geo-block, 503)."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cryptows.sim.cluster import SIMULATORS
from cryptows.sim.market import MarketEngine
from tests.integration.conftest import bound


@pytest.mark.parametrize("venue", sorted(SIMULATORS))
@pytest.mark.parametrize("status", [451, 503])
async def test_handshake_refused(engine: MarketEngine, venue: str, status: int) -> None:
    async with SIMULATORS[venue](engine) as sim:
        sim.faults.handshake_status = status
        with pytest.raises(InvalidStatus) as info:
            async with connect(sim.ws_url, open_timeout=bound(5)):
                pass
        sim.faults.handshake_status = None
        async with connect(sim.ws_url, open_timeout=bound(5)):
            pass  # accepted again once the fault is lifted
    assert info.value.response.status_code == status
