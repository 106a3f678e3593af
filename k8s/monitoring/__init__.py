"""The metrics pipeline: what the Prometheus agent scrapes and keeps, and the charts that run it."""
