"""Metrics: pure functions, one module per concept.

Access, zonal statistics, renaturation, renewal, indicators. They never import the territory,
the maps or the writers.
"""
