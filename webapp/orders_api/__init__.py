"""Orders API: the instrumented demo workload watched by the observability platform."""
