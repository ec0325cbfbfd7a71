"""A rejects file the user changed since the run wrote it (fixed in place, as the summary says to) is never written
over by a command on that run: a resume of the run, finished or stopped, refuses before anything is sent and says how
to go on; one the user left as it was is written again as before. Found by a tester: a resume of a finished run wrote
the rejects file again, and the fixes in it were gone."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load, resume
from bulkload.errors import ConfigError, LedgerWriteError
from bulkload.ledger import Ledger
from bulkload.report import written_at
from bulkload.sandbox import SandboxOptions, build_app

BOUND_S = 60


async def _loaded(tmp_path: Path, origin: str) -> tuple[Path, Path]:
    data = tmp_path / "e.csv"
    write_entries(data, 6, bad_every=3)  # 2 rows of a date that is none: rejected
    rejects = tmp_path / "r.csv"
    job = economic_job(data, origin, tmp_path / "l.sqlite", rejects=str(rejects), batch_size=4)
    report = await load(job, env=CREDS)
    assert report.rejected == 2 and report.exit_code == 1, report
    return tmp_path / "l.sqlite", rejects


async def test_a_rejects_file_fixed_in_place_is_kept_by_a_resume(tmp_path: Path) -> None:
    with anyio.fail_after(BOUND_S):
        async with serving(build_app("economic", SandboxOptions())) as origin:
            ledger, rejects = await _loaded(tmp_path, origin)
            fixed = rejects.read_text(encoding="utf-8").replace("2026-02-30", "2026-02-28")
            rejects.write_text(fixed, encoding="utf-8")
            with pytest.raises(ConfigError) as refused:
                await resume(str(ledger), env=CREDS)
    assert rejects.read_text(encoding="utf-8") == fixed  # the user's fixes are there
    said = str(refused.value)
    assert f"{rejects} was changed since this run wrote it" in said and "nothing was sent" in said, said
    assert "bulkload load economic" in said, said  # the way on: load it as its own run
    assert "with the run's --base-url)" in said, said  # which the command leaves out (tester t37a: it said nothing)


async def test_a_rejects_file_left_as_written_is_written_again(tmp_path: Path) -> None:
    with anyio.fail_after(BOUND_S):
        async with serving(build_app("economic", SandboxOptions())) as origin:
            ledger, rejects = await _loaded(tmp_path, origin)
            written = rejects.read_bytes()
            again = await resume(str(ledger), env=CREDS)
            rejects.unlink()  # gone: written again, as after a disk that was full
            third = await resume(str(ledger), env=CREDS)
    assert again.rejected == third.rejected == 2
    assert rejects.read_bytes() == written


async def test_a_rejects_file_of_a_load_given_relative_paths_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load names its files as given (`e.csv`, its rejects `e.csv.rejects.csv` beside it), the resume as the
    ledger holds them (absolute): the digest is found all the same, and the fixed file kept."""
    monkeypatch.chdir(tmp_path)
    write_entries(tmp_path / "e.csv", 6, bad_every=3)
    rejects = tmp_path / "e.csv.rejects.csv"
    with anyio.fail_after(BOUND_S):
        async with serving(build_app("economic", SandboxOptions())) as origin:
            report = await load(economic_job(Path("e.csv"), origin, "e.csv.ledger.sqlite", batch_size=4), env=CREDS)
            assert report.rejected == 2, report
            fixed = rejects.read_text(encoding="utf-8").replace("2026-02-30", "2026-02-28")
            rejects.write_text(fixed, encoding="utf-8")
            with pytest.raises(ConfigError) as refused:
                await resume("e.csv.ledger.sqlite", env=CREDS)
    assert rejects.read_text(encoding="utf-8") == fixed, "the user's fixes were written over"
    assert "was changed since this run wrote it" in str(refused.value), refused.value


async def test_a_resume_from_another_folder_writes_the_rejects_given_relative_where_the_load_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load given `--rejects r.csv` (relative) and resumed from another working folder: the resume wrote the rejects
    and success files into its own folder, and the file fixed in place where the load wrote it went unseen."""
    there, elsewhere = tmp_path / "there", tmp_path / "elsewhere"
    there.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(there)
    write_entries(there / "e.csv", 6, bad_every=3)
    with anyio.fail_after(BOUND_S):
        async with serving(build_app("economic", SandboxOptions())) as origin:
            job = economic_job(Path("e.csv"), origin, "l.sqlite", rejects="r.csv", batch_size=4)
            assert (await load(job, env=CREDS)).rejected == 2
            fixed = (there / "r.csv").read_text(encoding="utf-8").replace("2026-02-30", "2026-02-28")
            (there / "r.csv").write_text(fixed, encoding="utf-8")
            monkeypatch.chdir(elsewhere)
            with pytest.raises(ConfigError, match="was changed since this run wrote it"):
                await resume(str(there / "l.sqlite"), env=CREDS)
            (there / "r.csv").unlink()  # moved away: written again, where the load wrote it
            assert (await resume(str(there / "l.sqlite"), env=CREDS)).rejected == 2
    assert (there / "r.csv").exists() and list(elsewhere.iterdir()) == []


async def test_a_rejects_file_written_whose_digest_the_ledger_refuses_is_said_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a tester (a full disk, `ulimit -f`): the rejects file was written whole, then the ledger refused the
    write of its digest, and the summary said `rejects: NOT WRITTEN to …`, the report `rejects_written: null` and
    `unwritten` "the rejects file", of a file that was there with every rejected row. The file is said written; what
    the ledger could not keep is named as its own, and the run stops resumable."""

    def refused(self: Ledger, digests: dict[str, str]) -> None:
        raise LedgerWriteError(f"cannot write the ledger {self.path}: database or disk is full")

    monkeypatch.setattr(Ledger, "set_rejects_written", refused)
    data, rejects = tmp_path / "e.csv", tmp_path / "r.csv"
    write_entries(data, 6, bad_every=3)  # 2 rows of a date that is none: rejected
    with anyio.fail_after(BOUND_S):
        async with serving(build_app("economic", SandboxOptions())) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", rejects=str(rejects), batch_size=4)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.status == "stopped" and report.exit_code == 4, report
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 3  # its header and both rejected rows
    assert report.rejects_written == 2, report
    assert not [u for u in report.unwritten or [] if u.startswith("the rejects file: ")], report.unwritten
    assert "NOT WRITTEN" not in written_at(report, "the rejects file", str(rejects))
