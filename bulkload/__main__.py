import sys

from .cli import main

if __name__ == "__main__":  # `python -m bulkload`; importing this module runs nothing
    sys.exit(main())
