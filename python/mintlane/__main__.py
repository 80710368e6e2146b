"""python -m mintlane: the same CLI as the `mintlane` command."""
import sys

from mintlane.cli import main

if __name__ == "__main__":
    sys.exit(main())
