"""What the committee sees: one home for titles, rows, labels, units and comparison columns.

The maps (:mod:`cdv_geo.maps`), the committee index and the dossier (:mod:`cdv_geo.output`) all
read their choices here, so that a quartier's name, a panel's rows or the columns a page compares
are chosen once:

* :mod:`cdv_geo.views.titles`: the territory's and quartiers' names, map and page titles, slugs;
* :mod:`cdv_geo.views.panels`: the key-figure rows and the named comparison columns, formatted;
* :mod:`cdv_geo.views.services`: which services (facility kinds) a pack shows.

This layer sits between :mod:`cdv_geo.pipeline` (it reads Territory and Metrics) and the maps;
it never draws or writes a file.
"""
