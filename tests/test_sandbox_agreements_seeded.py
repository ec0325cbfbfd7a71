"""The e-conomic sandbox of many agreements (`bulkload sandbox economic --agreements --seed N`): each agreement
meets its faults at calls of its own, the same again on the same seed. A tester's finding (t66b): every agreement's
sandbox was built with the one seed given, so each met the same fault at the same call, and a fleet trial across
agreements was less varied than it looked."""

from __future__ import annotations

import aiohttp
import anyio

from bulkload.sandbox import SandboxOptions, running

CALLS = 40


async def faults_at(grants: list[str]) -> list[list[int]]:
    """For each agreement (its grant token), the statuses of CALLS reads of its journals, in turn, on a fresh sandbox
    of many agreements seeded 7 that answers 3 calls in 10 with a 5xx."""
    options = SandboxOptions(seed=7, fault_rate=0.3)
    with anyio.fail_after(60):
        async with running("economic", options, agreements=True) as url, aiohttp.ClientSession() as session:
            seen = []
            for grant in grants:
                headers = {"X-AppSecretToken": "app", "X-AgreementGrantToken": grant}
                statuses = []
                for _ in range(CALLS):
                    async with session.get(f"{url}/journals", headers=headers) as r:
                        statuses.append(r.status)
                seen.append(statuses)
            return seen


async def test_agreements_meet_their_faults_at_calls_of_their_own_and_again_on_the_same_seed() -> None:
    first = await faults_at(["grant-a", "grant-b"])
    assert all(s >= 500 for statuses in first for s in statuses if s != 200), first
    assert all(0 < sum(s != 200 for s in statuses) < CALLS for statuses in first), first  # faults, not all
    assert first[0] != first[1], "two agreements met their faults at the same calls"
    # the same seed gives each agreement the same faults again, whichever agreement calls first
    assert await faults_at(["grant-b", "grant-a"]) == first[::-1]
