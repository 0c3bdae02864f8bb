"""``python -m diffdx``: the command line."""

import sys

from diffdx.cli import main

sys.exit(main())
