"""Who runs this process, as the files several users share name it (run_by.RUN_BY, loads_beside's records)."""

from __future__ import annotations

import getpass
import os
import socket


def user_at_host() -> str:
    """Who as "user@host": the login name (the uid where the system has none for it) and this machine's host name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"
