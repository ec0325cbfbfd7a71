"""The one exception tree of bulkload. Every error knows whether retrying can help, and the exit code it ends a
run with (`exit_code`, the codes docs/report.md gives: a row's fault goes to the rejects and gives 1 at the end).

    BulkloadError
    ├── ConfigError              usage or configuration: bad flag, missing credential, unreadable file (exit 2)
    │   ├── LedgerError          the ledger belongs to another run, is locked, or is not a ledger
    │   │   ├── LedgerUnavailable in use by another process now, or its PostgreSQL out of reach: a later try may
    │   │   │                    have it (a queued job's stop, retried)
    │   │   ├── SharedUnfinished the input shares groups with an earlier run that has not finished
    │   │   ├── EarlierUnread    the ledger of an earlier load that may hold the input's groups is gone, or this
    │   │   │                    load cannot read it (a read-only mount, the other backend)
    │   │   ├── UnderWayAlongside another run loads into the same place now (HaloPSA: one run at a time a resource)
    │   │   └── LeftCommitting  a run that ended there left calls the API may still be committing (HaloPSA)
    │   ├── RolledBack           a manifest job whose run was rolled back (or is being): neither resumed nor loaded
    │   │                        again where its ledger is
    │   ├── LoadedBefore         the file's content was already loaded into the same place (the record of loads)
    │   ├── OtherKeyBefore       an earlier load brought groups of the input to the same address with another key:
    │   │                        another account's, or this one's renewed (PayorCRM: one address, many accounts)
    │   ├── Redirected           the API answered a call with a redirect: not followed (the credentials would go along)
    │   ├── Unreachable          the first call of a run found no API there (no such name, nothing listening), or a
    │   │                        TLS certificate that does not verify: a wrong address is not retried as a fault
    │   ├── TokenRefused         the token endpoint refused the credentials (an OAuth 400, 401 or 403)
    │   ├── OtherAccount         a command's credentials are for another agreement or tenant than its run's ledger
    │   │                        says the run wrote into: refused before its first call
    │   ├── WrongEndpoint        a chunk's call answered 404, 405 or 415: no such call at that address
    │   └── ExpansionRefused     a gzip input expands far more than any export (a gzip bomb): refused before sending
    ├── SourceError              the input cannot be read any further (exit 4, after what was read is accounted)
    │   └── FileChanged          an input's size or mtime is not what it was when it was hashed: it is being written
    ├── TransportError           the request did not get an answer (retryable)
    │   ├── ConnectError         refused before anything was sent: always safe to retry
    │   └── MaybeSentError       timeout or dropped connection after sending: the server may have acted
    ├── APIError                 the server answered with an error status
    │   ├── RateLimited          429: wait for Retry-After (retryable)
    │   ├── ServerError          5xx (retryable)
    │   ├── AuthError            401 / 403: credentials refused (final, exit 2)
    │   ├── BadRequest           400 / 422: the body was refused; `errors` may name the bad items (final)
    │   │   └── RefusedInAnswer  a 2xx answer whose body refuses the call, naming items by index (PayorCRM)
    │   └── Conflict             409 (final)
    ├── BadAnswer                a 2xx answer bulkload cannot read: not JSON, a field missing or of the wrong type
    │   └── AnswerTooLarge       longer than the call's cap (`Api.answer_bytes`): the rest is not read
    ├── PlanningFailed           the planning process ended without finishing its plan: a bug, or it died (exit 4)
    │   └── PlanningFileError    the system refused a file planning uses (its spill file, the ledger it reads, an
    │                            input: disk full, I/O error, gone): fix that, then resume
    ├── RowInvalid               a row failed local validation: it goes to the rejects, never sent (exit 1)
    │   └── RowInDoubt           a row that cannot be checked now and that the run may have sent: in doubt, not sent
    ├── RowsRefused              rows a call cannot carry (`RecordKind.call_for`): they go to the rejects (exit 1)
    ├── FoundOther               a look for a lost write found another writer's values: in doubt, never sent again
    └── RunStopped               the run cannot go on now but can be resumed (quota, retries exhausted; exit 4)
        ├── WalkStalled          a cursor walk that does not get anywhere: a cursor repeats or goes back (exit 4)
        ├── IsolationSpent       refusals that name no entry cost more calls than isolating them is worth (exit 4)
        ├── Throttled            429s past what a call may wait: a long Retry-After, or 429 to every try (exit 4)
        ├── LedgerWriteError     a ledger write failed (disk full, I/O error, file gone): resume once it is fixed
        ├── WritesRefused        the system refused the writes a command needs before its first call (the ledger
        │                        made or opened, bulkload's cache: a full disk, a quota, an I/O error): nothing was
        │                        sent; the same command again once that is fixed
        ├── HeldBack             a call that had not left when a ledger write failed: not sent, left as the ledger has
        │                        it
        └── NoToken              no usable access token (the token endpoint failed, or answered no token): the call
                                 that needed one was not sent

Every other error of ours ends a run with exit 4 (resumable). aiohttp's exceptions never escape the dispatch layer:
they are translated there with ``raise ... from exc``. An error is not changed once made: where one is known to be in
doubt only later, a copy says so (`BulkloadError.in_doubt`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shlex
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from .redact import without_password

#: exit codes, as docs/report.md#exit-codes gives them
EXIT_OK, EXIT_ROWS, EXIT_USAGE, EXIT_MISMATCH, EXIT_STOPPED = 0, 1, 2, 3, 4

#: how to install what a PostgreSQL ledger and the queue need (psycopg, procrastinate): bulkload is installed from
#: its checkout, not from a package index
POSTGRES_EXTRA = "in bulkload's checkout, pip install -e '.[postgres]'"


def cause_of(exc: BaseException) -> BaseException:
    """The error an exception group carries (a task group's, nested ones' too): the first of ours (or an interrupt),
    else the first of any kind; `exc` itself when it is no group. What a command reports, and what rollback raises
    for its workers' errors."""
    while isinstance(exc, BaseExceptionGroup):
        ours = [
            e
            for e in exc.exceptions
            if isinstance(e, BulkloadError | KeyboardInterrupt | asyncio.CancelledError | BaseExceptionGroup)
        ]
        exc = (ours or list(exc.exceptions))[0]
    return exc


def pasted(where: str | os.PathLike[str]) -> str:
    """A path or URL as a way on (a command to paste) gives it: a URL without its password (`without_password`:
    libpq takes it from PGPASSWORD or ~/.pgpass, which a password in the URL, shown as ***, would override) and
    quoted where a shell must have it quoted (a space, a quote, the `?` of a PostgreSQL ledger's URL); a relative path
    that begins with "-" as ./-… (`no_option`)."""
    return shlex.quote(no_option(without_password(str(where))))


def no_option(path: str) -> str:
    """A path as a command's argument gives it: one that begins with "-" (an input named -lead.csv), which the
    command would read as an option, as ./-…"""
    return f"./{path}" if path.startswith("-") else path


def no_room(exc: BaseException) -> bool:
    """Whether `exc` says there is no room to write: a full disk (SQLite's SQLITE_FULL, ENOSPC), a disk quota spent
    (EDQUOT) or a file grown past what the process may write (EFBIG: `ulimit -f`)."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def write_refused(exc: BaseException) -> bool:
    """Whether `exc` is the system refusing a write (`no_room`, or an I/O error: SQLite's SQLITE_IOERR and its
    extended codes, which is what it says of a write past `ulimit -f` too), not a path or a permission to correct."""
    code = getattr(exc, "sqlite_errorcode", None)
    return no_room(exc) or getattr(exc, "errno", None) == errno.EIO or (code is not None and code & 0xFF == 10)


def command_on(command: str, ledger: str | os.PathLike[str]) -> str:
    """`bulkload COMMAND --ledger LEDGER` as a way on gives it (`pasted`): pasted as it is, it says the same
    ledger."""
    return f"bulkload {command} --ledger {pasted(ledger)}"


def killed_while_made(draft: str) -> str:
    """What `no ledger at …` goes on to say where the draft of a ledger being made is left (`draft`: its file or
    schema): its load was killed before the ledger was whole, so before its first call (the ledger is made first)."""
    return (
        f": the load that was making it was stopped before it was made ({draft} is the draft it left), before its "
        "first call: it created nothing in the API. Run the same `bulkload load` again (it removes the draft)"
    )


def manifest_command(manifest: str | os.PathLike[str], *, resume: bool = False, queue: str | None = None) -> str:
    """`bulkload run MANIFEST` as a way on gives it (`pasted`, the manifest's own path): with `--resume` (`resume`),
    or for jobs a worker runs, `--queue URL` (`queue`: the queue's URL; queued again, a job goes on from its
    ledger)."""
    flag = f" --queue {pasted(queue)}" if queue is not None else " --resume" if resume else ""
    return f"bulkload run {pasted(manifest)}{flag}"


#: statuses that answer a call at a path the API does not have (WrongEndpoint)
NO_SUCH_CALL = (404, 405, 415)


class BulkloadError(Exception):
    """Base of every error bulkload raises on purpose. `uncertain`: an earlier attempt of the same call may have
    been acted on (some errors always say so)."""

    retryable: ClassVar[bool] = False
    exit_code: ClassVar[int] = EXIT_STOPPED
    uncertain: bool = False

    def __init__(self, *args: object, uncertain: bool = False) -> None:
        super().__init__(*args)
        if uncertain:
            self.uncertain = True

    def in_doubt(self) -> Self:
        """This error for a call an earlier attempt of which may have been acted on: itself when it says so
        already, else a copy that does (raise it ``from`` this one)."""
        if self.uncertain:
            return self
        twin = type(self).__new__(type(self), *self.args)
        twin.__dict__.update(self.__dict__)
        twin.uncertain = True
        return twin

    def advised(self, then: str) -> Self:
        """A copy of this error whose message ends with `then`, what the user does next (raise it ``from`` this one)."""
        return self.retold(f"{self}; {then}")

    def retold(self, said: str) -> Self:
        """A copy of this error (its type, status, doubt: all it carries) whose message is `said` (raise it ``from``
        this one)."""
        twin = type(self).__new__(type(self), *self.args)
        twin.__dict__.update(self.__dict__)
        twin.args = (said,)
        return twin


class KeyOutlived(BulkloadError):
    """An attempt of a call an earlier process sent, replayed with its idempotency key, was about to leave after the
    API may have forgotten that key (pipeline.key_kept): a wait for the limits or the retries outlived it, and sent
    then, a call whose earlier attempt landed would be carried out again. Not sent; the call is in doubt, for the
    next `bulkload resume` to look for. The message is the reason (pipeline.key_untrusted's)."""


class ConfigError(BulkloadError):
    """The run was asked for something it cannot do as configured."""

    exit_code = EXIT_USAGE


class MappedTwice(ConfigError):
    """A CSV header two of whose columns are one field after the [columns] mapping (a debit and a credit column both
    mapped to amount): `field` names it, and `said` is the message without its remedy (one of the two mapped to
    another field or dropped), for a refusal that knows the field's record kind to say what a file gives instead."""

    def __init__(self, said: str, field: str, columns: tuple[int, int] = (0, 1)) -> None:
        super().__init__(f'{said}; map one of them to another field, or to "" to drop it')
        #: the two columns, counted from 1 as the message names them
        self.said, self.field, self.columns = said, field, columns


class RolledBack(ConfigError):
    """A manifest job whose run was rolled back (`status` rolled_back) or is being (rolling_back: its rollback
    stopped part way): its ledger no longer says what the API holds, so it is neither resumed nor loaded again."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class LedgerError(ConfigError):
    """The ledger cannot be used for this run."""


class LedgerUnavailable(LedgerError):
    """The ledger cannot be had now: another process holds its lock (a run under way, or a worker taken for dead
    whose session is not yet gone), or its PostgreSQL cannot be reached. Exit 2 for a command (run it again once
    that process has ended); for a queued job the one refusal a later try may not meet: a resumable stop, retried
    (queue.run_queued)."""

    @classmethod
    def held(cls, where: object) -> Self:
        """The ledger at `where` (a path or a PostgreSQL ledger as messages name it) is held by another process now:
        the refusal with its way on (nothing was sent)."""
        return cls(
            f"the ledger {where} is in use by another bulkload process (a command on its run under way): once it "
            "has ended, run this command again; nothing was sent"
        )


class ChangedSinceRun(LedgerError):
    """An input of a run changed since it started (runner.resume): resume needs the very file it read. `path`: the
    file; `sha256`: its SHA-256 as the run read it; `ledger`: the run's; `can_delete`: its API can roll the run back
    (Api.can_delete); `whole`: a new run of the changed file creates only what this run did not. The message gives
    the command line's way on; `in_manifest` a manifest job's."""

    #: why a changed file whose rows are not all of a group is not loaded whole again
    NO_GROUP = (
        "a row of no group cannot be told from one this run created: loaded whole, it would be created again; a row "
        "this run loaded that has changed since is corrected in the API"
    )

    def __init__(
        self, path: str, sha256: str, ledger: str | os.PathLike[str], *, can_delete: bool, whole: bool = True
    ) -> None:
        self.path, self.sha256, self.ledger, self.can_delete = path, sha256, str(ledger), can_delete
        #: a new run of the changed file creates only what this run did not (again.creates_only_new); else only its
        #: rows added may go: its rows of no group, loaded whole, would be created again
        self.whole = whole
        new_run = (
            "load the changed file as a new run (another --ledger: it creates only what this run did not)"
            if whole
            else f"load only its rows added as a new run (another --ledger; {self.NO_GROUP})"
        )
        undo = f"; or roll the run back (`{command_on('rollback', ledger)}`), then {new_run}" if can_delete else ""
        super().__init__(self._said(f"`{command_on('resume', ledger)}`", new_run, undo))

    def _said(self, resume: str, then: str, undo: str) -> str:
        return (
            f"{self.path} changed since the run started; resume needs the same files: put back the file as it was "
            f"(SHA-256 {self.sha256[:12]}…) and continue the run with {resume}, then {then}{undo}"
        )

    def in_manifest(self, resume: str, agreement: str, set_aside: str, again: str) -> str:
        """The message for a manifest job: `resume`, the command that continues its run (its manifest_command);
        `agreement`: the job's; `set_aside`: how its ledger is set aside once rolled back (fleet._set_aside);
        `again`: the manifest run anew, which then loads the job's files as they are now."""
        new_job = (
            f'give the changed file a job of its own (a [[job]] of another name with agreement = "{agreement}": a '
            "new run, which creates only what this run did not)"
            if self.whole
            else f"give only its rows added a file and a job of their own (a [[job]] of another name with agreement = "
            f'"{agreement}"; {self.NO_GROUP})'
        )
        undo = (
            f"; or roll the run back (`{command_on('rollback', self.ledger)}`), {set_aside} (keep it: it says what "
            f"the rollback removed) and run the manifest again (`{again}`): the job loads its files as they are "
            "now, as a new run"
        )
        return self._said(f"`{resume}`", new_job, undo if self.can_delete else "")


class EarlierUnread(LedgerError):
    """The ledger of an earlier load into the same place, whose run may have created the input's groups, is gone or
    cannot be read by this load (runner._refuse_gone): what that run created cannot be told from what this load
    would create again. `fact`: which ledgers, why and what it means; `mend`: how a load would find and read it
    again, in `bulkload load`'s words; `in_a_manifest`: the same for a manifest job, whose ledger's place the
    manifest decides (not --ledger); `ledgers`: every one of them (paths, URLs without a password); `group`: the
    API's word for a group. Nothing was sent. The message gives the command line's way on; `in_manifest` a manifest
    job's."""

    def __init__(self, fact: str, mend: str, in_a_manifest: str, ledgers: list[str], group: str) -> None:
        self.fact, self.in_a_manifest, self.ledgers, self.group = fact, in_a_manifest, ledgers, group
        super().__init__(self._said(mend, "pass --forget-ledger with its path"))

    def _said(self, mend: str, forget: str) -> str:
        return (
            f"{self.fact} {mend}. If its run shares no {self.group} with this file, or its records were removed from "
            f"the API, {forget}: it is no longer looked for, by this load or a later one; nothing was sent"
        )

    def in_manifest(self, job: str, again: str) -> str:
        """The message for job `job` of a manifest (`again`: its manifest_command): the manifest's forget_ledger,
        its paths as TOML reads them (JSON's quoting)."""
        listed = ", ".join(json.dumps(ledger) for ledger in self.ledgers)
        forget = (
            f"set forget_ledger = [{listed}] in job {job!r}'s table of the manifest, then run the manifest again "
            f"(`{again}`)"
        )
        return self._said(self.in_a_manifest, forget)


class GoneUnsettled(EarlierUnread):
    """The ledger of a run into the same place of an API whose runs decide by what they listed before their first
    call (alongside.refuse_alongside) is gone, and that run never finished (loads.gone_made): it may have left
    calls whose records the API is still committing, which a run that lists before they land creates again (a
    tester: a HaloPSA --match-on load killed -9, its ledger deleted, the same file loaded at once: 30 records
    twice), and without its ledger no look settles them. `place`: the API and place, as messages name them;
    `named`: the runs, as loads.named_loads names them; `ledgers`: their paths. Nothing was sent."""

    def __init__(self, place: str, named: str, ledgers: list[str]) -> None:
        fact = (
            f"the ledger of a run that loaded into {place} is gone: {named}. That run never finished (killed, or "
            "stopped) and may have left calls whose records the API is still committing: a run that lists the "
            "records there before they land does not see them, and a record of one match key (--match-on) would be "
            "created twice; without its ledger no look can settle them."
        )
        mend = (
            "Put it back where it was and resume it (`bulkload resume --ledger PATH` settles its calls), then load "
            "this file again"
        )
        super().__init__(fact, mend, mend, ledgers, "record")

    def _said(self, mend: str, forget: str) -> str:
        return (
            f"{self.fact} {mend}. Where you know its calls have landed or never will (checked in the API), {forget}: "
            "it is no longer looked for, by this load or a later one (--allow-duplicate-load loads this once without "
            "it); nothing was sent"
        )


class SharedUnfinished(LedgerError):
    """Groups of the input belong to an earlier run that has not finished (ledger.known_to), so whatever that run
    does next could meet what this one does: nothing is sent. `fact`: how many groups, which, and whose (`ledger`);
    `status`: that run's (`rolling_back`: its rollback stopped part way, which only rollback continues);
    `can_delete`: it can also be undone; `under_way`: a process works on that run now (its resume would be refused
    until it ends); `belong`: the verb, agreeing with the fact ("1 voucher of this input … belongs"), "may
    belong" where it cannot be told (rows of no group: ledger.rows_known_to); `same_account`: that run went with
    another key the load says is its account's (PayorCRM), so its resume takes --same-account. The message gives
    the command line's way on; `in_manifest` a manifest job's."""

    def __init__(
        self,
        fact: str,
        ledger: str,
        status: str,
        *,
        can_delete: bool = False,
        under_way: bool = False,
        belong: str = "belong",
        same_account: bool = False,
    ) -> None:
        self.fact, self.ledger, self.status, self.can_delete = fact, ledger, status, can_delete
        self.under_way = under_way
        self._belong = belong
        resume = command_on("resume", ledger) + (" --same-account" if same_account else "")
        super().__init__(self._said(f"`{resume}`", "load this file again"))

    def renewed(self) -> SharedUnfinished:
        """This refusal of a load given --same-account whose unfinished run went with another key (PayorCRM): its
        resume with this load's key is refused without --same-account, so the way on names it (tester t57a)."""
        return SharedUnfinished(
            self.fact,
            self.ledger,
            self.status,
            can_delete=self.can_delete,
            under_way=self.under_way,
            belong=self._belong,
            same_account=True,
        )

    def _said(self, resume: str, again: str) -> str:
        if self.under_way:
            return (
                f"{self.fact} {self._belong} to a run under way now (ledger {self.ledger}: another bulkload works on "
                f"it): {again} once it has ended; nothing was sent"
            )
        if self.status == "rolling_back":
            return (
                f"{self.fact} {self._belong} to a run being rolled back (ledger {self.ledger}; its rollback stopped "
                f"part way): finish the rollback first (`{command_on('rollback', self.ledger)}`), then {again}; "
                "nothing was sent"
            )
        undo = f" or undo it (`{command_on('rollback', self.ledger)}`)" if self.can_delete else ""
        return (
            f"{self.fact} {self._belong} to a run that has not finished (ledger {self.ledger}, "
            f"{unfinished_state(self.status)}): finish it "
            f"first ({resume}){undo}, then {again}; nothing was sent"
        )

    def in_manifest(self, job: str, again: str, earlier: str | None = None) -> str:
        """The message for job `job` of a manifest, in a manifest's words (`again`: its manifest_command; `earlier`:
        how the earlier run is continued, see _resume_in_manifest)."""
        return self._said(_resume_in_manifest(self.ledger, earlier), f"run the manifest again (`{again}`)")


class UnderWayAlongside(LedgerError):
    """Another run loads into the same place of the API now (alongside.refuse_alongside): runs that decide by what
    they listed before their first call (HaloPSA) each list, side by side, before the other creates, so a record of
    one match key would be created twice. `place`: the API and place; `ledger`, `at`: the other run's ledger and
    when its load was put on record; `resuming`: said to a resume of `own` (its ledger). Nothing was sent. The
    message gives the command line's way on; `in_manifest` a manifest job's. `sets`: the runs set values on records
    that exist (a Visma Core costs file), and the message says why for them."""

    def __init__(
        self, place: str, ledger: str, at: str, *, resuming: bool = False, own: str = "", sets: bool = False
    ) -> None:
        self.place, self.ledger, self.at, self.sets = place, ledger, at, sets
        again = f"resume this run again (`{command_on('resume', own)}`)" if resuming else "load this file again"
        super().__init__(self._said(again))

    def _said(self, again: str) -> str:
        why = (
            "Side by side, a record both runs set would keep the values of whichever call lands last, the other "
            "run's as often as this one's"
            if self.sets
            else "Side by side, each run lists the records there before the other has created its own: a record of "
            "one match key (--match-on) would be created twice, and a look for a lost create could take the other "
            "run's record for its own"
        )
        return (
            f"another run loads into {self.place} now (ledger {self.ledger}, on record since {self.at}: another "
            f"bulkload works on it). {why}. {again[0].upper()}{again[1:]} once it has ended; nothing was sent"
        )

    def in_manifest(self, job: str, again: str) -> str:
        """The message for job `job` of a manifest, in a manifest's words (`again`: its manifest_command)."""
        return self._said(f"run the manifest again (`{again}`)")


class LeftCommitting(LedgerError):
    """A run into the same place of the API, not under way now, left calls whose records the API may still be
    committing (alongside.refuse_alongside): a run that lists the place before they land does not see them and
    creates them again. `place`, `ledger`, `at`: as UnderWayAlongside's; `why`: which calls, in a message's words;
    `resuming`: said to a resume of `own` (its ledger), which has no --allow-duplicate-load. Nothing was sent. The
    message gives the command line's way on; `in_manifest` a manifest job's."""

    def __init__(
        self, place: str, ledger: str, at: str, why: str, *, resuming: bool = False, own: str = "", undone: bool = False
    ) -> None:
        self.place, self.ledger, self.at, self.why, self.undone = place, ledger, at, why, undone
        if resuming:
            again, anyway = f"resume this run again (`{command_on('resume', own)}`)", ""
        else:
            again = "load this file again"
            anyway = (
                ". Where you know what became of them (checked in the API), --allow-duplicate-load loads without "
                "waiting for them"
            )
        super().__init__(self._said(again, anyway))

    def _said(self, again: str, anyway: str) -> str:
        settle = (
            f"`{command_on('resume', self.ledger)}` looks them up once the API can no longer be committing them "
            f"(--settle-s), or `{command_on('rollback', self.ledger)}` undoes that run; then {again}{anyway}"
        )
        if self.undone:  # resume refuses a run being rolled back, and its rollback leaves them, found by a look
            settle = (
                "that run is being rolled back, which `bulkload resume` refuses: "
                f"`{command_on('rollback', self.ledger)}` settles them, or names those it cannot (unsettled: a look "
                f"found records alike), whose records you remove by hand; then {again}{anyway}"
            )
        return (
            f"a run that loaded into {self.place} (ledger {self.ledger}, on record since {self.at}; no bulkload "
            f"works on it now) left {self.why}. A run that lists the records there before they land does not see "
            f"them: a record of one match key (--match-on) would be created twice. Settle them first: {settle}; "
            "nothing was sent"
        )

    def in_manifest(self, job: str, again: str) -> str:
        """The message for job `job` of a manifest, in a manifest's words (`again`: its manifest_command)."""
        return self._said(f"run the manifest again (`{again}`)", "")


class ListingLags(ConfigError):
    """A listing taken before a run's first call (Books.listed_first), whole by its count, leaves out records an
    earlier run into the same place was answered for less than the settle delay ago (alongside.earlier_runs): the API
    lists what it stored late (a read replica behind), and a row matched (--match-on) against it would create its
    record again. `left_out`: by that run's ledger, the ids left out, `said` in words; `wrote`: the latest last write
    of those runs (epoch seconds); `waited`: the run listed again once the settle delay had passed since, and they
    were still left out (run.py lists again where it had not). Nothing was sent."""

    def __init__(
        self,
        match_on: str,
        resource: str,
        left_out: Mapping[str, list[int]],
        said: str,
        *,
        wrote: float,
        waited: bool = False,
    ) -> None:
        self.match_on, self.resource, self.said = match_on, resource, said
        self.left_out, self.wrote, self.waited = dict(left_out), wrote, waited
        when = "still " if waited else ""
        super().__init__(
            f"--match-on {match_on}: the listing of {resource} before the first call {when}leaves out {said}, "
            f"{'--settle-s after' if waited else 'less than --settle-s after'} that run's last write ({_when(wrote)}): "
            "the API lists the records it stores late (a read replica behind?), and a row whose record was not listed "
            "would create it again; nothing was sent. Load this file again once the API lists them, with a "
            "--settle-s as long as the API's lag (the load waits that long after the earlier run's last write, and "
            "lists again)"
            + (
                ". Where they were deleted since (in HaloPSA, or by another program), they are gone, not late, and "
                "no listing will show them: load this file again now, past --settle-s, and their rows create them "
                "again"
                if waited
                else ""
            )
        )


class ListedBeforeAnother(LedgerError):
    """A resume of a run that listed the place before its first call (Books.listed_at), when another run into the
    same place of the API has written there since (alongside.refuse_alongside): its matches (--match-on) and its
    looks would go by a listing without that run's records, and create them again (a tester: 200 records twice).
    The old listing is kept, never taken again: the run's own records, created since, would be in a new one. So the
    run is rolled back and its files loaded as a new run, which lists what the other run left. `place`, `ledger`,
    `at`: as UnderWayAlongside's; `wrote`: when that run last wrote (None: its ledger is gone), `listed`: when this
    run listed (epoch seconds; 0.0: a ledger that does not say); `own`: this run's ledger. Nothing was sent. The
    message gives the command line's way on; `in_manifest` a manifest job's."""

    def __init__(self, place: str, ledger: str, at: str, *, wrote: float | None, listed: float, own: str) -> None:
        self.place, self.ledger, self.at, self.own = place, ledger, at, own
        self.listed = _when(listed) if listed else ""
        # None: its ledger is gone, which no longer says when
        self.wrote = (
            f"its last write {_when(wrote)}" if wrote is not None else "its ledger gone: when it wrote, unknown"
        )
        # dated before the listing, yet put on record after this run: the clock was stepped back
        self.stepped = wrote is not None and wrote < listed
        super().__init__(self._said(f"`{command_on('rollback', own)}`", "load its files again as a new run"))

    def _said(self, rollback: str, again: str) -> str:
        listed = f" at {self.listed}" if self.listed else " (its ledger does not say when)"
        if self.stepped:
            listed += (
                ", though the clock dates that write earlier: that run was put on record after this one, so the clock "
                "was stepped back between"
            )
        return (
            f"another run wrote into {self.place} (ledger {self.ledger}, on record since {self.at}; {self.wrote}) "
            f"after this run listed the records there{listed}, before its first call. Resumed, this "
            "run would match its rows (--match-on) against that listing, which lacks the other run's records, and "
            f"create them again. Roll this run back ({rollback}), then {again}: it lists the records there then, and "
            "a row the other run loaded matches its record; nothing was sent"
        )

    def in_manifest(self, job: str, again: str) -> str:
        """The message for job `job` of a manifest, in a manifest's words (`again`: its manifest_command)."""
        then = f"run the manifest again (`{again}`: it says how to load the job as a new run)"
        return self._said(f"`{command_on('rollback', self.own)}`", then)


def unfinished_state(status: str, under_way: bool = False) -> str:
    """How a run that has not finished is named by its ledger's `status` (the run's: "running", "stopped", …) and
    whether a process works on it now (`under_way`: Ledger.running): a ledger saying "running" whose process is
    gone was killed, or its machine stopped."""
    if under_way:
        return "under way now: another bulkload works on it"
    return "stopped without a word: killed?" if status == "running" else status


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _resume_in_manifest(ledger: str, earlier: str | None) -> str:
    """How a manifest job is told to continue an earlier run of the ledger `ledger`: `earlier`, where the caller
    knows that ledger for a job's of its manifest, or a queued job's (fleet.earlier_way: its manifest's command, as
    `bulkload resume` knows neither the manifest's credential variables nor the queue's shared budget); else by
    `bulkload resume`, or where that ledger is a manifest job's, by its manifest (which one, it does not say)."""
    if earlier is not None:
        return earlier
    manifest = "or where that ledger is a manifest job's, its manifest run again (--resume, or --queue)"
    return f"`{command_on('resume', ledger)}`, {manifest}"


class LoadedBefore(ConfigError):
    """A file's content was already loaded into the same place (loads.claim_load). `fact`: which file, where, when
    and under which ledger (`ledger`); `resuming`: said to a resume, whose own run created nothing; `status`: the
    earlier run's, where its ledger tells (`rolling_back`: its rollback stopped part way, which only rollback
    continues; once rolled back the file loads as a new run; complete: the run is said to have finished, with
    nothing of it to continue; another: it is said not to have finished, and to be continued; None, where its
    ledger cannot be read: to be continued if it has not finished; "running" is said as unfinished_state says it,
    by `under_way`: whether a process works on that run now; `gone`: no ledger is at that path now, moved aside or
    removed, so its state is not known: put back, it is continued, or its rollback finished); `anyway`: when the
    duplicate-load override is the way on (default: to create its records again all the same). The message gives the
    command line's way on; `in_manifest` a manifest job's."""

    def __init__(
        self,
        fact: str,
        ledger: str,
        *,
        resuming: bool = False,
        status: str | None = None,
        anyway: str | None = None,
        under_way: bool = False,
        gone: bool = False,
        other_key: bool = False,
    ) -> None:
        self.fact, self.ledger, self.resuming, self.status = fact, ledger, resuming, status
        self.under_way, self.gone = under_way, gone
        self.anyway = anyway or "to create its records again all the same"
        #: that load went with another key that names the account, at an address that serves many (PayorCRM): the
        #: way for another account's is told first (Job.other_account)
        self.other_key = other_key
        again = "resume this run again" if resuming else "load this file again"
        aside = "pass --other-account (the loads with other keys are set aside)"
        super().__init__(
            self._said(f"`{command_on('resume', ledger)}`", self._allow("pass --allow-duplicate-load", aside), again)
        )

    def _allow(self, allow: str, aside: str) -> str:
        """`allow`, after the way for another account's load (`aside`) where that load went with another key."""
        return f"{allow}; if it was another account's, {aside}" if self.other_key else allow

    def _said(self, resume: str, allow: str, again: str, seen: str = "") -> str:
        """The message: `resume` how the earlier run is continued, `allow` how this load is let create the records
        again, `again` how it is made again; `seen` where a run that finished is known (an aside, or "")."""
        if self.status == "complete":  # its ledger says it finished: nothing of it to continue, no "if"
            if self.resuming:
                return f"{self.fact}. This run created nothing and has nothing left to do: that run finished{seen}"
            return f"{self.fact}. That run finished{seen}; {self.anyway}, {allow}"
        if self.status == "rolling_back":
            finish = (
                "that run is being rolled back and its rollback stopped part way: finish it with "
                f"`{command_on('rollback', self.ledger)}`"
            )
            if self.resuming:
                return f"{self.fact}. This run created nothing; {finish}, then {again}"
            return (
                f"{self.fact}. But {finish}, then {again} (its records removed, it creates them as a new run); "
                f"{self.anyway}, {allow}"
            )
        if self.status is not None:  # its ledger says it did not finish: no "if"
            if self.resuming:
                return (
                    f"{self.fact}. This run created nothing and has nothing left to do; that run has not finished "
                    f"({unfinished_state(self.status, self.under_way)}): continue it with {resume}"
                )
            state = unfinished_state(self.status, self.under_way)
            then = "once it has ended, " if self.under_way else ""
            unfinished = f"That run has not finished ({state}): {then}continue it with {resume}"
            return f"{self.fact}. {unfinished}; {self.anyway}, {allow}"
        if self.gone:
            unknown = (
                f"That run's ledger is not at {self.ledger} now (moved aside or removed?): put it back there, then "
                f"continue that run with {resume} if it has not finished, or if its rollback stopped part way finish "
                f"that (`{command_on('rollback', self.ledger)}`) before the file loads as a new run"
            )
            if self.resuming:
                return f"{self.fact}. This run created nothing and has nothing left to do. {unknown}"
            return f"{self.fact}. {unknown}; {self.anyway}, {allow}"
        if self.resuming:
            return (
                f"{self.fact}. This run created nothing and has nothing left to do; continue that run with {resume} "
                "if it has not finished"
            )
        return f"{self.fact}. If that run has not finished, continue it with {resume}; {self.anyway}, {allow}"

    def in_manifest(self, job: str, again: str, earlier: str | None = None) -> str:
        """The message for job `job` of a manifest, in a manifest's words (`again`: its manifest_command; `earlier`:
        how the earlier run is continued, see _resume_in_manifest; for a run that finished, where it is known, an
        aside beginning with a space)."""
        table = f"in job {job!r}'s table of the manifest"
        return self._said(
            _resume_in_manifest(self.ledger, earlier),
            self._allow(f"set allow_duplicate_load = true {table}", f"set other_account = true {table}"),
            f"run the manifest again (`{again}`)",
            earlier if self.status == "complete" and earlier is not None else "",
        )


class OtherKeyBefore(ConfigError):
    """An earlier load (`ledger`) brought groups of the input to the same address with other credentials that name
    the account (`names`: PayorCRM's api_key) than this load gives (other_keys.refuse_other_key). Where one address
    serves many accounts (Credentials.shared_address), a key renewed for this account cannot be told from another
    account's: skipped as loaded, the groups would be missing from another account; created again, they would be
    doubled in this one. `fact`: which groups, where, when, under which ledger. Nothing was sent. The message gives
    the command line's way on; `in_manifest` a manifest job's."""

    def __init__(self, fact: str, names: tuple[str, ...]) -> None:
        self.fact, self.names = fact, names
        super().__init__(self._said("pass --other-account", "pass --same-account", "load again"))

    def _said(self, other: str, same: str, again: str) -> str:
        key = " and ".join(self.names)
        return (
            f"{self.fact} with another {key} than this load gives. One address of the API serves many accounts, "
            "and a key renewed for this account cannot be told from another account's (bulkload keeps a keyed "
            f"fingerprint of the key, never its value). If it is another account's, {other} and {again}: the loads "
            f"made with other keys are set aside, and what loads with this {key} created is still skipped as "
            f"loaded. If it is this account's, renewed since, {same} and {again}: what that load created is skipped "
            "as loaded. Nothing was sent"
        )

    def in_manifest(self, job: str, again: str) -> str:
        """The message for job `job` of a manifest (`again`: its manifest_command)."""
        table = f"in job {job!r}'s table of the manifest"
        return self._said(f"set other_account = true {table}", f"set same_account = true {table}", f"run `{again}`")


class Redirected(ConfigError):
    """The API answered with a redirect. Following it would send the credentials (and the records) to wherever it
    points, so the run stops instead: the API's address is for the user to give. `acted_on`: the redirect may
    follow the call's processing (a write answered 302 or 303, http.redirected): the call may have been carried out."""

    def __init__(self, message: str, *, acted_on: bool = False) -> None:
        super().__init__(message)
        self.acted_on = acted_on


class Unreachable(ConfigError):
    """No API at the address given: on the run's first call a name that does not resolve or a refused connection
    (later in a run a refused connection is a restart, and retried), and a TLS certificate that does not verify
    at any call. Retrying cannot fix an address: the run stops at once (exit 2)."""


#: how QueueUnreachable begins, the reason after it
UNREACHABLE_QUEUE = "cannot reach the queue's PostgreSQL: "


class QueueUnreachable(ConfigError):
    """The queue's PostgreSQL out of reach: at a command's start the URL or the server is wrong (exit 2); a worker
    that had reached it before waits and tries again (worker.run_worker)."""


class TokenRefused(ConfigError):
    """The token endpoint refused the credentials (HALO_CLIENT_ID / HALO_CLIENT_SECRET, the tenant, the auth URL)."""


class OtherAccount(ConfigError):
    """The credentials of a command that acts on an earlier run (resume, reconcile, rollback) are for another
    account than the one its ledger says the run wrote into (account.py): one address serves many (e-conomic's
    agreements), and what the command sends would act on that other account's records (a rollback deletes by the
    numbers the run was given). `ledger`: the run's; `noun`: the API's word for an account (agreement, tenant);
    `names`: the variables that name it; `renewable`: a resume may take a renewed key for the run's account on the
    user's word (account.renew). Nothing was sent. The message names the variables, never a value;
    `in_manifest` says it of a manifest job, whose credentials come from where the manifest says (`where`)."""

    def __init__(self, ledger: str, noun: str, names: tuple[str, ...], renewable: bool = False) -> None:
        self.ledger, self.noun, self.names = ledger, noun, names
        listed = " and ".join(names)
        then = f"set {listed} to the credentials of the run's {noun}, then run the command again"
        if renewable:  # one address, many accounts: only the user can say a new key is the run's account's
            then += (
                f" (where {listed} is the run's {noun}'s, renewed since and the old one revoked, "
                f"`{command_on('resume', ledger)} --same-account` goes on with it and keeps it)"
            )
        super().__init__(self._said(f"the credentials in the environment ({listed}) are", then))

    def _said(self, whose: str, then: str) -> str:
        return (
            f"{whose} for another {self.noun} than the one the run of {self.ledger} wrote into (its ledger keeps a "
            f"keyed fingerprint of them, never their values): with them, this command would act on that other "
            f"{self.noun}'s records. {then[0].upper()}{then[1:]}; nothing was sent"
        )

    def in_manifest(self, job: str, where: str, again: str) -> str:
        """The message for job `job` of a manifest, whose credentials come from `where` (its variables or file;
        `again`: its manifest_command)."""
        return f"job {job!r}: " + self._said(
            f"its credentials ({where}) are",
            f"give them the credentials of the run's {self.noun}, then run the manifest again (`{again}`)",
        )


class WrongEndpoint(ConfigError):
    """A chunk's call (or a call made for it) was answered 404, 405 or 415: the API has no such call at the address
    given (a wrong --base-url), and every other chunk would be answered the same."""


class ExpansionRefused(ConfigError):
    """A gzip input expands more than any export compresses (lines.MAX_RATIO times): read on, it would take
    minutes or hours of work for nothing, so it is refused before anything is sent."""


class SourceError(BulkloadError):
    """An input file cannot be read any further."""


class FileChanged(SourceError):
    """An input's size or modification time is no longer what it was when it was hashed (still being written, or
    rewritten): what the run loads is the hashed bytes and no more, and resume needs that same file."""


class TransportError(BulkloadError):
    """No answer came back."""

    retryable = True
    #: whether the request may have reached the server (decides in_doubt for non-idempotent targets)
    maybe_sent: ClassVar[bool] = True


class ConnectError(TransportError):
    maybe_sent = False


class MaybeSentError(TransportError):
    maybe_sent = True


class APIError(BulkloadError):
    """The server answered with an error status. `replayed`: the API's idempotency cache answered, replaying what
    it answered an earlier attempt with the same key (`X-ResultFromCache: true`): the same key gets it again.
    `retry_after`: the seconds its Retry-After asked to wait (http.retry_after_seconds; None without one), read on
    a 429 and a 5xx (RFC 9110 §10.2.3: with a 503, how long the service is expected to be unavailable)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        uncertain: bool = False,
        replayed: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: {message}", uncertain=uncertain)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.errors = errors or []
        self.replayed = replayed
        self.retry_after = retry_after


class RateLimited(APIError):
    retryable = True


class ServerError(APIError):
    retryable = True


class AuthError(APIError):
    exit_code = EXIT_USAGE


class BadRequest(APIError):
    pass


class RefusedInAnswer(BadRequest):
    """A 2xx answer whose body refuses the call, naming the refused items by index in `errors` as a 400 would (an
    API that documents no answer: PayorCRM, seed 004). Read as a refusal (`Api.refused`), final; its status is no
    error status, and the text says it was a 2xx."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(200, message, error_code="answered 2xx", errors=errors)
        self.args = (f"answered 2xx, but the answer refuses the call: {message}",)


class Conflict(APIError):
    pass


class BadAnswer(BulkloadError):
    """A 2xx answer that is not what the API documents (HTML, truncated JSON, a field missing or of the wrong type).
    Not retried: the same call gets the same answer. `acted_on`: the call may have changed something (a write);
    a read's or a token request's unreadable answer leaves nothing in doubt."""

    def __init__(self, message: str, *, acted_on: bool = False) -> None:
        super().__init__(message)
        self.acted_on = acted_on


class AnswerTooLarge(BadAnswer):
    """An answer longer than the call's cap: what the call asked for cannot be that long, and the rest is not read
    (memory stays bounded whatever the server sends)."""


class PlanningFailed(BulkloadError):
    """The planning process ended without finishing its plan: it died, or planning raised an error bulkload did not
    expect (a bug: the message names it in one line; its traceback is logged at DEBUG, -vv)."""


class PlanningFileError(PlanningFailed):
    """Planning met a file the system refused (``database or disk is full``, ``disk I/O error``, a folder gone): its
    spill file (regroup.py's, beside the ledger), the ledger it reads, an input. No bug: the message names the file
    (where it can) and SQLite's or the OS's words; the run stops before the rows it could not plan (resume once the
    disk or the file is fixed)."""


class RunStopped(BulkloadError):
    """The run stopped cleanly before the end; `bulkload resume` continues it. Raised by `load` and `resume` for a
    run that stopped after it began, `report` is that run's `bulkload.results.Report` (status "stopped", its
    `stop_reason`, the rows accounted so far, `exit_code` as the command line gives it); None for a run that
    stopped before it had one (and for the stops inside a run, which end up in its report)."""

    exit_code = EXIT_STOPPED
    #: a bulkload.results.Report (typed Any here: results.py imports this module for the exit codes)
    report: Any = None

    def __init__(self, *args: object, uncertain: bool = False, report: Any = None) -> None:
        super().__init__(*args, uncertain=uncertain)
        if report is not None:
            self.report = report


class WalkStalled(RunStopped):
    """A cursor walk stopped because it does not get anywhere: a cursor the walk was given before, pages that go
    back or bring nothing new, or more records than the API's count says there are."""


class IsolationSpent(RunStopped):
    """Isolating the entries of refused calls stopped: many calls were refused for one reason, or isolating cost
    more calls than its budget. The cause is for the user to fix; `bulkload resume` then sends the calls again."""


class Throttled(RunStopped):
    """The API answered 429 past what a call may wait (`RetryPolicy.total_s`): a Retry-After that long, or 429s to
    every try until the call's time was spent. The other calls under way would only wait as long: they are
    cancelled (side_by_side), not waited for."""


class LedgerWriteError(RunStopped):
    """SQLite refused a ledger write (``database or disk is full``, ``disk I/O error``, the file removed): the
    ledger translates every sqlite3 error of a write into this one, naming its path. The chunk being written stays
    as the ledger last had it (`sending`: whatever its call did is settled on resume), so it counts as possibly
    carried out."""

    uncertain = True


class WritesRefused(RunStopped):
    """The system refused the writes a command needs before its first call (`write_refused`: a full disk, a quota,
    `ulimit -f`, an I/O error), those that make or open the ledger, or make bulkload's cache (outputs.check_cache):
    nothing was sent, and the same command goes on once that is fixed. Before, exit 2, as if a setting were wrong
    (DESIGN.md: 2 is a usage or configuration error; a run that could not finish, resumable, 4)."""


class HeldBack(RunStopped):
    """A call that had not left (it waited for its place in the limits, a token or a connection) when a ledger write
    failed: the ledger could not record what it did, so it is not sent (Dispatcher.hold_back), and stays as the ledger
    has it, for resume to settle. `uncertain` where an earlier attempt of it left."""


class NoToken(RunStopped):
    """No usable access token could be had (the token endpoint down, or its answer no token): the call that needed
    it was not sent, and `bulkload resume` sends it."""


class RowInvalid(BulkloadError):
    """A row failed local validation; it goes to the rejects file and is never sent. `faults`: each (field, reason)
    it is refused for, in the order its checks met them (`also`: those after the first; a row already refused is
    read again for its other fields: chunking.Reading.every_fault); `field` and `reason` say them all (`joined`)."""

    exit_code = EXIT_ROWS

    #: where the row's outcome goes (RowOutcome.bucket)
    bucket: ClassVar[str] = "rejected"

    def __init__(self, field: str, reason: str, *, also: Sequence[tuple[str, str]] = ()) -> None:
        self.faults: tuple[tuple[str, str], ...] = ((field, reason), *also)
        field, reason = joined(self.faults) if also else (field, reason)
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


#: what stands before each field after the first in a reason of several (`joined`)
ALSO = "; also "


def joined(faults: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """A row's several faults ((field, reason), in the order met) as one field and one reason, as the rejects file
    gives them: the fields joined by "; " ("amount; date"), the first's reason, then each other's as
    "; also FIELD: REASON" ("not a number: '12.x4'; also date: not a valid date: …"). `first_fault` reads the first
    back."""
    (field, reason), *more = faults
    return "; ".join(f for f, _ in faults), reason + "".join(f"{ALSO}{f}: {r}" for f, r in more)


def first_fault(field: str, reason: str) -> tuple[str, str]:
    """The first fault (field, reason) of a row's `field` and `reason` as `joined` writes several; the two as they
    are for one."""
    first, sep, rest = field.partition("; ")
    if not sep:
        return field, reason
    second = rest.partition("; ")[0]
    cut = reason.find(f"{ALSO}{second}: ")
    return first, reason if cut < 0 else reason[:cut]


class RowInDoubt(RowInvalid):
    """A row that cannot be checked now, and that the run may have sent before (an adopted copy of its ledger lost
    what the check needs): in doubt (the in-doubt file), never sent, never in the rejects."""

    bucket = "in_doubt"


class FoundOther(BulkloadError):
    """Raised by `RecordKind.resolve` where a look for a lost write finds the record holding neither what the call
    sent nor what it held before: another writer changed it after (or instead of) the call. Sending the call again
    would overwrite that change without a word, so the call is in doubt for this reason (pipeline.Loader.look).
    `found`: what the look found, as a reason names it (the record, what it holds, what the call sent and what the
    record held before); `then`: what that means. `changed`: what the record held before the call was known, so it was
    certainly changed since (by a later run or another writer): a resend on the user's word is not sent over that
    (pipeline.Loader.in_flight). False where it was not known (a ledger of an older bulkload kept none)."""

    def __init__(self, found: str, then: str, *, changed: bool) -> None:
        super().__init__(f"{found}: {then}")
        self.found, self.changed = found, changed


class NotWhole(BulkloadError):
    """Raised by `RecordKind.resolve` where a look for a lost write found none of its records (or some, and not the
    others) in a listing that was not whole: what a listing leaves out is not proven absent, so whether the call was
    carried out cannot be told (as a look answering None), and why is the listing's (`why`: it moved while its pages
    were read, its record_count is below what it lists, …). A listing read while the run's own other writes land
    moves under them: once they have landed it may be whole, and a look then may tell (pipeline.Loader.look_again).
    `listing`: what was listed (the resource's name)."""

    def __init__(self, listing: str, why: str) -> None:
        super().__init__(f"its listing of {listing} was not whole: {why}")
        self.listing, self.why = listing, why


class RowsRefused(BulkloadError):
    """Raised by `RecordKind.call_for` for rows that cannot be sent (index -> (field, reason))."""

    exit_code = EXIT_ROWS

    def __init__(self, bad: dict[int, tuple[str, str]]) -> None:
        super().__init__(f"{len(bad)} row(s) cannot be sent")
        self.bad = bad
