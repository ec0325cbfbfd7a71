"""A new load finds the earlier runs of its groups where their ledgers are (moved, then resumed from their new
path, or renamed in their folder), refuses while an earlier ledger that may hold its groups is gone or cannot be
read by it (a read-only mount, the other backend), and knows a file's content whether it comes plain or gzipped.
Each case was found by a tester creating records twice."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, remount, sandbox_read

from bulkload import Job, dry_run, load, loads, resume
from bulkload.errors import ConfigError, LedgerError
from bulkload.ledger import unreadable
from bulkload.outputs import cache_dir
from bulkload.sandbox import SandboxOptions, running

PAYOR = {"PAYORCRM_API_KEY": "test-key", "PAYORCRM_API_SECRET": "test-secret"}
HALO = {"HALO_CLIENT_ID": "halo-test-client", "HALO_CLIENT_SECRET": "halo-test-secret"}
ENTRIES = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"


def vouchers(path: Path, numbers: range) -> Path:
    path.write_text(
        ENTRIES
        + "".join(
            f"5,1,{v},2026-10-31,{v}.00,DKK,1010,v{v}\n5,1,{v},2026-10-31,-{v}.00,DKK,5600,v{v}\n" for v in numbers
        )
    )
    return path


async def journal_vouchers(url: str) -> list[int]:
    headers = {
        "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
        "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
    }
    out: list[int] = []
    params = {"filter": "journalNumber$eq:1"}
    async with aiohttp.ClientSession(headers=headers) as s:
        while True:
            async with s.get(url + "/draft-entries", params=params) as r:
                page = await r.json()
            out += [int(e["voucherNumber"]) for e in page["items"]]
            if not page.get("cursor"):
                return sorted(out)
            params = {**params, "cursor": page["cursor"]}


@pytest.mark.slow
async def test_an_unfinished_run_whose_ledger_was_renamed_still_stops_a_load_of_its_vouchers(tmp_path: Path) -> None:
    # before: the renamed ledger was not found, the second load created vouchers 1-6, and the resume of the
    # renamed ledger created the rest of them again
    first = vouchers(tmp_path / "a.csv", range(1, 7))
    second = vouchers(tmp_path / "b.csv", range(1, 8))

    def job(data: Path, url: str, **kw: Any) -> Job:
        return Job(target="economic", files=[str(data)], base_url=url, **kw)

    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            stopped = await load(job(first, url, batch_size=2, daily_quota=4), env=CREDS, raise_on_stop=False)
            assert stopped.status == "stopped"
            renamed = tmp_path / "run-a.sqlite"
            os.rename(f"{first}.ledger.sqlite", renamed)
            with pytest.raises(LedgerError, match=f"belong to a run that has not finished \\(ledger {renamed}"):
                await load(job(second, url), env=CREDS)
            assert (await resume(str(renamed), env=CREDS, daily_quota=1000)).status == "complete"
            again = await load(job(second, url, ledger=str(tmp_path / "b.sqlite")), env=CREDS)
            stored = await journal_vouchers(url)
    assert (again.loaded, again.skipped, again.exit_code) == (2, 12, 0)
    assert stored == sorted([v for v in range(1, 8) for _ in range(2)]), "a voucher was created twice"


def invoices(path: Path, numbers: list[str]) -> Path:
    rows = [["C1", n, "100", "DKK", "2026-12-01"] for n in numbers]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "dueDate"], *rows])
    return path


def payor_job(data: Path, url: str, ledger: Path | str, **kw: Any) -> Job:
    return Job(
        target="payorcrm",
        files=[str(data)],
        base_url=url,
        ledger=str(ledger),
        target_options={"kind": "invoices"},
        **kw,
    )


async def customer_c1(url: str, folder: Path) -> None:
    """The customer the invoices are for (PayorCRM refuses an invoice of an unknown customer)."""
    (folder / "c1.csv").write_text("customerno,emailaddress1\nC1,c1@example.com\n")
    job = Job(
        target="payorcrm",
        files=[str(folder / "c1.csv")],
        base_url=url,
        ledger=str(folder / "c1.sqlite"),
        target_options={"kind": "customers"},
    )
    assert (await load(job, env=PAYOR)).loaded == 1


async def uploaded(url: str) -> list[str]:
    return sorted(i["invoiceNumber"] for i in await sandbox_read(url, "invoices"))


@pytest.mark.slow
async def test_a_ledger_moved_elsewhere_and_resumed_there_is_found_by_the_next_load(tmp_path: Path) -> None:
    # before: the next load looked for the ledger where it was made, found nothing, and uploaded N1 and N2 again
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await customer_c1(url, tmp_path)
            ledger = tmp_path / "first.sqlite"
            await load(payor_job(invoices(tmp_path / "n.csv", ["N1", "N2"]), url, ledger), env=PAYOR)
            moved = tmp_path / "kept" / "first.sqlite"
            moved.parent.mkdir()
            os.rename(ledger, moved)
            assert (await resume(str(moved), env=PAYOR)).status == "complete"  # records where it is now
            more = invoices(tmp_path / "more.csv", ["N1", "N2", "N3"])
            again = await load(payor_job(more, url, tmp_path / "more.sqlite"), env=PAYOR)
            got = await uploaded(url)
    assert (again.loaded, again.skipped, again.exit_code) == (1, 2, 0)
    assert str(moved) in again.groups.skipped_reasons[0]
    assert got == ["N1", "N2", "N3"], "an invoice was uploaded twice"


def remove_ledger(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.mark.slow
async def test_a_gone_ledger_that_may_hold_the_groups_stops_the_load_until_it_is_back_or_forgotten(
    tmp_path: Path,
) -> None:
    # before: with the earlier ledger gone, the corrected file uploaded N1 and N2 again, exit 0
    here = tmp_path / "loads"
    here.mkdir()
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await customer_c1(url, here)
            ledger = here / "first.sqlite"
            await load(payor_job(invoices(here / "n.csv", ["N1", "N2"]), url, ledger), env=PAYOR)
            os.rename(ledger, tmp_path / "aside.sqlite")  # gone from its folder
            more = invoices(here / "more.csv", ["N1", "N2", "N3"])
            with pytest.raises(LedgerError, match=f"is gone: {ledger} .*--forget-ledger"):
                await load(payor_job(more, url, here / "more.sqlite"), env=PAYOR)
            assert not (here / "more.sqlite").exists()
            # customers go elsewhere than invoices: no earlier load of invoices can hold them
            customers = here / "c.csv"
            customers.write_text("customerno,emailaddress1\nC9,c9@example.com\n")
            other = Job(
                target="payorcrm",
                files=[str(customers)],
                base_url=url,
                ledger=str(here / "c.sqlite"),
                target_options={"kind": "customers"},
            )
            assert (await load(other, env=PAYOR)).loaded == 1
            # put back where it was: found, and N1, N2 are skipped
            os.rename(tmp_path / "aside.sqlite", ledger)
            back = await load(payor_job(more, url, here / "more.sqlite"), env=PAYOR)
            assert (back.loaded, back.skipped) == (1, 2)
            remove_ledger(ledger)
            later = invoices(here / "later.csv", ["N4"])
            with pytest.raises(ConfigError, match="that ledger is there"):
                await load(
                    payor_job(later, url, here / "later.sqlite", forget_ledger=[str(here / "more.sqlite")]), env=PAYOR
                )
            with pytest.raises(LedgerError, match=f"is gone: {ledger} "):
                await load(payor_job(later, url, here / "later.sqlite"), env=PAYOR)
            # as written from another folder, "..": the file recorded (found by a tester: refused as no load's)
            written = str(tmp_path / "elsewhere" / ".." / "loads" / ledger.name)
            forgot = await load(payor_job(later, url, here / "later.sqlite", forget_ledger=[written]), env=PAYOR)
            # forgotten for good: a later load no longer looks for it
            last = await load(payor_job(invoices(here / "last.csv", ["N5"]), url, here / "last.sqlite"), env=PAYOR)
            got = await uploaded(url)
    assert forgot.loaded == 1 and last.loaded == 1
    assert got == ["N1", "N2", "N3", "N4", "N5"]


@pytest.mark.slow
async def test_an_earlier_ledger_this_load_cannot_read_stops_the_load_until_readable_or_forgotten(
    tmp_path: Path, mounted: Path
) -> None:
    # before: SQLite could not open the WAL ledger on the read-only mount, it was passed over as "nothing to
    # learn", and the corrected file uploaded N1 and N2 again, exit 0
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await customer_c1(url, tmp_path)
            ledger = mounted / "first.sqlite"
            await load(payor_job(invoices(tmp_path / "n.csv", ["N1", "N2"]), url, ledger), env=PAYOR)
            remount(mounted, "ro")
            more = invoices(tmp_path / "more.csv", ["N1", "N2", "N3"])
            with pytest.raises(LedgerError, match=f"cannot be read by this load: {ledger} .*unable to open") as got:
                await load(payor_job(more, url, tmp_path / "more.sqlite"), env=PAYOR)
            assert "read-only mount" in str(got.value) and "--forget-ledger" in str(got.value)
            assert not (tmp_path / "more.sqlite").exists() and await uploaded(url) == ["N1", "N2"]
            remount(mounted, "rw")  # readable again: N1 and N2 are skipped
            back = await load(payor_job(more, url, tmp_path / "more.sqlite"), env=PAYOR)
            assert (back.loaded, back.skipped) == (1, 2)
            remount(mounted, "ro")
            # the user's word that the unreadable ledger shares nothing with this file: taken
            later = invoices(tmp_path / "later.csv", ["N4"])
            forgot = await load(
                payor_job(later, url, tmp_path / "later.sqlite", forget_ledger=[str(ledger)]), env=PAYOR
            )
            got_all = await uploaded(url)
    assert forgot.loaded == 1
    assert got_all == ["N1", "N2", "N3", "N4"], "an invoice was uploaded twice"


def test_a_damaged_or_other_backends_earlier_ledger_is_one_this_load_cannot_read(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"not a database, " * 512)
    assert "file is not a database" in str(unreadable(damaged, str(tmp_path / "y.sqlite")))
    assert "SQLite file" in str(unreadable(damaged, "postgresql://u@h/db?ledger=y"))
    assert "PostgreSQL ledger" in str(unreadable("postgresql://u@h/db?ledger=x", str(tmp_path / "y.sqlite")))
    assert unreadable("postgresql://u@h/db?ledger=x", "postgresql://u:pw@h/db?ledger=y") is None
    # known_to reads only the schemas of its own database: one in another is not read
    assert "another database" in str(unreadable("postgresql://u@h/db?ledger=x", "postgresql://u@h/dbb?ledger=y"))


def test_a_postgresql_ledger_is_in_the_same_database_only_where_both_urls_say_so() -> None:
    from bulkload.ledger_pg import same_database

    assert same_database("postgresql://u@h:5432/db?ledger=x", "postgresql://v@h:5432/db?ledger=y")
    assert same_database("postgresql://u@h/db?ledger=x", "postgresql://u@h:5433/db?ledger=y")  # left out: ours
    assert not same_database("postgresql://u@h:5432/db?ledger=x", "postgresql://u@h:5432/dbb?ledger=y")
    assert not same_database("postgresql://u@h2/db?ledger=x", "postgresql://u@h/db?ledger=y")
    assert not same_database("postgresql://u@h:5433/db?ledger=x", "postgresql://u@h/db?ledger=y")  # unsure
    assert not same_database("postgresql://u@h/db?ledger=NO", "postgresql://u@h/db?ledger=y")


@pytest.mark.slow
async def test_an_earlier_ledger_of_the_other_backend_stops_the_load(tmp_path: Path, postgres_url: str) -> None:
    # before: a load with a PostgreSQL ledger passed over the earlier SQLite ledger (and the reverse), and the
    # corrected file uploaded N1 and N2 again, exit 0
    first, pg = tmp_path / "first.sqlite", f"{postgres_url}?ledger=first"
    n, more = invoices(tmp_path / "n.csv", ["N1", "N2"]), invoices(tmp_path / "more.csv", ["N1", "N2", "N3"])
    with anyio.fail_after(90):
        async with running("payorcrm", SandboxOptions()) as url:
            await customer_c1(url, tmp_path)
            await load(payor_job(n, url, first), env=PAYOR)
            with pytest.raises(LedgerError, match=f"cannot be read by this load: {first} .*, a SQLite file"):
                await load(payor_job(more, url, f"{postgres_url}?ledger=more"), env=PAYOR)
            assert await uploaded(url) == ["N1", "N2"]
        (tmp_path / "b").mkdir()
        async with running("payorcrm", SandboxOptions()) as url:  # the reverse, into an API of its own
            await customer_c1(url, tmp_path / "b")
            await load(payor_job(n, url, pg), env=PAYOR)
            with pytest.raises(LedgerError, match="cannot be read by this load: postgresql://.*=first .*PostgreSQL"):
                await load(payor_job(more, url, tmp_path / "b" / "more.sqlite"), env=PAYOR)
            later = invoices(tmp_path / "later.csv", ["N4"])
            with pytest.raises(ConfigError, match="this load reads it"):  # a PostgreSQL load reads it: kept
                await load(payor_job(later, url, f"{postgres_url}?ledger=later", forget_ledger=[pg]), env=PAYOR)
            forgot = await load(payor_job(later, url, tmp_path / "later.sqlite", forget_ledger=[pg]), env=PAYOR)
            got = await uploaded(url)
    assert forgot.loaded == 1
    assert got == ["N1", "N2", "N4"], "an invoice was uploaded twice"


@pytest.mark.slow
async def test_an_earlier_postgresql_ledger_in_another_database_stops_the_load(
    tmp_path: Path, postgres_server: str, postgres_url: str
) -> None:
    # before: known_to passed over the ledger in the other database, and the corrected file uploaded N1 and N2
    # again, exit 0
    import psycopg
    from psycopg import sql

    from bulkload.sandbox.postgres import create_database

    first, other = f"{postgres_url}?ledger=first", create_database(postgres_server, "hk_other")
    n, more = invoices(tmp_path / "n.csv", ["N1", "N2"]), invoices(tmp_path / "more.csv", ["N1", "N2", "N3"])
    try:
        with anyio.fail_after(90):
            async with running("payorcrm", SandboxOptions()) as url:
                await customer_c1(url, tmp_path)
                await load(payor_job(n, url, first), env=PAYOR)
                with pytest.raises(LedgerError, match="cannot be read by this load: postgres.*another database"):
                    await load(payor_job(more, url, f"{other}?ledger=more"), env=PAYOR)
                assert await uploaded(url) == ["N1", "N2"]
                # in the database of the earlier ledger: read, and N1, N2 skipped
                back = await load(payor_job(more, url, f"{postgres_url}?ledger=more"), env=PAYOR)
                later = invoices(tmp_path / "later.csv", ["N4"])
                with pytest.raises(ConfigError, match="this load reads it"):  # a load in that database reads it
                    await load(payor_job(later, url, f"{postgres_url}?ledger=later", forget_ledger=[first]), env=PAYOR)
                # the user's word that it shares nothing with this file: taken where it cannot be read
                forget = [first, f"{postgres_url}?ledger=more"]
                forgot = await load(payor_job(later, url, f"{other}?ledger=later", forget_ledger=forget), env=PAYOR)
                got = await uploaded(url)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier("hk_other")))
    assert (back.loaded, back.skipped) == (1, 2) and forgot.loaded == 1
    assert got == ["N1", "N2", "N3", "N4"], "an invoice was uploaded twice"


def halo_records(path: Path, n: int, first: int = 0) -> Path:
    """`n` XeroDetails records, numbered from `first`: records of one number are alike, which a later load skips as
    the records an earlier one created (docs/loading-again.md)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id", "tenant_name", "authorized"])
        w.writerows([[f"Acme {i} – Xero UK", f"tenant-{i}", f"Tenant {i}", "true"] for i in range(first, first + n)])
    return path


def halo_job(data: Path, url: str, ledger: Path) -> Job:
    return Job(
        target="halopsa",
        files=[str(data)],
        base_url=url,
        ledger=str(ledger),
        target_options={"resources": ["XeroDetails"]},
    )


async def halo_count(url: str) -> int:
    return len(await sandbox_read(url, "records/XeroDetails"))


@pytest.mark.slow
async def test_a_gzip_copy_of_a_loaded_file_is_the_same_content(tmp_path: Path) -> None:
    # before: the record of loads hashed the file's bytes, and the gzip copy created every record again, exit 0
    plain = halo_records(tmp_path / "XeroDetails.csv", 5)
    (tmp_path / "gz").mkdir()
    packed = tmp_path / "gz" / "XeroDetails.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            assert (await load(halo_job(plain, url, tmp_path / "plain.sqlite"), env=HALO)).loaded == 5
            with pytest.raises(ConfigError, match=f"{packed} was already loaded into .*plain.sqlite"):
                await load(halo_job(packed, url, tmp_path / "packed.sqlite"), env=HALO)
            # the other way round: a plain copy of a gzip file loaded before
            other = halo_records(tmp_path / "other.csv", 3, first=5)  # other records: created
            other_gz = tmp_path / "gz" / "other.csv.gz"
            other_gz.write_bytes(gzip.compress(other.read_bytes(), compresslevel=1))
            assert (await load(halo_job(other_gz, url, tmp_path / "other-gz.sqlite"), env=HALO)).loaded == 3
            with pytest.raises(ConfigError, match=f"{other} was already loaded into .*other-gz.sqlite"):
                await load(halo_job(other, url, tmp_path / "other.sqlite"), env=HALO)
            # a load of a gzip file on record by a bulkload from before (by its bytes alone) still counts
            record = cache_dir() / "loads.jsonl"
            entries = [json.loads(line) for line in record.read_text().splitlines() if line]
            kept = [e for e in entries if "run" not in e or "ino" in e or "status" in e]
            for e in entries:
                if (
                    "key" in e
                    and e["ledger"].endswith("other-gz.sqlite")
                    and e["key"].endswith(hashlib.sha256(other_gz.read_bytes()).hexdigest())
                ):
                    kept.append({k: v for k, v in e.items() if k != "run"})
            record.write_text("".join(json.dumps(e) + "\n" for e in kept))
            with pytest.raises(ConfigError, match=f"{other_gz} was already loaded into .*other-gz.sqlite"):
                await load(halo_job(other_gz, url, tmp_path / "again.sqlite"), env=HALO)
            # resume knows a gzip input by its bytes, as ledgers always did
            assert (await resume(str(tmp_path / "other-gz.sqlite"), env=HALO)).status == "complete"
            count = await halo_count(url)
    assert count == 8, "a record was created twice"


def test_a_load_recorded_before_entries_named_their_run_is_found_where_its_run_went(tmp_path: Path) -> None:
    # a load on record by a bulkload from before (no "run" in its entry): its run is the one tied to its ledger's
    # path just after it, and that run's ledger is where the record last saw it
    made, moved = tmp_path / "made.sqlite", tmp_path / "kept" / "moved.sqlite"
    made.write_bytes(b"")
    job = Job(
        target="payorcrm",
        files=[str(tmp_path / "n.csv")],
        base_url="http://127.0.0.1:9",
        target_options={"kind": "invoices"},
    )
    key = loads._api_key(job) + "0" * 64

    def tie(path: Path) -> dict[str, Any]:
        st = path.stat()
        return {"run": "r1", "ledger": str(path), "dev": st.st_dev, "ino": st.st_ino}

    entries = [{"key": key, "at": "2026-11-30 10:00:00", "ledger": str(made), "to": {"kind": "invoices"}}, tie(made)]
    moved.parent.mkdir()
    os.rename(made, moved)
    entries.append(tie(moved))
    record = cache_dir() / "loads.jsonl"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert loads.earlier_ledgers(job) == [moved]
    assert loads.unusable_ledgers(job, str(tmp_path / "new.sqlite"), "r2")[0] == []
    moved.unlink()
    gone, _ = loads.unusable_ledgers(job, str(tmp_path / "new.sqlite"), "r2")
    assert [g["ledger"] for g in gone] == [str(moved)]


@pytest.mark.slow
async def test_a_run_that_created_nothing_is_resumed_only_as_the_loads_since_allow(tmp_path: Path) -> None:
    # found by a tester: a run stopped by refused credentials before it created anything was resumed after a
    # corrected file had uploaded its invoice N1, without looking at that load: N1 was uploaded twice, exit 0
    from conftest import serving

    from bulkload.errors import RunStopped
    from bulkload.sandbox.payorcrm import create_app

    def priced(path: Path, rows: list[tuple[str, str]]) -> Path:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["customerNumber", "invoiceNumber", "invoiceAmount", "currency", "dueDate"])
            w.writerows([["C1", n, amount, "DKK", "2026-12-01"] for n, amount in rows])
        return path

    first = priced(tmp_path / "n.csv", [("N1", "100"), ("N2", "100")])
    with anyio.fail_after(60):
        async with serving(create_app(api_key=PAYOR["PAYORCRM_API_KEY"], api_secret="test-secret")) as url:
            await customer_c1(url, tmp_path)
            with pytest.raises(RunStopped, match="nothing was created"):  # its upload recorded, refused
                await load(payor_job(first, url, tmp_path / "n.sqlite"), env={**PAYOR, "PAYORCRM_API_SECRET": "no"})
            fixed = priced(tmp_path / "fixed.csv", [("N1", "110"), ("N3", "100")])
            assert (await load(payor_job(fixed, url, tmp_path / "fixed.sqlite"), env=PAYOR)).loaded == 2
            with pytest.raises(LedgerError, match=r"created nothing before it stopped.*invoice N1 .*fixed\.sqlite"):
                await resume(str(tmp_path / "n.sqlite"), env=PAYOR)
            assert await uploaded(url) == ["N1", "N3"]
            again = await load(payor_job(first, url, tmp_path / "n.sqlite"), env=PAYOR)  # started over
            got = await uploaded(url)
    assert (again.loaded, again.rejected, again.exit_code) == (1, 1, 1), again
    assert got == ["N1", "N2", "N3"], "an invoice was uploaded twice"


async def test_a_copy_of_a_loaded_file_is_told_the_file_whose_content_was_loaded(tmp_path: Path) -> None:
    # "copy.csv was already loaded into …" read as a load of copy.csv itself, which was never loaded (tester t36d)
    plain = halo_records(tmp_path / "XeroDetails.csv", 2)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(plain.read_bytes())
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            assert (await load(halo_job(plain, url, tmp_path / "plain.sqlite"), env=HALO)).loaded == 2
            with pytest.raises(ConfigError) as refused:
                await load(halo_job(copy, url, tmp_path / "copy.sqlite"), env=HALO)
    said = str(refused.value)
    assert said.startswith(f"{copy} was already loaded into "), said
    assert f"plain.sqlite) as {plain}, of the same content: loading it again would create" in said, said


async def test_a_halopsa_base_url_ending_in_api_is_told_the_address_not_the_credentials(tmp_path: Path) -> None:
    # the token call went to {base-url}/auth/token under /api, whose 401 invalid_token (a resource wanting a bearer
    # token, RFC 6750) was told "the token endpoint refused the credentials: … check HALO_CLIENT_ID and
    # HALO_CLIENT_SECRET" (tester t36d)
    plain = halo_records(tmp_path / "XeroDetails.csv", 2)
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            with pytest.raises(ConfigError) as refused:
                await load(halo_job(plain, url + "/api", tmp_path / "run.sqlite"), env=HALO)
            assert await halo_count(url) == 0
    said = str(refused.value)
    assert said.startswith("the token endpoint answered HTTP 401: "), said
    assert "the token call went to the API, not its token endpoint; check HALO_AUTH_URL (or --base-url)" in said, said
    assert "(--base-url is the instance's root, without /api)" in said, said
    assert "refused the credentials" not in said and "check HALO_CLIENT_ID" not in said, said


async def test_a_dry_run_given_forget_ledger_passes_over_the_gone_ledger_and_forgets_nothing(tmp_path: Path) -> None:
    # the refusal of a gone ledger says to pass --forget-ledger; a dry run given it was refused the same way, word for
    # word, as if the option were not there (tester t72c)
    here = tmp_path / "loads"
    here.mkdir()
    gone = here / "first.sqlite"
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = Job(target="economic", files=[str(vouchers(here / "a.csv", range(1, 3)))], base_url=url)
            assert (await load(replace(first, ledger=str(gone)), env=CREDS)).loaded == 4
            remove_ledger(gone)
            more = Job(target="economic", files=[str(vouchers(here / "b.csv", range(3, 5)))], base_url=url)
            with pytest.raises(LedgerError, match=f"is gone: {gone} .*--forget-ledger"):
                dry_run(more, env=CREDS)
            dry = dry_run(replace(more, forget_ledger=[str(gone)]), env=CREDS)
            assert dry.would_load == 4, dry
            with pytest.raises(ConfigError, match="no earlier load into .* has its ledger there"):
                dry_run(replace(more, forget_ledger=[str(here / "other.sqlite")]), env=CREDS)
            # the dry run forgot nothing: the load is refused until it is given --forget-ledger itself
            with pytest.raises(LedgerError, match=f"is gone: {gone} "):
                await load(more, env=CREDS)
            assert (await load(replace(more, forget_ledger=[str(gone)]), env=CREDS)).loaded == 4
