"""`python -m service.cli` runs the `clearway` command."""

import sys

from service.cli import main

sys.exit(main())
