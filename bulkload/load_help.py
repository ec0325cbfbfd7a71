"""The help of `bulkload load TARGET`, from the code's own values: each target's Api (batch size, address, window)
and Credentials, its Flags' example, and Job's defaults, so that the help cannot drift from what a load does."""

from __future__ import annotations

import dataclasses
from typing import Any

from .job import Job
from .targets.base import Api, Target


def job_default(name: str) -> Any:
    """The default of a Job setting, as a load uses it when its flag and the job file leave it out."""
    return next(f.default for f in dataclasses.fields(Job) if f.name == name)


def batch_help(api: Api) -> str:
    """--batch-size's help: what an item is and the default the target really uses (Job.items_per_call)."""
    if api.one_group_per_call:
        return (
            f"lines one call may carry: each call carries one entry, its lines merged or not "
            f"(default and maximum {api.max_items})"
        )
    default = api.default_batch or api.max_items
    if default == api.max_items:
        return f"items per call (default and maximum {default})"
    return f"items per call (default {default}, at most {api.max_items})"


def attempts_help(api: Api) -> str:
    """--attempts's help: what a 429 costs instead (no attempt), as the limits keep it (Limits.on_rate_limited): a
    pause, or in a rolling window not full by the run's count, a narrower share that holds the calls until they fit
    it, which without Retry-After may be the whole window (HaloPSA's 5 minutes); the first 429 in a window a paced
    run could not have filled yet narrows nothing (WindowMeter.transient)."""
    window = f"the API's {api.window[0]} calls per {api.window[1]:g} s, or " if api.window else ""
    return (
        f"sends of one call before the run stops, resumable (default {job_default('attempts')}); a 429 is not "
        "counted: bulkload waits it out (Retry-After, else up to 8 s a pause; in a rolling window "
        f"({window}--window-limit) a 429 before it is full by this run's count narrows the run's share of it and "
        "holds the calls until they fit: without Retry-After up to the whole window; not the first in a window a "
        "--rate run could not have filled yet), at most 10 minutes a call, "
        "then stops resumable (see Guarantees, 429 Too Many Requests)"
    )


def base_url_help(api: Api) -> str:
    """--base-url's help: the API's public address, or that it is required (the API has none)."""
    if api.default_base_url:
        return f"API root including its version path (default {api.default_base_url})"
    return "API root of your instance including its version path (required: the API has no public address)"


def target_epilog(cls: type[Target]) -> str:
    """`bulkload load TARGET --help`'s closing text, from the target's own data: the environment variables it reads
    its credentials from, and an example command."""
    creds = cls.credentials
    names = [*creds.names, *sorted(creds.optional - set(creds.names))]
    width = max(map(len, names))
    lines = ["environment (or the [credentials] table of --config; the environment wins):"]
    lines += [f"  {n:<{width}}  {'required' if n in creds.names else 'optional'}" for n in names]
    base_url = [] if cls.api.default_base_url else ["--base-url", "https://YOUR-INSTANCE"]  # the root
    command = ["bulkload", "load", cls.name, *cls.flags.example, *base_url, "--report", "report.json"]
    lines += [
        "",
        "example:",
        "  export " + " ".join(f"{n}=..." for n in creds.names),
        "  " + " ".join(command),
    ]
    return "\n".join(lines)


def window_s_help(api: Api) -> str:
    """--window-s's help, with the API's published window where it has one."""
    return "length of the rolling window in seconds" + (
        f" (default {api.window[1]:g}, the API's)"
        if api.window
        else " (default: no window; give --window-limit with it)"
    )
