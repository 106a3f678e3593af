"""Steady traffic on the orders API from one thread, until stopped: what the pipeline tests, the alerting
test and the sandbox (`make local`) run while they watch the signals move."""

from __future__ import annotations

import threading
from collections import Counter

import httpx


class Load:
    """A few requests a second: `GET /orders?limit=5`, and every `write_every`-th request a
    `POST /orders` (0: reads only). Counts statuses; keeps the ids of the orders it created (each one a
    committed row)."""

    def __init__(self, base_url: str, per_second: float = 10, write_every: int = 0) -> None:
        self.base_url, self.pause, self.write_every = base_url, 1 / per_second, write_every
        self.stopped = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.created: list[int] = []
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)

    def _request(self, client: httpx.Client, n: int) -> int:
        if self.write_every and n % self.write_every == 0:
            response = client.post("/orders", json={"item": f"sandbox-{n}", "quantity": 1 + n % 5})
            if response.status_code == 201:
                self.created.append(int(response.json()["id"]))
            return response.status_code
        return client.get("/orders", params={"limit": 5}).status_code

    def _run(self) -> None:
        n = 0
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while not self.stopped.is_set():
                n += 1
                try:
                    status = self._request(client, n)
                except httpx.TransportError:
                    status = 0
                self.statuses[status] += 1
                self.stopped.wait(self.pause)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
