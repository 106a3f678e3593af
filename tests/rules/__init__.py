"""Rules and alerting as generated: promtool and amtool on every file, AMP limits, runbooks."""
