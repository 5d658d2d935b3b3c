"""``python -m scalinglaw``: the same as the ``scalinglaw`` command."""

import sys

from .cli import main

sys.exit(main())
