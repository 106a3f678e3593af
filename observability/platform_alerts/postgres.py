"""The application's Postgres, from its exporter (shapes from postgres-mixin)."""

from __future__ import annotations

from observability import conventions as c
from observability import names
from observability.platform_alerts.alert import POD, Alert, by

_PG = by("namespace", "pod")

POSTGRES = (
    Alert(
        name="PostgresDown",
        severity=c.PAGE,
        # pg_up == 0: the exporter runs but cannot reach Postgres. absent: no exporter reports at all
        # (the pod is gone or unschedulable), which pg_up alone would never notice.
        expr=f'pg_up == 0\nor\nabsent(pg_up{{namespace="{names.APP_NAMESPACE}"}})',
        for_="2m",
        summary="Postgres is down.",
        description=(
            "Postgres {{ with $labels.pod }}pod {{ $labels.namespace }}/{{ . }}{{ else }}in namespace "
            "{{ $labels.namespace }}{{ end }} has not answered its exporter for 2 minutes, or no exporter "
            "reports at all."
        ),
    ),
    Alert(
        name="PostgresTooManyConnections",
        severity=c.TICKET,
        # As postgres-mixin: the superuser-reserved slots are not available to the application.
        expr=f"""sum {_PG} (pg_stat_activity_count)
>
0.8 * (
  max {_PG} (pg_settings_max_connections)
  -
  max {_PG} (pg_settings_superuser_reserved_connections)
)""",
        for_="10m",
        summary="Postgres uses more than 80% of its connections.",
        description=(
            f'Postgres pod {POD} has {{{{ printf "%.0f" $value }}}} connections, over 80% of those the '
            "application may open: new connections will soon be refused."
        ),
    ),
    Alert(
        name="PostgresDeadlocks",
        severity=c.TICKET,
        expr=f"sum {by('namespace', 'pod', 'datname')} (increase(pg_stat_database_deadlocks[15m])) > 3",
        for_="5m",
        summary="Postgres transactions keep deadlocking.",
        description=(
            f'Database {{{{ $labels.datname }}}} in pod {POD} had {{{{ printf "%.0f" $value }}}} deadlocks '
            "in the last 15 minutes: each one aborted a transaction."
        ),
    ),
)
