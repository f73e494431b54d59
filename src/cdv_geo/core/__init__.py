"""What every layer of cdv_geo shares.

Errors, metric CRS, layer coercion, quartier assignment, the result-table contract, raster
opening and the French/English labels.
"""
