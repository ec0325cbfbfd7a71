"""Found by tester t22a: the record of loads tells an API's address by its text, dot segments and all, while the
calls go where the URL resolves to (RFC 3986 §5.2.4): a file loaded into `URL`, then loaded again with `--base-url
URL/.` (or `URL/a/..`, `URL/%2E`), is not refused as a load twice, and every entry is booked a second time at the
same Visma Core. docs/loading-again.md: "Loading the same content into the same place again is refused before
anything is sent"; "The same place is the same API address"."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from test_load_visma_core import ENV, created, write

from bulkload import Job, load
from bulkload.errors import ConfigError
from bulkload.job import address
from bulkload.sandbox import SandboxOptions, running


@pytest.mark.parametrize("spelled", ["/.", "/a/..", "/%2E"])
def test_an_address_with_dot_segments_is_the_address_they_resolve_to(spelled: str) -> None:
    assert address("https://core.example.no" + spelled) == address("https://core.example.no")


@pytest.mark.parametrize("spelled", ["/.", "/a/.."])
async def test_a_file_loaded_again_at_the_same_address_spelled_with_dots_is_refused(
    tmp_path: Path, spelled: str
) -> None:
    data = write(tmp_path / "e.csv", [[1493, "COMMISSION", "100.00", "Provisjon", "", "2026-11-01", ""]])

    def job(url: str, name: str) -> Job:
        return Job(target="visma-core", files=[str(data)], base_url=url, ledger=str(tmp_path / f"{name}.sqlite"))

    with anyio.fail_after(30):
        async with running("visma-core", SandboxOptions()) as url:
            first = await load(job(url, "one"), env=ENV)
            try:
                with pytest.raises(ConfigError, match="already loaded"):
                    await load(job(url + spelled, "two"), env=ENV)
            finally:
                held = await created(url)
    assert first.loaded == 1
    assert len(held) == 1, held
