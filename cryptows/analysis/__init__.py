"""Grounded LLM analysis of the market through an OpenAI-compatible gateway (HolySheep).

Submodules: ``client`` (the gateway over aiohttp), ``pricing`` (price table, token estimate,
local cost), ``stats`` (statistics computed locally) and ``prompt`` (requests and answer parsing).
Nothing is imported here, so importing one submodule does not pull in aiohttp.
"""
