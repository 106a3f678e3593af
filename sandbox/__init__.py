"""The local sandbox (`make local`): the whole metrics, SLO and alerting path on 127.0.0.1 for two services
of two teams, with fault switches (`make fault FAULT=...`) and a live view. The end-to-end tests
(tests/e2e) run the same code."""
