"""A HaloPSA server that takes a create naming a record it holds in other letter case for that record (the sandbox's
--names-folded): the create changes the record there before the run and creates none. Found by a tester's server
(t49f): the load recorded the row as created, and reconciliation said only `expected 3, the API holds 2`."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import sandbox_read, serving

from bulkload import Job, load
from bulkload.sandbox import SandboxOptions, build_app

ENV = {"HALO_CLIENT_ID": "folded-client", "HALO_CLIENT_SECRET": "folded-secret"}


async def test_a_create_answered_with_the_id_of_a_record_there_before_is_named(tmp_path: Path) -> None:
    """`ACME` there before; the file creates `Acme` and `Beta`. The API changes `ACME` (id 1) into the row's `Acme`:
    reconciliation names line 2 and the record it changed, not just a count one short, and is not ok (exit 3)."""
    fixture = tmp_path / "halo.json"
    fixture.write_text(json.dumps({"XeroDetails": [{"name": "ACME", "tenant_id": "theirs"}]}))
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\nAcme,ours\nBeta,b\n", encoding="utf-8")
    options = SandboxOptions(window_limit=0, fixture=str(fixture), names_folded=True)
    async with serving(build_app("halopsa", options)) as url:
        run = Job(target="halopsa", files=[str(data)], base_url=url, ledger=str(tmp_path / "run.sqlite"))
        report = await load(run, env=ENV)
        held = await sandbox_read(url, "records/XeroDetails")
    assert len(held) == 2 and {"id": 1, "name": "Acme", "tenant_id": "ours"}.items() <= held[0].items(), held
    rec = report.reconcile
    assert report.exit_code == 3 and not rec.ok, rec
    said = str(rec.note)
    assert "XeroDetails 1 (line 2 of" in said and "a record there before the run" in said, said
