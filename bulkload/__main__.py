import sys

from . import prestart


def entry() -> int:
    """The `bulkload` command (pyproject's script) and `python -m bulkload`: a `load` starts its planning child
    first (prestart.py), while the rest of bulkload is imported."""
    prestart.start(sys.argv)
    from .cli import main

    return main()


if __name__ == "__main__":  # `python -m bulkload`; importing this module runs nothing
    sys.exit(entry())
