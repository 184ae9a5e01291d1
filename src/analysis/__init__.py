"""Children's social care finance toolkit for English councils.

The package is layered so that a reader sees the pipeline in its module names:

* inputs: :mod:`paths`, :mod:`errors`, :mod:`provenance`, :mod:`tables`, :mod:`loaders`,
  :mod:`scenario`;
* models: :mod:`reconcile`, :mod:`demand`, :mod:`workforce`, :mod:`costs`,
  :mod:`sensitivity`, :mod:`benchmark`;
* presentation: :mod:`formatting`, :mod:`charts`, :mod:`disclosure`;
* delivery: :mod:`report`, :mod:`pack`, :mod:`cli`.

Lower layers never import higher ones.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("csc-finance")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
