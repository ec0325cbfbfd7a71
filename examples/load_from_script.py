"""Load a file of e-conomic journal entries from a plain script: no `if __name__ == "__main__":` guard needed.

    ECONOMIC_APP_SECRET_TOKEN=… ECONOMIC_AGREEMENT_GRANT_TOKEN=… python load_from_script.py ENTRIES.csv [BASE_URL]

BASE_URL defaults to e-conomic's own API. To try it with no account, start a sandbox in another terminal
(`bulkload sandbox economic --port 8000`; any two tokens will do but `demo`, which may only read) and give the
URL it prints.

`bulkload.load` is a coroutine: run it with `asyncio.run`. It returns a `bulkload.Report` (the keys of the
`--report` file as attributes) for a run that went to the end, and raises `bulkload.RunStopped` for one that
stopped before (quota spent, the API down for longer than the retries): `err.report` is that run's report and
`bulkload.resume(err.report.ledger)` continues it. Pass `raise_on_stop=False` to get the stopped report returned
instead. What must be corrected before anything is sent (a missing credential, an ambiguous file) raises
`bulkload.ConfigError`. The script exits with the code `bulkload load` would: 0 all loaded and reconciled,
1 rows rejected or in doubt, 2 a usage error (no file given: it prints its usage), 3 a reconciliation mismatch,
4 stopped (resumable). What it prints accounts for every row: loaded + rejected + in doubt + skipped = rows read.
"""

import asyncio
import sys

import bulkload

USAGE = "usage: python load_from_script.py ENTRIES.csv [BASE_URL]"
if len(sys.argv) not in (2, 3):
    print(USAGE, file=sys.stderr)
    sys.exit(2)  # a usage error, as `bulkload` exits for one
job = bulkload.Job(
    target="economic",
    files=[sys.argv[1]],
    base_url=sys.argv[2] if len(sys.argv) > 2 else None,
    # the ledger, rejects and report go beside the input unless named: ledger=, rejects=, report=
)
try:
    report = asyncio.run(bulkload.load(job))  # credentials from the environment
except bulkload.RunStopped as stopped:
    print(f"stopped: {stopped}")
    if stopped.report is None:  # stopped before its first call: nothing was sent
        sys.exit(stopped.exit_code)
    print(f"{stopped.report.loaded} rows loaded so far; continue with bulkload.resume({stopped.report.ledger!r})")
    sys.exit(stopped.report.exit_code)  # 4, or 2 where the API refused the credentials
except bulkload.ConfigError as error:  # nothing was sent: correct what it names and run the script again
    print(f"error: {error}", file=sys.stderr)
    sys.exit(error.exit_code)
recon = report.reconcile
print(
    f"loaded {report.loaded} of {report.rows_read} rows ({report.rejected} rejected, {report.in_doubt} in doubt, "
    f"{report.skipped} skipped: loaded by an earlier run) in {report.requests} requests; "
    f"reconciled: {recon is not None and recon.ok}"
)
print(f"rejected rows: {report.rejects_file}; ledger: {report.ledger}")
sys.exit(report.exit_code)
