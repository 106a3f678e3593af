"""Each job's keep rules (`metric_relabel_configs`), from its row in the job table: exactly its kept
series, and of a trimmed histogram only the kept buckets. Everything else is dropped before it reaches
the write-ahead log, so Amazon Managed Prometheus only bills for what something reads."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from observability import catalog
from observability.jobs import BY_NAME, ScrapeJob, all_jobs
from observability.model.load import load_default
from observability.render.relabel import Rule, select


def _row(job: str | ScrapeJob) -> ScrapeJob:
    if isinstance(job, ScrapeJob):
        return job
    known = {**BY_NAME, **{row.name: row for row in all_jobs(load_default())}}
    if job not in known:
        raise KeyError(f"no job table row for job {job!r} (known: {', '.join(sorted(known))})")
    return known[job]


def keep_names(job: str | ScrapeJob, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The sorted, de-duplicated names `job` keeps: its row's series plus `extra` (e.g. from config)."""
    row = _row(job)
    catalog.validate_names(extra)
    return tuple(sorted(set(row.series) | set(extra)))


def trimmed_buckets(job: str | ScrapeJob, extra: Sequence[str] = ()) -> Mapping[str, tuple[str, ...]]:
    """The row's trimmed families, and the catalog's for any family whose buckets `extra` adds."""
    return {**_row(job).buckets, **{f: b for f, b in catalog.BUCKETS.items() if f"{f}_bucket" in extra}}


def keep_regex(job: str | ScrapeJob, extra: Sequence[str] = ()) -> str:
    """The regex of the job's keep rule. Prometheus anchors relabel regexes (`^(?:...)$`), and metric
    names contain no regex metacharacters, so a plain alternation matches exactly these names; a service's
    patterns join it, each in its own group."""
    patterns = tuple(f"(?:{pattern})" for pattern in sorted(_row(job).patterns))
    return "|".join(keep_names(job, extra) + patterns)


def bucket_regex(job: str | ScrapeJob, extra: Sequence[str] = ()) -> str | None:
    """The regex of the job's second keep rule, on `__name__;le`: every kept name passes, except the
    `_bucket` series of a trimmed family, which pass only at the listed boundaries and +Inf. None when
    the job keeps no trimmed family."""
    kept = keep_names(job, extra)
    buckets = trimmed_buckets(job, extra)
    trimmed = [family for family in buckets if f"{family}_bucket" in kept]
    if not trimmed:
        return None
    trimmed_names = {f"{family}_bucket" for family in trimmed}
    others = [name for name in kept if name not in trimmed_names]
    alternatives = [f"(?:{'|'.join(others)});.*"]
    for family in trimmed:
        boundaries = "|".join(re.escape(le) for le in buckets[family])
        alternatives.append(f"{family}_bucket;(?:(?:{boundaries})(?:\\.0)?|\\+Inf)")
    return "|".join(alternatives)


def keep_rules(job: str | ScrapeJob, extra: Sequence[str] = ()) -> list[Rule]:
    """Keep the row's names; then, where the job keeps a trimmed histogram, only its listed buckets."""
    rules = [select("keep", ["__name__"], keep_regex(job, extra))]
    buckets = bucket_regex(job, extra)
    if buckets is not None:
        rules.append(select("keep", ["__name__", "le"], buckets))
    return rules
