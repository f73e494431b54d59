"""Metrics: pure functions, one module per concept (access, zonal, renaturation, renewal,
indicators). They never import the territory, the maps or the writers."""
