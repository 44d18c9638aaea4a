"""``python -m rum_core``: the ``rum`` command (:func:`rum_core.cli.main`), for environments where the
console script is not on ``PATH`` (a notebook kernel, a virtual environment that is not activated)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
