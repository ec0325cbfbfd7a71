"""A file of no secret column still masks the secrets inside its cells' JSON (Source.mask_cells): the rejects
file shows `"password":"***"` whatever the header holds (tester t65a)."""

from __future__ import annotations

from pathlib import Path

from bulkload.sources import Source
from bulkload.targets.halopsa_records import Resource


def test_a_csv_without_a_secret_column_masks_the_secrets_inside_its_cells(tmp_path: Path) -> None:
    """Before, a file of no secret column (`name,sync_entities_list`) had its cells shown as they were: a
    `password` inside the JSON of a cell went to the rejects file in clear."""
    path = tmp_path / "XeroDetails.csv"
    path.write_text('name,sync_entities_list\na,"[{""key"":""k"",""password"":""hunter22""}]"\n')
    cells = [c for _, c in Source(path, secrets=Resource("XeroDetails").secret_fields).cells()]
    assert cells == [["a", '[{"key":"k","password":"***"}]']]
