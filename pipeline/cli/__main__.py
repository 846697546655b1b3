"""`python -m pipeline.cli ...`: the `dailies` command."""

import sys

from pipeline.cli import main

sys.exit(main())
