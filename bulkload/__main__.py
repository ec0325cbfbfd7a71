import signal
import sys


def entry() -> int:
    """The `bulkload` command (pyproject's script) and `python -m bulkload`: a `load` starts its planning child
    first (prestart.py), while the rest of bulkload is imported. Everything of bulkload but the package itself (which
    imports nothing) is read here, where a Ctrl-C is answered: before, errors.py (and asyncio) was read with the
    package, where a Ctrl-C printed a Python traceback."""
    from .closed_pipes import opened

    opened()  # before the planning child starts, which inherits them, and before any file takes a closed number
    try:
        from . import interrupts

        # SIGTERM and SIGHUP stop it as Ctrl-C does from the start: by their default they killed it silently
        with interrupts.installed():
            from . import prestart

            prestart.start(sys.argv)
            from . import collector
            from .cli import main
    except KeyboardInterrupt:  # while bulkload itself is read: before any command began
        from . import interrupts
        from .errors import EXIT_STOPPED

        print(f"bulkload: {interrupts.reason()} before it began: nothing was done", file=sys.stderr)
        return EXIT_STOPPED
    collector.for_a_long_run()  # bulkload is imported: what it made lives as long as the process
    code = main()
    # said and written: a signal from here on (an impatient second Ctrl-C, the hangup of a terminal closed) no
    # longer changes how the process ends, as their default would, killing it
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    return code


if __name__ == "__main__":  # `python -m bulkload`; importing this module runs nothing
    sys.exit(entry())
