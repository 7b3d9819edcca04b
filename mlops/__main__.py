"""``python -m mlops``: the command line."""

import sys

from mlops.cli import main

if __name__ == "__main__":
    sys.exit(main())
