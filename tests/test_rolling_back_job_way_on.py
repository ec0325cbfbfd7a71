"""Found by tester t23c: a manifest job whose rollback stopped part way is told, as one of two ways on, "to load
the job again as a new run, move <ledger> aside …, then run the manifest again". Followed, the run is refused as a
load twice, naming the ledger at the path it was moved from and telling `bulkload run MANIFEST --resume`, which gives
the same refusal (a loop); its only other way, `allow_duplicate_load = true`, creates again every entry of the run
the rollback had not yet removed (docs/migrations.md: "To load it again as a new run, move its ledger aside and run
the manifest again; the message gives both")."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import write_entries

from bulkload import rollback
from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

ENV = {"APP": "app-secret", "GRANT0": "grant-of-agreement-0"}


async def test_the_way_on_of_a_job_rolling_back_does_not_lead_to_a_loop(tmp_path: Path) -> None:
    write_entries(tmp_path / "a.csv", 40)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path = tmp_path / "m.toml"
            path.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\nagreement = "acme"\ntarget = "economic"\n'
                f'base_url = "{url}"\nfiles = ["a.csv"]\nbatch_size = 20\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT0"}}\n'
            )
            manifest = read_manifest(str(path))
            first = await run_manifest(manifest, env=ENV)
            assert first.exit_code == 0, [(o.name, o.error) for o in first.jobs]
            ledger = Path(manifest.jobs[0].ledger_path)
            creds = {"ECONOMIC_APP_SECRET_TOKEN": ENV["APP"], "ECONOMIC_AGREEMENT_GRANT_TOKEN": ENV["GRANT0"]}
            part = await rollback(str(ledger), env=creds, daily_quota=30)  # stops part way: its quota spent
            assert part.status == "stopped", part
            told = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            said = str(told.jobs[0].error)
            assert told.jobs[0].status == "rolling back", said
            # the way on: the rollback finished first, only then the ledger moved aside and the manifest run again
            assert "finish it first" in said and said.index("rollback --ledger") < said.index("aside"), said
            aside = tmp_path / "aside"
            aside.mkdir()

            def move(there: Path, to: Path) -> None:
                for f in there.glob(ledger.name + "*"):
                    f.rename(to / f.name)

            move(ledger.parent, aside)  # moved aside with the rollback unfinished: refused, saying the ledger moved
            again = await run_manifest(read_manifest(str(path)), env=ENV)
            said_again = str(again.jobs[0].error)
            assert again.jobs[0].status == "refused", said_again
            assert f"ledger is not at {ledger} now (moved aside or removed?): put it back there" in said_again
            assert f"rollback --ledger {ledger}" in said_again, said_again
            move(aside, ledger.parent)  # as told: put back, its rollback finished, moved aside, run again
            done = await rollback(str(ledger), env=creds, daily_quota=1000)  # the quota raised
            assert done.status == "complete", done
            move(ledger.parent, aside)
            new = await run_manifest(read_manifest(str(path)), env=ENV)
            assert new.exit_code == 0, [(o.name, o.error) for o in new.jobs]
