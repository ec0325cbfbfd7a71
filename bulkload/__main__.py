import sys

from .cli import main

if __name__ == "__main__":  # the planning child imports this module by name when spawned under -m
    sys.exit(main())
