"""The platform's runtime pieces as real local processes on 127.0.0.1: Postgres, the orders API, the
example inventory API, the exporters, the Prometheus agent on the generated configuration and a receiver
standing in for AMP.

One package for everything that runs them: the tests (`tests/metrics`, `tests/webapp`), the local
sandbox (`make local`), `make cost` and `make bench`.
"""
