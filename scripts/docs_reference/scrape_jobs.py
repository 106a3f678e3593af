"""The agent's scrape jobs, read from the job table (observability.jobs) with the services' jobs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from markdown.extensions.toc import slugify

from observability.jobs import ScrapeJob, Targets
from scripts.docs_reference.markdown import code, page, table


def _targets(targets: Targets) -> str:
    """The selector's set fields besides the role, e.g. `namespace=orders`, `port=metrics`."""
    parts = []
    for field in dataclasses.fields(targets):
        value = getattr(targets, field.name)
        if field.name == "role" or value is None:
            continue
        if isinstance(value, Mapping):
            value = ",".join(f"{k}={v}" for k, v in value.items())
        parts.append(code(f"{field.name}={value}"))
    return ", ".join(parts)


def _keeps(job: ScrapeJob) -> str:
    kept = [code(name) for name in job.series] + [code(f"/{pattern}/") for pattern in job.patterns]
    return ", ".join(kept)


def page_text(jobs: Sequence[ScrapeJob]) -> str:
    summary = table(
        ["job", "role", "targets", "one target per", "sample limit", "series kept"],
        [
            [
                f"[{code(job.name)}](#{slugify(job.name, '-')})",
                job.targets.role.value,
                _targets(job.targets),
                job.one_target_per.value,
                f"{job.limits.sample_limit:,}",
                str(len(job.series)) + (f" and {len(job.patterns)} pattern(s)" if job.patterns else ""),
            ]
            for job in jobs
        ],
    )
    body = [summary]
    for job in jobs:
        body.append(f"## {job.name}")
        body.append(f"Keeps: {_keeps(job)}.")
        if job.buckets:
            body.append(
                table(
                    ["histogram", "buckets kept (`le`, besides +Inf)"],
                    [[code(family), ", ".join(bounds)] for family, bounds in job.buckets.items()],
                )
            )
    return page(title="Scrape jobs", source="the job table (observability/jobs.py) and services/", body=body)
