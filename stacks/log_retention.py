"""Maps the configured retention in days to CloudWatch's `RetentionDays` enum member."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from config.platform import LOG_RETENTION_DAYS

# `RetentionDays` lists the same periods in ascending order, then INFINITE (never used: logs must expire).
_BY_DAYS = dict(
    zip(
        sorted(LOG_RETENTION_DAYS),
        [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE],
        strict=True,
    )
)


def retention_days(days: int) -> logs.RetentionDays:
    return _BY_DAYS[days]
