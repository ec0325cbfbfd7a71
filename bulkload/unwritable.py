"""Why a file or folder bulkload must write cannot be written, said as what to do about it: a read-only file system
is told apart from a permission this user lacks (before, a read-only mount was said to be "no permission", and a
user chmod'ed a folder whose mount refused every write)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def why_unwritable(path: Path, what: str) -> str:
    """ "" where this process may write the existing file or folder `path`, else what stops it and what to do:
    `path` (`what` names it: "it", "its folder /x") is on a read-only file system (a read-only mount: mount it
    read-write), or this user lacks the permission (give it, or run as a user who has it). The access bits say yes
    to root everywhere but on a read-only mount."""
    if os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)):
        return ""
    if _read_only_mount(path):
        return f"{what} is on a read-only file system (a read-only mount): mount it read-write"
    return (
        f"this user ({_user()}) has no permission to write {what}: give this user that permission (chmod), or run "
        "the command as a user who has it"
    )


def ledger_unwritable(path: Path) -> str:
    """Why the SQLite ledger `path` cannot be written ("" where it can): the file, its -wal and -shm where they
    are, and its folder where either is not (SQLite makes them there at the first write)."""
    sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    for one, what in [(path, "it"), *((s, f"its {s.name}") for s in sides if s.exists())]:
        if why := why_unwritable(one, what):
            return why
    if not all(s.exists() for s in sides):
        return why_unwritable(path.parent, f"its folder {path.parent}")
    return ""
