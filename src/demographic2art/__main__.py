"""``python -m demographic2art`` runs the ``d2a`` command line."""

import sys

from .cli.main import main

sys.exit(main())
