"""One PayorCRM address serves many accounts, told apart by the api_key (seed 004): a corrected invoice file loaded
with another key than the first load's was skipped as "loaded by an earlier run", exit 0, and the second account
got none of those invoices (tester t55a). A renewed key of the same account cannot be told from another account's,
so the load is refused before its first call, naming the key's variable and never its value; the user's word
(--allow-duplicate-load: another account; --same-account: this one, renewed) decides. Against the real sandbox on
loopback, judged by what it stored."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS, write_entries
from test_load_payorcrm import CUSTOMERS, INVOICES, stored, write
from test_load_visma_core import created
from test_load_visma_core import write as write_core

from bulkload import Job, dry_run, load, resume
from bulkload.errors import (
    EXIT_USAGE,
    ConfigError,
    LedgerError,
    LoadedBefore,
    OtherAccount,
    OtherKeyBefore,
    RunStopped,
    SharedUnfinished,
)
from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

KEY_A = {"PAYORCRM_API_KEY": "key-of-account-a", "PAYORCRM_API_SECRET": "secret-a"}
KEY_B = {"PAYORCRM_API_KEY": "key-of-account-b", "PAYORCRM_API_SECRET": "secret-b"}
FIRST = [["C1", "I-1", "100.00", "DKK", "2026-12-01"], ["C1", "I-2", "50.00", "DKK", "2026-12-01"]]
#: the corrected file: the two invoices again, and one the first file left out
CORRECTED = [*FIRST, ["C1", "I-3", "75.00", "DKK", "2026-12-01"]]


def invoices(tmp_path: Path, url: str, name: str, rows: list[list[str]], **kw: Any) -> Job:
    path = write(tmp_path / f"{name}.csv", INVOICES, rows)
    return Job(
        target="payorcrm",
        files=[str(path)],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        target_options={"kind": "invoices", "amount_unit": "major"},
        **kw,
    )


def both(tmp_path: Path, url: str, name: str, email: str, rows: list[list[str]]) -> Job:
    """A job of customer C1 (`email`) and the invoices `rows`, its files and ledger named after `name`."""
    customers = write(tmp_path / f"{name}-c.csv", CUSTOMERS, [["C1", email, name]])
    their = write(tmp_path / f"{name}-i.csv", INVOICES, rows)
    return Job(
        target="payorcrm",
        files=[],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        target_options={"customers": str(customers), "invoices": str(their), "amount_unit": "major"},
    )


async def first_load(tmp_path: Path, url: str) -> None:
    """Customer C1 and invoices I-1, I-2 loaded with account A's key."""
    assert (await load(both(tmp_path, url, "first", "a@example.com", FIRST), env=KEY_A)).loaded == 3


async def stopped_part_way(tmp_path: Path, url: str) -> Job:
    """After `first_load`, account A's run of invoices S-1 to S-5 stopped by its quota once S-1 and S-2 were created
    (the first load made 2 calls of it): its job."""
    rows = [["C1", f"S-{n}", "10.00", "DKK", "2026-12-01"] for n in range(1, 6)]
    await first_load(tmp_path, url)
    job = invoices(tmp_path, url, "stopped", rows, daily_quota=4, batch_size=1, concurrency=1)
    with pytest.raises(RunStopped, match="daily quota"):
        await load(job, env=KEY_A)
    return job


def refused_naming_the_key(said: str) -> None:
    assert "with another PAYORCRM_API_KEY than this load gives" in said, said
    assert "If it is another account's, pass --other-account and load again" in said, said
    assert "If it is this account's, renewed since, pass --same-account" in said and "Nothing was sent" in said, said
    for secret in (*KEY_A.values(), *KEY_B.values()):
        assert secret not in said, said


async def test_a_corrected_file_with_another_key_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            again = invoices(tmp_path, url, "corrected", CORRECTED)
            with pytest.raises(OtherKeyBefore) as err:
                dry_run(again, env=KEY_B)
            refused_naming_the_key(str(err.value))
            with pytest.raises(OtherKeyBefore) as err:
                await load(again, env=KEY_B)
            got = await stored(url, "invoices")
    assert err.value.exit_code == EXIT_USAGE
    refused_naming_the_key(str(err.value))
    assert "2 invoices of this input (e.g. invoice I-1) were given to" in str(err.value), err.value
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2"]  # account B was sent nothing
    assert not Path(again.ledger_path).exists()


@pytest.mark.parametrize("said", ["other_account", "allow_duplicate_load"])
async def test_another_account_said_loads_the_whole_file(tmp_path: Path, said: str) -> None:
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            again = invoices(tmp_path, url, "corrected", CORRECTED, **{said: True})
            report = await load(again, env=KEY_B)
            got = await stored(url, "invoices")
    assert (report.loaded, report.skipped, report.exit_code) == (3, 0, 0)
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-1", "I-2", "I-2", "I-3"]


async def test_the_same_account_said_skips_what_the_first_key_loaded(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            again = invoices(tmp_path, url, "corrected", CORRECTED, same_account=True)
            report = await load(again, env=KEY_B)
            got = await stored(url, "invoices")
    assert (report.loaded, report.skipped, report.exit_code) == (1, 2, 0)
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2", "I-3"]


async def test_the_same_key_still_skips_and_a_file_of_other_invoices_loads(tmp_path: Path) -> None:
    """Neither the first account's corrected file nor another account's own invoices are refused."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            same_key = await load(invoices(tmp_path, url, "corrected", CORRECTED), env=KEY_A)
            others = [["C1", "B-1", "10.00", "DKK", "2026-12-01"]]
            other_key = await load(invoices(tmp_path, url, "b", others), env=KEY_B)
            got = await stored(url, "invoices")
    assert (same_key.loaded, same_key.skipped) == (1, 2)
    assert (other_key.loaded, other_key.skipped, other_key.exit_code) == (1, 0, 0)
    assert sorted(i["invoiceNumber"] for i in got) == ["B-1", "I-1", "I-2", "I-3"]


async def test_the_same_file_with_another_key_says_the_key_differs(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            copy = dataclasses.replace(invoices(tmp_path, url, "first", FIRST), ledger=str(tmp_path / "copy.sqlite"))
            with pytest.raises(LoadedBefore) as err:
                await load(copy, env=KEY_B)
    said = str(err.value)
    assert "with another PAYORCRM_API_KEY than this load gives" in said, said
    assert "if it was another account's, pass --other-account (the loads with other keys are set aside)" in said, said
    assert KEY_A["PAYORCRM_API_KEY"] not in said and KEY_B["PAYORCRM_API_KEY"] not in said


def test_a_manifest_job_is_told_its_tables_keys() -> None:
    said = OtherKeyBefore("2 invoices of this input were given", ("PAYORCRM_API_KEY",)).in_manifest(
        "b", "bulkload run m"
    )
    assert "set other_account = true in job 'b''s table of the manifest and run `bulkload run m`" in said, said
    assert "set same_account = true in job 'b''s table of the manifest" in said, said


async def test_customers_and_invoices_shared_are_counted_by_their_kinds(tmp_path: Path) -> None:
    """Account B's customers and invoices files share customer C1 and invoices I-1, I-2 with account A's load: the
    refusal counted all three as the kind of the first ("3 customers", tester t56a)."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            job = both(tmp_path, url, "b", "b@example.com", [[*row[:2], "7.00", *row[3:]] for row in FIRST])
            with pytest.raises(OtherKeyBefore) as err:
                await load(job, env=KEY_B)
    assert "1 customer and 2 invoices of this input (e.g. customer C1) were given to" in str(err.value), err.value


async def test_another_accounts_load_of_the_same_numbers_is_set_aside_and_this_keys_still_skipped(
    tmp_path: Path,
) -> None:
    """Account B loaded invoices numbered as account A's (I-1, I-2, I-3: its own). Account A's corrected file, loaded
    with A's key, was refused for B's load, and the only "another account" way, --allow-duplicate-load, created A's
    I-1 and I-2 a second time, exit 0 (tester t56a). --other-account sets B's load aside and still skips what A's
    key loaded: only I-3 is created in A, and the dry run plans the same."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            theirs = [[*row[:2], "9.00", *row[3:]] for row in CORRECTED]
            b = await load(invoices(tmp_path, url, "b", theirs, allow_duplicate_load=True), env=KEY_B)
            corrected = invoices(tmp_path, url, "corrected", CORRECTED)
            with pytest.raises(OtherKeyBefore) as err:
                await load(corrected, env=KEY_A)
            assert "pass --other-account and load again" in str(err.value), err.value
            aside = dataclasses.replace(corrected, other_account=True)
            planned = dry_run(aside, env=KEY_A)
            report = await load(aside, env=KEY_A)
            got = await stored(url, "invoices")
    assert b.loaded == 3
    assert (planned.skipped, report.loaded, report.skipped, report.exit_code) == (2, 1, 2, 0)
    ours = sorted((i["invoiceNumber"], i["invoiceAmount"]) for i in got if i["invoiceAmount"] != 900)
    assert ours == [("I-1", 10000), ("I-2", 5000), ("I-3", 7500)]  # account A's, none twice


async def test_a_stopped_run_goes_on_with_a_renewed_key_on_the_users_word(tmp_path: Path) -> None:
    """A run stopped part way (killed, or its quota spent) whose key was renewed had no way on: resume with the new
    key was refused as another account's, a new load with --same-account as loaded already by that run, which only
    resume continues (tester t56a). `resume --same-account` goes on with the new key, and the ledger keeps it."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            ledger = (await stopped_part_way(tmp_path, url)).ledger_path
            with pytest.raises(OtherAccount) as err:
                await resume(ledger, env=KEY_B, daily_quota=0)
            assert f"`bulkload resume --ledger {ledger} --same-account` goes on with it" in str(err.value), err.value
            resumed = await resume(ledger, env=KEY_B, daily_quota=0, same_account=True)
            with pytest.raises(OtherAccount):  # the ledger keeps the renewed key from now on
                await resume(ledger, env=KEY_A)
            got = await stored(url, "invoices")
    assert (resumed.exit_code, resumed.loaded) == (0, 5), resumed
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2", "S-1", "S-2", "S-3", "S-4", "S-5"]


async def test_same_account_is_refused_where_more_than_a_key_names_the_account(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            data = tmp_path / "e.csv"
            write_entries(data, 2)
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / "e.sqlite"))
            assert (await load(job, env=CREDS)).loaded == 4
            with pytest.raises(ConfigError, match="--same-account: economic serves one account at an address"):
                await resume(job.ledger_path, env=CREDS, same_account=True)


async def test_another_keys_unfinished_run_is_told_as_another_key_and_set_aside_by_the_users_word(
    tmp_path: Path,
) -> None:
    """Account A's run stopped part way; account B's load of other invoices at the same address was refused "finish
    it first (bulkload resume …)", which B's key cannot do (tester t56a). It is asked the key's question instead."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            stopped = await stopped_part_way(tmp_path, url)
            theirs = invoices(tmp_path, url, "b", [["C1", "B-1", "10.00", "DKK", "2026-12-01"]])
            with pytest.raises(OtherKeyBefore) as err:
                await load(theirs, env=KEY_B)
            assert "rows of this input may be among those an earlier load that has not finished" in str(err.value)
            assert f"ledger {stopped.ledger_path}) sends to {url}" in str(err.value), err.value
            report = await load(dataclasses.replace(theirs, other_account=True), env=KEY_B)
    assert (report.loaded, report.exit_code) == (1, 0)


async def test_two_manifest_jobs_of_two_accounts_are_asked_the_keys_question_at_once(tmp_path: Path) -> None:
    """A manifest of two PayorCRM accounts at one address whose invoices share numbers runs its jobs side by side:
    the second was refused "under way now … run the manifest again --resume once it has ended", that run was then
    asked the key's question, and only a third run loaded (tester t56a). The key's question comes first now, and
    other_account = true loads each account's invoices once."""
    for name, amount in (("a", "100.00"), ("b", "9.00")):  # each account's own customer C1 and invoices I-1, I-2
        write(tmp_path / f"{name}-c.csv", CUSTOMERS, [["C1", f"{name}@example.com", name.upper()]])
        write(tmp_path / f"{name}-i.csv", INVOICES, [[*row[:2], amount, *row[3:]] for row in FIRST])
    manifest = tmp_path / "fleet.toml"
    env = {"KEY_A": "key-of-account-a", "KEY_B": "key-of-account-b", "SECRET": "s"}

    def jobs(says: str = "") -> None:
        manifest.write_text(
            "".join(
                f'[[job]]\nname = "{name}"\ntarget = "payorcrm"\nbase_url = "{url}"\nfiles = []\n'
                f'options = {{customers = "{name}-c.csv", invoices = "{name}-i.csv", amount_unit = "major"}}\n'
                f'credentials = {{env = {{PAYORCRM_API_KEY = "KEY_{name.upper()}", PAYORCRM_API_SECRET = "SECRET"}}}}\n'
                + says
                for name in ("a", "b")
            )
        )

    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            jobs()
            first = {j.name: j for j in (await run_manifest(read_manifest(str(manifest)), env=env)).jobs}
            jobs("other_account = true\n")
            again = {j.name: j for j in (await run_manifest(read_manifest(str(manifest)), env=env, resume=True)).jobs}
            got = await stored(url, "invoices")
    refused = first["b"] if first["b"].status == "refused" else first["a"]
    said = str(refused.error)
    assert "with another PAYORCRM_API_KEY than this load gives" in said, said
    assert "set other_account = true in job" in said and "under way" not in said, said
    assert {j.status for j in again.values()} == {"complete"}, again
    assert sorted((i["invoiceNumber"], i["invoiceAmount"]) for i in got) == [
        ("I-1", 900),
        ("I-1", 10000),
        ("I-2", 900),
        ("I-2", 10000),
    ]


async def test_the_users_word_is_refused_where_it_says_two_things_or_means_nothing(tmp_path: Path) -> None:
    """--same-account with --other-account loaded account A's I-1 and I-2 again under the renewed key, exit 0 (the
    second word won unsaid); --other-account at Visma Core, whose token is refreshed for the same company, set the
    earlier load aside and booked its entries twice, exit 0 (tester t57a). Both are refused before the first call."""
    rows = [[1001, "FEE", "100.00", "one", "", "2026-11-01", ""], [1002, "FEE", "50.00", "two", "", "2026-11-01", ""]]
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            await first_load(tmp_path, url)
            both_said = invoices(tmp_path, url, "corrected", CORRECTED, same_account=True, other_account=True)
            with pytest.raises(ConfigError, match="--same-account and --other-account .* say opposite things"):
                dry_run(both_said, env=KEY_B)
            with pytest.raises(ConfigError, match="--same-account and --other-account .* say opposite things"):
                await load(both_said, env=KEY_B)
            got = await stored(url, "invoices")
        async with running("visma-core", SandboxOptions()) as core:
            data = write_core(tmp_path / "e.csv", rows)
            fixed = write_core(tmp_path / "f.csv", [*rows, [1003, "FEE", "7.00", "three", "", "2026-11-01", ""]])
            first = Job(target="visma-core", files=[str(data)], base_url=core, ledger=str(tmp_path / "a.sqlite"))
            assert (await load(first, env={"VISMA_CORE_TOKEN": "token-1"})).loaded == 2
            aside = dataclasses.replace(first, files=[str(fixed)], ledger=str(tmp_path / "b.db"), other_account=True)
            with pytest.raises(ConfigError, match="--other-account: visma-core serves one account at an address"):
                await load(aside, env={"VISMA_CORE_TOKEN": "token-2"})
            entries = await created(core)
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2"]
    assert len(entries) == 2


async def test_a_run_gone_on_with_a_renewed_key_is_that_keys_in_the_record_of_loads(tmp_path: Path) -> None:
    """After `resume --same-account`, the record of loads still knew the run by its old key: a later file of the
    renewed key sharing its invoices was refused as another key's load (the run the user had called its own), and
    with --other-account created S-1 to S-5 a second time, exit 0 (tester t57a). They are skipped as this key's."""
    later = [["C1", f"S-{n}", "10.00", "DKK", "2026-12-01"] for n in range(1, 7)]
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            stopped = await stopped_part_way(tmp_path, url)
            assert (await resume(stopped.ledger_path, env=KEY_B, daily_quota=0, same_account=True)).exit_code == 0
            planned = dry_run(invoices(tmp_path, url, "later", later, other_account=True), env=KEY_B)
            report = await load(invoices(tmp_path, url, "later", later), env=KEY_B)
            got = await stored(url, "invoices")
    assert (planned.skipped, report.loaded, report.skipped, report.exit_code) == (5, 1, 5, 0)
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2", "S-1", "S-2", "S-3", "S-4", "S-5", "S-6"]


async def test_the_same_account_said_is_led_to_its_unfinished_runs_resume_with_the_same_word(tmp_path: Path) -> None:
    """A renewed key's load of invoices a stopped run of the old key shares, given --same-account, was told "finish it
    first (`bulkload resume --ledger …`)", which that key is refused (tester t57a): the way on names --same-account,
    and taken, it loads each invoice once."""
    later = [["C1", f"S-{n}", "10.00", "DKK", "2026-12-01"] for n in range(1, 7)]
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            stopped = await stopped_part_way(tmp_path, url)
            same = invoices(tmp_path, url, "later", later, same_account=True)
            with pytest.raises(SharedUnfinished) as err:
                dry_run(same, env=KEY_B)
            way = f"finish it first (`bulkload resume --ledger {Path(stopped.ledger_path).absolute()} --same-account`)"
            assert way in str(err.value), err.value
            with pytest.raises(SharedUnfinished) as err:
                await load(same, env=KEY_B)
            assert way in str(err.value), err.value
            await resume(stopped.ledger_path, env=KEY_B, daily_quota=0, same_account=True)
            report = await load(same, env=KEY_B)
            got = await stored(url, "invoices")
    assert (report.loaded, report.skipped, report.exit_code) == (1, 5, 0)
    assert sorted(i["invoiceNumber"] for i in got) == ["I-1", "I-2", "S-1", "S-2", "S-3", "S-4", "S-5", "S-6"]


async def test_a_refused_resume_same_account_keeps_the_old_key(tmp_path: Path) -> None:
    """resume --same-account kept the new key before its other checks: a resume refused after it (its input changed
    since) had switched the run to the new key all the same, though "nothing was sent" (a reviewer). And a load with
    --same-account beside that stopped run, sharing only its rows, names the way on with the word again."""
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            stopped = await stopped_part_way(tmp_path, url)
            data = Path(stopped.files[0])
            kept = data.read_bytes()
            data.write_bytes(kept + b"C1,S-6,1.00,DKK,2026-12-01\n")
            with pytest.raises(LedgerError):
                await resume(stopped.ledger_path, env=KEY_B, daily_quota=0, same_account=True)
            data.write_bytes(kept)
            theirs = invoices(tmp_path, url, "b", [["C1", "B-1", "10.00", "DKK", "2026-12-01"]], same_account=True)
            with pytest.raises(SharedUnfinished) as unfinished:
                await load(theirs, env=KEY_B)
            resumed = await resume(stopped.ledger_path, env=KEY_A, daily_quota=0)  # the old key still the run's
    assert f"`bulkload resume --ledger {stopped.ledger_path} --same-account`" in str(unfinished.value), unfinished.value
    assert (resumed.exit_code, resumed.loaded) == (0, 5), resumed
