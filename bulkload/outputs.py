"""Where a run writes. Every file bulkload writes holds what the user's files hold (and the ledger where their
records went), so it is readable by the user only; it is written whole under a name of its own and moved into
place, so neither a crash nor a link planted where a temporary file would go can spoil another file; and no
output may land on a file the run reads or keeps (an input, the ledger, another output)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from .errors import ConfigError, WritesRefused, write_refused
from .unwritable import why_unwritable

log = logging.getLogger(__name__)
#: the bytes of an output's name that name its temporary file (replaced): 255 (NAME_MAX) less the ".", ".XXXXXXXX" and
#: ".tmp" about it, with room to spare
_NAME_START = 200
#: the most bytes of a file's name (NAME_MAX of Linux, macOS and the BSDs' file systems)
_NAME_MAX = 255
#: files: the user reads and writes them, nobody else; folders of bulkload's own (the cache): the user enters them
PRIVATE, PRIVATE_DIR = 0o600, 0o700


@contextlib.contextmanager
def replaced(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", newline: str | None = None, errors: str = "strict"
) -> Iterator[TextIO]:
    """A new file at `path` for the block to write, in place once the block ends. It is made beside `path` under a
    random name with O_EXCL (mkstemp), so a link planted there is never followed, and mode 0600 whatever the umask;
    a link at `path` itself is replaced, not written through. An error leaves `path` as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # the name's start only: ".NAME.XXXXXXXX.tmp" is 14 bytes longer than NAME, and a name of 242 bytes or more
    # (a long input's FILE.rejects.csv) made no temporary file (File name too long): every run of it stopped at
    # its end, the rows loaded, exit 4, and every resume again (found by a tester)
    start = os.fsencode(target.name)[:_NAME_START].decode(sys.getfilesystemencoding(), "ignore")
    fd, tmp = tempfile.mkstemp(prefix=f".{start}.", suffix=".tmp", dir=target.parent)
    try:
        with open(fd, "w", encoding=encoding, newline=newline, errors=errors) as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: str | os.PathLike[str], text: str) -> None:
    with replaced(path) as fh:
        fh.write(text)


def cache_dir() -> Path:
    """bulkload's folder in the user's cache (`$XDG_CACHE_HOME`, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bulkload"


def private_dir(path: Path) -> Path:
    """A folder of bulkload's own (the cache), made for the user only."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


#: the parts of the user's cache (folders in cache_dir()) a guarantee rests on: a load, resume, rollback or manifest
#: run is refused before it sends anything where one cannot be written (check_cache)
GUARDS = {
    "": "the record of loads (loads.jsonl), which refuses a file loaded twice into one place and a run into a place "
    "another run loads into now",
    "sent": "each run's count of sends, which finds out a ledger that lost its latest writes",
    "quota": "the key that names an agreement in the record of loads, and the agreement's calls of every run",
}
#: the parts that only spare the API calls it would refuse: without them a run warns and goes on (a 429 slows it)
HELPS = {"windows": "the calls earlier runs made in the API's rolling windows"}


def cache_refused(folder: Path, exc: OSError | str, keeps: str, command: str) -> ConfigError | WritesRefused:
    """The refusal of a `command` ("load", "resume", ...) whose cache `folder` cannot be written (`exc`: the OS's
    refusal, or what failed), where it `keeps` a guarantee's record: names the folder, the error and the way on. For
    a full disk (a quota, an I/O error: write_refused) a stop, exit 4: free space there (before, exit 2 and "set
    XDG_CACHE_HOME to a folder this user can write", which leaves the record of earlier loads behind: tester t74c)."""
    why = exc if isinstance(exc, str) else exc.strerror or str(exc)
    if isinstance(exc, OSError) and write_refused(exc):
        return WritesRefused(
            f"cannot write bulkload's cache {folder} ({why}). It keeps {keeps}: a {command} without it would go "
            "without that guard. Free space there (or fix what refuses the writes), then run the command again; "
            "nothing was sent"
        )
    return ConfigError(
        f"cannot write bulkload's cache {folder} ({why}). It keeps {keeps}: a {command} without it would go "
        "without that guard. Set XDG_CACHE_HOME to a folder this user can write (else ~/.cache is used), the same "
        "for every load, resume and rollback of these files, as the record of earlier loads is kept there; nothing "
        "was sent"
    )


def check_cache(command: str) -> None:
    """Before `command` (load, resume, rollback, run) sends anything: make each part of the user's cache and a file
    in it. ConfigError (cache_refused) for a part a guarantee rests on (GUARDS), a WARNING for one that only spares
    the API (HELPS). A read-only mount or a path through a file refuses root too, whatever the access bits say."""
    for parts, refuse in ((GUARDS, True), (HELPS, False)):
        for part, keeps in parts.items():
            folder = cache_dir() / part
            try:
                private_dir(folder)
                fd, probe = tempfile.mkstemp(prefix=".bulkload-probe-", dir=folder)
                os.close(fd)
                os.unlink(probe)
            except OSError as exc:
                if refuse:
                    raise cache_refused(folder, exc, keeps, command) from exc
                log.warning(
                    "cannot write bulkload's cache %s (%s): %s are not kept, and a run after this one may meet "
                    "429s until the window frees up",
                    folder,
                    exc.strerror or exc,
                    keeps,
                )


@contextlib.contextmanager
def held_lock(path: Path, wait_s: float) -> Iterator[bool | None]:
    """An exclusive flock on the lock file `path` (made 0600, never through a link), waited for up to `wait_s`
    seconds: yields True while held, False when another process held it all that time, None when the file
    cannot be made (nothing to guard with)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE)
    except OSError:
        yield None
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(min(0.05, wait_s / 20))
        yield True
    finally:
        os.close(fd)


#: what begins every append to a record of lines (JSON Lines): an append that met a full disk may leave its line cut
#: short, with no end; the next one, begun on a line of its own, is read whole (its readers skip an empty line).
#: Before, the next load's first entry was joined to that cut line, and read as nothing (tester t74c)
FRESH_LINE = "\n"


def append_private(path: Path) -> TextIO:
    """`path` opened for appending lines (FRESH_LINE written first), made 0600 (an older file too), never through a
    link."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        fh = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - the caller's to close
    except BaseException:
        os.close(fd)
        raise
    fh.write(FRESH_LINE)
    return fh


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: by its inode when both exist (a hard link, a symlink), else by the path
    each resolves to (a file that is yet to be written)."""
    return file_identity(a) == file_identity(b)


def file_identity(path: str | os.PathLike[str]) -> object:
    """What tells one file from another (same_file), to compare many paths at once: its device and inode where it
    exists; else, the path it resolves to taken from its nearest folder that exists, that folder by its device and
    inode (a file yet to be written in a folder a bind mount, or a file system blind to case, names twice is one
    file by either name); else the path it resolves to."""
    try:
        st = os.stat(path)
    except OSError:
        resolved = Path(os.path.realpath(path))
        for folder in resolved.parents:
            try:
                st = os.stat(folder)
            except OSError:
                continue
            return (st.st_dev, st.st_ino, str(resolved.relative_to(folder)))
        return str(resolved)
    return (st.st_dev, st.st_ino)


def check_outputs(outputs: Iterable[tuple[str, str]], kept: Iterable[tuple[str, str]], *, whole: bool = True) -> None:
    """Refuse, before anything is sent, an output (what, path) that would overwrite a file the run reads or
    keeps (what, path: the inputs, the ledger) or another output, and one that cannot be written: a run must not
    load an hour of rows and then fail to say what became of them. Not `whole`: outputs appended to (--log-file),
    which may be a pipe or a device, refused only where they would append to a file the run reads or keeps."""
    taken = list(kept)
    for what, path in outputs:
        for other, used in taken:
            if same_file(path, used):
                raise ConfigError(
                    f"{what} {path} would {'overwrite' if whole else 'append to'} {other} {used}: give it another "
                    "path; nothing was sent"
                )
        taken.append((what, path))
        if whole:
            _writable(what, path)


def refuse_folder(what: str, given: str) -> None:
    """Refuse (ConfigError) the path `given` for the file `what` (`--ledger`, `--report`, …) where it names a folder
    (or ends in a slash): a file is written there, never into it."""
    if given.endswith(("/", os.sep)) or Path(given).is_dir():
        raise ConfigError(f"cannot write {what} {given}: it is a folder; give a file path; nothing was sent")


def _writable(what: str, given: str) -> None:
    path = Path(given)  # (which drops a trailing slash: `out/` would be written as the file `out`)
    if len(name := os.fsencode(path.name)) > _NAME_MAX:  # before, OSError (File name too long) ended it, exit 4
        raise ConfigError(
            f"cannot write {what} {given}: its name is {len(name)} bytes, longer than the {_NAME_MAX} a file name may "
            "be; give it a shorter path (a shorter input name makes shorter default names); nothing was sent"
        )
    refuse_folder(what, given)
    with contextlib.suppress(OSError):  # (no such file yet: made by the run)
        if not stat.S_ISREG(mode := os.lstat(path).st_mode) and not stat.S_ISLNK(mode):
            # an output is written whole and renamed into place: that would replace the device or pipe itself
            raise ConfigError(
                f"cannot write {what} {path}: it is not a regular file (a device or a pipe), and "
                "bulkload replaces an output whole; give a file path; nothing was sent"
            )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # folders yet to be made are made where one exists
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write {what} {path}: {folder} is not a folder; nothing was sent")
    if why := why_unwritable(folder, f"the folder {folder}"):  # a read-only mount is not told as a permission to give
        raise ConfigError(f"cannot write {what} {path}: {why}; nothing was sent")
    # an output is made beside its path and renamed into place: make one there now. Access bits say yes to root
    # everywhere, also in /proc and /sys and on a read-only mount, where the run would only fail at its end
    try:
        fd, probe = tempfile.mkstemp(prefix=".bulkload-probe-", dir=folder)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {what} {path}: no file can be made in {folder} ({exc.strerror or exc}); nothing was sent"
        ) from exc
    os.close(fd)
    os.unlink(probe)
