"""The record of loads refuses a file loaded twice into one place, and only there: the same file into another
e-conomic journal or agreement, or another HaloPSA resource, is another load (found by a tester: a migration's
opening balances loaded into a second journal were refused as a load twice). Against the sandboxes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, write_entries

from bulkload import Job, dry_run, load
from bulkload.errors import ConfigError
from bulkload.loads import cache_dir
from bulkload.sandbox import SandboxOptions, running

#: every test here ends in seconds; a hang fails it instead of stalling the run
BOUND_S = 60


def without_journals(path: Path, vouchers: int, seed: int = 1) -> Path:
    """Opening balances as a migration writes them: balanced vouchers whose rows name no journal."""
    named = path.with_suffix(".named.csv")
    write_entries(named, vouchers, seed=seed)
    with open(named, newline="", encoding="utf-8") as src, open(path, "w", newline="", encoding="utf-8") as out:
        rows = list(csv.DictReader(src))
        w = csv.DictWriter(out, [f for f in rows[0] if f != "journalNumber"])
        w.writeheader()
        w.writerows({k: v for k, v in row.items() if k != "journalNumber"} for row in rows)
    return path


def economic(tmp_path: Path, data: Path, url: str, name: str, journal: int | None = None, **kw: Any) -> Job:
    return Job(
        target="economic",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        rejects=str(tmp_path / f"{name}.csv"),
        target_options={"journal": journal},
        **kw,
    )


async def in_journal(url: str, journal: int, grant: str = CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]) -> int:
    headers = {"X-AppSecretToken": "a", "X-AgreementGrantToken": grant}
    params = {"filter": f"journalNumber$eq:{journal}"}
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + "/draft-entries/count", params=params) as r:
        return int(await r.json())


async def test_the_same_file_into_another_journal_is_loaded_and_into_the_same_one_refused(tmp_path: Path) -> None:
    data = without_journals(tmp_path / "opening.csv", 20)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            first = await load(economic(tmp_path, data, url, "j1", 1), env=CREDS)
            # before: refused as "already loaded", though journal 2 held none of it
            second = await load(economic(tmp_path, data, url, "j2", 2), env=CREDS)
            with pytest.raises(ConfigError, match=r"already loaded into .* \(journal 2\) .*j2\.sqlite"):
                await load(economic(tmp_path, data, url, "j2-again", 2), env=CREDS)
            with pytest.raises(ConfigError, match=r"already loaded into .* \(journal 1\) .*j1\.sqlite"):
                await load(economic(tmp_path, data, url, "j1-again", 1), env=CREDS)
            held = [await in_journal(url, 1), await in_journal(url, 2)]
    assert (first.exit_code, first.loaded, second.exit_code, second.loaded) == (0, 40, 0, 40)
    assert held == [40, 40]
    assert not (tmp_path / "j2-again.sqlite").exists() and not (tmp_path / "j1-again.sqlite").exists()


@pytest.mark.parametrize("first_journal, then_journal", [(None, 1), (1, None)])
async def test_rows_that_name_their_journal_are_refused_where_they_would_land_again(
    tmp_path: Path, first_journal: int | None, then_journal: int | None
) -> None:
    # every row names journal 1: with --journal 1 or without, they land in journal 1 both times
    data = tmp_path / "named.csv"
    write_entries(data, 20, journal=1)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            first = await load(economic(tmp_path, data, url, "first", first_journal), env=CREDS)
            with pytest.raises(ConfigError, match="already loaded"):
                await load(economic(tmp_path, data, url, "then", then_journal), env=CREDS)
            held = await in_journal(url, 1)
    assert first.loaded == held == 40


async def test_a_record_written_before_loads_had_places_still_refuses(tmp_path: Path) -> None:
    # the record of a user who loaded before: no "to" in its entries; where that load went is not known, so a load
    # of the file is refused whichever journal it gives
    data = without_journals(tmp_path / "opening.csv", 10)
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            await load(economic(tmp_path, data, url, "old", 1), env=CREDS)
            record = cache_dir() / "loads.jsonl"
            entries = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line]
            assert any(e.get("to") == {"journal": "1"} for e in entries)
            record.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "to"}) + "\n" for e in entries))
            for journal in (1, 2):
                with pytest.raises(ConfigError, match=r"already loaded into \S+ \(.*old\.sqlite"):
                    await load(economic(tmp_path, data, url, f"new{journal}", journal), env=CREDS)
            assert await in_journal(url, 2) == 0


async def test_the_same_file_into_another_agreement_is_loaded(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 10)
    other = {**CREDS, "ECONOMIC_AGREEMENT_GRANT_TOKEN": "another-agreement"}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            first = await load(economic(tmp_path, data, url, "a"), env=CREDS)
            second = await load(economic(tmp_path, data, url, "b"), env=other)
            with pytest.raises(ConfigError, match="already loaded"):
                await load(economic(tmp_path, data, url, "b-again"), env=other)
            held = [await in_journal(url, 1), await in_journal(url, 1, other["ECONOMIC_AGREEMENT_GRANT_TOKEN"])]
    assert (first.loaded, second.loaded) == (20, 20)
    assert held == [20, 20]


async def test_the_same_content_into_another_halopsa_resource_is_loaded(tmp_path: Path) -> None:
    # one content under two names: each file's resource is its name's, two places
    xero, kashflow = tmp_path / "XeroDetails.csv", tmp_path / "KashflowDetails.csv"
    xero.write_text("name\nNorthwind IT\nIronclad Support\n", encoding="utf-8")
    kashflow.write_bytes(xero.read_bytes())
    env = {"HALO_CLIENT_ID": "halo-test-client", "HALO_CLIENT_SECRET": "halo-test-secret"}

    def job(data: Path, name: str) -> Job:
        ledger, rejects = str(tmp_path / f"{name}.sqlite"), str(tmp_path / f"{name}.csv")
        return Job(target="halopsa", files=[str(data)], base_url=url, ledger=ledger, rejects=rejects)

    with anyio.fail_after(BOUND_S):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            first = await load(job(xero, "xero"), env=env)
            second = await load(job(kashflow, "kashflow"), env=env)  # before: refused
            with pytest.raises(ConfigError, match=r"already loaded into \S+ \(resource XeroDetails\)"):
                await load(job(xero, "xero-again"), env=env)
    assert (first.loaded, second.loaded) == (2, 2)


def test_two_places_are_one_unless_a_setting_both_give_differs() -> None:
    from bulkload.loads import same_place

    assert same_place({}, {}) and same_place({}, {"journal": "1"}) and same_place({"journal": "1"}, {})
    assert same_place({"journal": "1"}, {"journal": 1})
    assert not same_place({"journal": "1"}, {"journal": "2"})
    assert not same_place({"resource": "XeroDetails", "tenant": "a"}, {"resource": "KashflowDetails"})
    assert same_place({"resource": "XeroDetails", "tenant": "a"}, {"resource": "XeroDetails"})


SAMPLES = Path(__file__).resolve().parent.parent / "bulkload" / "samples"


def _rejected(path: Path) -> dict[int, tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {int(row["line"]): (row["journalNumber"], row["reason"]) for row in csv.DictReader(f)}


async def test_journal_given_rejects_only_the_rows_of_other_journals(tmp_path: Path) -> None:
    # found by a tester: the first 30 sample rows with --journal 1 loaded 8 and rejected 22: vouchers 1004-1008,
    # whole and balanced, were refused as beside lines that "name no voucher that can be read (journal 2, not
    # --journal 1)", though those lines name journal 2's voucher 5001 in full. Only the other journals' rows are
    # refused; a dry run says so too, and their rejects file loaded again with --journal 1 is refused the same
    data = tmp_path / "e.csv"
    sample = (SAMPLES / "economic" / "entries.csv").read_text(encoding="utf-8")
    data.write_text("".join(sample.splitlines(keepends=True)[:31]), encoding="utf-8")
    others = {11, 12, 13, 14, 21, 22, 26, 27}
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            dry = dry_run(economic(tmp_path, data, url, "dry", 1), env=CREDS)
            got = await load(economic(tmp_path, data, url, "j1", 1), env=CREDS)
            rejected = _rejected(tmp_path / "j1.csv")
            again = await load(economic(tmp_path, tmp_path / "j1.csv", url, "again", 1), env=CREDS)
            held = [await in_journal(url, j) for j in (1, 2, 3)]
    assert (got.exit_code, got.loaded, got.rejected) == (1, 22, 8), got
    assert (dry.would_load, dry.rejected) == (22, 8), dry
    assert set(rejected) == others, rejected
    assert all(j != "1" and f"names journal {j} but --journal 1" in why for j, why in rejected.values()), rejected
    assert (again.exit_code, again.loaded, again.rejected) == (1, 0, 8), again
    assert held == [22, 0, 0]
