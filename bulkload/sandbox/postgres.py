"""A throwaway local PostgreSQL server: for the tests, and the documented way to start one to try the PostgreSQL
ledger and the queue (``python -m bulkload.sandbox.postgres`` prints its URL and runs until Ctrl-C).

It uses the server binaries of the machine (``initdb``, ``pg_ctl``, ``postgres``: on the PATH, else the newest
``/usr/lib/postgresql/*/bin`` as Debian and Ubuntu install them), makes a cluster in a temporary directory (trust
authentication, no password; fsync off — the data is thrown away), listens on 127.0.0.1 on a free port and on a
unix socket in that directory, and stops the server and deletes the directory on exit. The server ends with the
process that started it: a keeper process (`keep`) watches that process and, once it is gone without stopping the
server (a kill -9, a test run's timeout), stops the server and deletes the directory. PostgreSQL refuses to run
as root; run as root, the cluster is made and run as the ``postgres`` system user (``nobody`` where there is
none), the owner of the temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkload.errors import ConfigError
from bulkload.parent_watch import WATCH_S, leave_signals_to_parent, watch_parent

#: the superuser the cluster is made with, the user of every URL given here
USER = "postgres"
#: where Debian and Ubuntu put the server binaries, one directory per major version
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
#: seconds pg_ctl waits for the server to start or stop
WAIT_S = 60
_PROGRAMS = ("initdb", "pg_ctl", "postgres")
#: the keeper's program (`python -c`; its arguments: the starting process's pid, the server's directory, its
#: binaries, then the starting process's sys.path, so it imports bulkload from where that process did)
_KEEPER = (
    "import sys; sys.path[:] = sys.argv[4:]; from bulkload.sandbox.postgres import keep; "
    "keep(int(sys.argv[1]), sys.argv[2], sys.argv[3])"
)


def find_binaries() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: the PATH's first, else the newest of
    ``/usr/lib/postgresql/*/bin``; None where there is none."""
    found = shutil.which("pg_ctl")
    if found:
        home = Path(found).resolve().parent
        if all((home / name).exists() for name in _PROGRAMS):
            return home

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    for home in sorted(Path("/").glob(DEBIAN_BINARIES.lstrip("/")), key=version, reverse=True):
        if all((home / name).exists() for name in _PROGRAMS):
            return home
    return None


@dataclass(frozen=True)
class Server:
    """A running server: `url` is ``postgresql://postgres@127.0.0.1:PORT/postgres``; `home` the temporary
    directory (the cluster in ``home/data``, its log ``home/server.log``, the unix socket); `binaries` the folder
    of its programs."""

    url: str
    home: Path
    port: int
    binaries: Path


@contextlib.contextmanager
def halted(server: Server) -> Iterator[None]:
    """The server stopped at once while the block runs (``pg_ctl stop -m immediate``: every session cut, as when
    it crashes), then started again on its port with its data. ConfigError where pg_ctl fails."""
    data, log = server.home / "data", server.home / "server.log"
    _run(log, server.binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", str(WAIT_S), "stop")
    try:
        yield
    finally:
        _run(log, server.binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", str(WAIT_S), "start")


def keep(parent: int, home: str, binaries: str) -> None:
    """The keeper's work (`running` starts it): once `parent`, the process that started the server, is gone
    (parent_watch.watch_parent), stop the server whose directory is `home` and delete that directory. Ctrl-C,
    hangup and SIGTERM (a timeout's, sent to the whole process group) are left to `parent`: it stops the server
    itself, then kills the keeper."""
    leave_signals_to_parent()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watch_parent(parent, WATCH_S, lambda: _throw_away(Path(home), Path(binaries)))


def _throw_away(home: Path, binaries: Path) -> None:
    """Stop the server of `home` at once, if it runs, and delete `home`."""
    data, log = home / "data", home / "server.log"
    with contextlib.suppress(ConfigError):  # not running: stopped by halted, or never started
        _run(log, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", str(WAIT_S), "stop")
    shutil.rmtree(home, ignore_errors=True)


def _run(log: Path, program: Path, *args: str | Path) -> None:
    """Run a server program with `args` as the cluster's owner (_as_owner); ConfigError with its output and the
    server log's (`log`) last lines where it fails."""
    done = subprocess.run(
        [str(program), *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        **_as_owner(),
    )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ConfigError(f"{program.name} failed: {(done.stderr or done.stdout)[-2000:]}{tail}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_owner() -> dict[str, Any]:
    """subprocess arguments that run a server program as a user PostgreSQL accepts (not root)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise ConfigError("PostgreSQL refuses to run as root, and there is no 'postgres' or 'nobody' user to run it as")


@contextlib.contextmanager
def running(binaries: Path | None = None) -> Iterator[Server]:
    """Start a throwaway server (see the module's text), yield it, stop it and delete its directory on exit; a
    keeper does both if this process dies first (`keep`).

    Raises ConfigError when no server binaries are found or the server does not start (its log's last lines in
    the message)."""
    binaries = binaries or find_binaries()
    if binaries is None:
        raise ConfigError(f"no PostgreSQL server binaries (initdb, pg_ctl) on the PATH or in {DEBIAN_BINARIES}")
    owner = _as_owner()
    home = Path(tempfile.mkdtemp(prefix="bulkload-pg-"))
    data, log = home / "data", home / "server.log"
    if owner:
        os.chown(home, owner["user"], owner["group"])
    keeper = subprocess.Popen(
        [sys.executable, "-c", _KEEPER, str(os.getpid()), str(home), str(binaries), *sys.path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        _run(
            log,
            binaries / "initdb",
            "-D",
            data,
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        for _ in range(3):  # a free port may be taken between finding it and the server binding it
            port = _free_port()
            with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(
                    f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{home}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                )
            try:
                _run(log, binaries / "pg_ctl", "-D", data, "-l", log, "-w", "-t", str(WAIT_S), "start")
                break
            except ConfigError:
                if "already in use" not in (log.read_text(errors="replace") if log.exists() else ""):
                    raise
        else:
            raise ConfigError("no free port for PostgreSQL after 3 tries")
        try:
            yield Server(url=f"postgresql://{USER}@127.0.0.1:{port}/postgres", home=home, port=port, binaries=binaries)
        finally:
            _run(log, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", str(WAIT_S), "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
        keeper.kill()
        keeper.wait()


def create_database(url: str, name: str) -> str:
    """Create database `name` on the server of `url` (a ``postgresql://`` URL of a user allowed to) and return the
    same URL naming the new database. Needs psycopg (the ``postgres`` extra)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(name, safe="")))


def main(argv: Sequence[str] | None = None) -> int:
    """Start a server, print its URL, wait until Ctrl-C (or SIGTERM), stop it. It takes no options: `--help` says
    so and what it does (before, `--help` or any argument was ignored and a server started)."""
    argparse.ArgumentParser(
        prog="python -m bulkload.sandbox.postgres",
        description="Start a throwaway PostgreSQL server on 127.0.0.1, print its URL, and run until Ctrl-C, which "
        "stops it and deletes its data (docs/postgresql.md).",
    ).parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with running() as server:
            print(server.url, flush=True)
            print(f"PostgreSQL runs (data in {server.home}); Ctrl-C stops it and deletes the data", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
