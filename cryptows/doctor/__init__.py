"""``cryptows doctor``: why is no data arriving? Every venue's path checked step by step.

Domain code, without any UI: :func:`diagnose` runs the checks (:mod:`.checks`) and returns a
:class:`DoctorReport` of plain results (:mod:`.report`) with a concrete hint for each failure
(:mod:`.hints`); ``cryptows/commands/doctor.py`` renders it as a table or JSON.
"""

from __future__ import annotations

from cryptows.doctor.checks import (
    Progress,
    check_clock,
    diagnose,
    proxy_environment,
    symbol_reports,
)
from cryptows.doctor.endpoint import Resolver, system_resolve
from cryptows.doctor.report import (
    ClockReport,
    DoctorReport,
    EndpointReport,
    Mark,
    Step,
    SymbolReport,
    VenueReport,
    Verdict,
)

__all__ = [
    "ClockReport",
    "DoctorReport",
    "EndpointReport",
    "Mark",
    "Progress",
    "Resolver",
    "Step",
    "SymbolReport",
    "VenueReport",
    "Verdict",
    "check_clock",
    "diagnose",
    "proxy_environment",
    "symbol_reports",
    "system_resolve",
]
