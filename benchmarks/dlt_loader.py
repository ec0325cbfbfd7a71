"""The same e-conomic load through dlt (https://dlthub.com), the Python loader users already know, as a
benchmark comparator.

    pip install dlt
    python -m benchmarks.dlt_loader FILE --base-url URL [--file-max-items N] [--workers N] [--reruns 3]

It stands for "use the reverse-ETL feature of the loader you already have", written as dlt's docs
recommend for pushing data to an API (a custom destination, "Custom destination: Reverse ETL"):

* a ``@dlt.resource`` reads the CSV with ``csv.DictReader`` and yields its rows (empty cells dropped);
* a ``@dlt.destination(batch_size=500)`` function receives the rows in lists of 500, converts each to a
  draft entry (numbers with ``int()``/``float()``) and POSTs the list to ``/draft-entries/bulk`` with one
  ``requests.Session``. A 5xx or a dropped connection raises, which is how a destination function tells
  dlt to retry; a 4xx is counted as a failed batch and the load goes on, the same policy as
  ``benchmarks.naive_loop``. (Raising ``DestinationTerminalException`` for a 4xx instead, dlt's way of
  saying "do not retry", fails the whole load job, i.e. every later batch of the file: one bad row in
  the second batch of a 3,000-row file left 2,500 rows unsent.)
* ``pipeline.run(...)`` does extract (rows to a file), normalize (to the load package) and load (the
  destination calls). dlt retries a failing load job itself, restarting from the batch that failed,
  and raises after ``load.raise_on_max_retries`` (5) retries of one job, counted over all the job's
  batches (so with one file, any 5 faults in the whole load stop the pipeline); as its docs say,
  running the pipeline again resumes the pending load, which ``--reruns`` does in-process (up to 3 more
  loads). A dropped answer to a batch the API did commit is sent again: dlt has no idempotency key.

Parallelism: dlt runs load *jobs* (one per normalized file) in a thread pool (``load.workers``, 20 by
default), but the batches of one job are sent one after another. With dlt's defaults one resource of
one table makes one file, hence one job, hence **strictly sequential POSTs** however many rows there are.
``--file-max-items N`` sets dlt's documented file rotation (``NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS``)
so that the rows are split into files of N rows loaded in parallel (up to ``--workers``, dlt's
``LOAD__WORKERS``, 20 by default, at a time); use a multiple of 500 so that batches stay full.

dlt keeps its working state in a pipelines directory: here a fresh temp directory (``DLT_DATA_DIR``,
``DLT_PROJECT_DIR`` and ``pipelines_dir`` all point into it), removed afterwards, so nothing lands in ~
or in the repo; telemetry is off (``RUNTIME__DLTHUB_TELEMETRY=false``). Prints one JSON object:
``rows, requests, failed_chunks`` (batches never acknowledged with a 2xx), ``failed_rows, wall_s``
(the whole ``run``, extract + normalize + load), ``rows_per_s``, the time of each dlt step, and
``error`` when the pipeline still failed after the reruns. Without dlt it prints
``{"skipped": "dlt is not installed (pip install dlt)"}`` and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.naive_loop import to_entry

BATCH_SIZE = 500
TIMEOUT_S = 60
SKIPPED = {"skipped": "dlt is not installed (pip install dlt)"}


def run(
    path: Path, base_url: str, file_max_items: int | None = None, reruns: int = 3, workers: int | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bulkload-dlt-") as workdir:
        env = {
            "DLT_DATA_DIR": workdir,
            "DLT_PROJECT_DIR": workdir,
            "DLT_LOCAL_DIR": workdir,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        if file_max_items:
            env["NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS"] = str(file_max_items)
        if workers:
            env["LOAD__WORKERS"] = str(workers)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return _run(path, base_url, workdir, reruns)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _run(path: Path, base_url: str, workdir: str, reruns: int) -> dict[str, Any]:
    import dlt
    import requests
    from dlt.common.schema import TTableSchema
    from dlt.common.typing import TDataItems
    from dlt.pipeline.exceptions import PipelineStepFailed

    url = base_url.rstrip("/") + "/draft-entries/bulk"
    session = requests.Session()
    session.headers.update(
        {
            "X-AppSecretToken": os.environ.get("ECONOMIC_APP_SECRET_TOKEN", "dlt-secret"),
            "X-AgreementGrantToken": os.environ.get("ECONOMIC_AGREEMENT_GRANT_TOKEN", "dlt-grant"),
        }
    )
    lock = threading.Lock()  # dlt may call the destination from several threads
    stats = {"rows": 0, "requests": 0, "acked_rows": 0}

    @dlt.resource(name="draft_entries")
    def draft_entries() -> Iterator[dict[str, str]]:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                stats["rows"] += 1
                yield {k: v for k, v in row.items() if v}

    @dlt.destination(batch_size=BATCH_SIZE, name="economic")
    def economic(items: TDataItems, table: TTableSchema) -> None:
        with lock:
            stats["requests"] += 1
        resp = session.post(url, json=[to_entry(item) for item in items], timeout=TIMEOUT_S)
        if 400 <= resp.status_code < 500:  # the API refused the batch: retrying will not help
            print(f"batch refused: {resp.status_code} {resp.text[:500]}", file=sys.stderr)
            return
        resp.raise_for_status()  # 5xx: let dlt retry the job from this batch
        with lock:
            stats["acked_rows"] += len(items)

    pipeline = dlt.pipeline(pipeline_name="bulkload_bench", destination=economic, pipelines_dir=workdir)
    steps: dict[str, float] = {}
    seen: set[tuple[str, Any]] = set()

    def add_steps() -> None:
        """Seconds per dlt step (extract, normalize, load), summed over the reruns; a rerun's trace
        repeats the steps before it, hence ``seen``."""
        for step in pipeline.last_trace.steps if pipeline.last_trace is not None else ():
            if step.step != "run" and step.finished_at is not None and (step.step, step.started_at) not in seen:
                seen.add((step.step, step.started_at))
                took = (step.finished_at - step.started_at).total_seconds()
                steps[f"{step.step}_s"] = round(steps.get(f"{step.step}_s", 0.0) + took, 3)

    error: Exception | None = None
    loads = 1
    started = time.perf_counter()
    try:
        pipeline.run(draft_entries())
    except PipelineStepFailed as exc:
        error = exc
    add_steps()
    while error is not None and reruns > 0 and pipeline.has_pending_data:
        # what the docs prescribe after a failed load: run again, and the pending package resumes
        reruns -= 1
        loads += 1
        try:
            pipeline.load()
            error = None
        except PipelineStepFailed as again:
            error = again
        add_steps()
    wall = time.perf_counter() - started
    session.close()
    rows, failed_rows = stats["rows"], stats["rows"] - stats["acked_rows"]
    out: dict[str, Any] = {
        "rows": rows,
        "requests": stats["requests"],
        # exact while only a file's last batch is short (one file, or files of a multiple of 500 rows)
        "failed_chunks": math.ceil(failed_rows / BATCH_SIZE),
        "failed_rows": failed_rows,
        "wall_s": round(wall, 3),
        "rows_per_s": round(rows / wall) if wall else None,
        "loads": loads,
        **steps,
    }
    if error is not None:
        out["error"] = str(error).splitlines()[0][:500]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--base-url", required=True, help="API root, e.g. the sandbox's URL")
    parser.add_argument(
        "--file-max-items", type=int, help="rotate dlt's files every N rows so load jobs run in parallel"
    )
    parser.add_argument("--workers", type=int, help="dlt's load.workers: load jobs at a time (default 20)")
    parser.add_argument("--reruns", type=int, default=3, help="loads to retry after the pipeline failed")
    args = parser.parse_args()
    try:
        import dlt  # noqa: F401
    except ImportError:
        print(json.dumps(SKIPPED))
        sys.exit(0)
    print(json.dumps(run(args.file, args.base_url, args.file_max_items, args.reruns, args.workers)))


if __name__ == "__main__":
    main()
