"""`python -m comedy`: the command-line comedian."""

import sys

from comedy.cli import main

sys.exit(main())
