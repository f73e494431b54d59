"""Imported last by the fork server of the batch workers: freeze what it has imported.

The objects of the modules imported by the server (pandas, geopandas, cdv_geo...) are moved to
the garbage collector's permanent generation (:func:`gc.freeze`) just before the server forks
workers, as the Python documentation advises for a pre-forking server: the workers' collections
then never walk these objects (cheaper collections) nor write to their memory pages (which
would make each worker copy them). Imported anywhere else, it does nothing.
"""

import gc
import sys

if sys.argv[:1] == ["-c"] and "multiprocessing.forkserver" in sys.modules:  # the fork server
    gc.collect()
    gc.freeze()
