"""Steady traffic on a service at a fixed arrival rate, until stopped: what the pipeline tests, the alerting
test and the sandbox (`make local`) run on the orders API, and the sandbox on its example service, while
they watch the signals move.

Open loop: a request starts every 1/rate seconds whether or not the earlier ones have answered, as real
users arrive, so a slow or failing app changes the latency and the errors, not the traffic. Requests in
flight are bounded (by default: the rate times the client timeout, so the bound only bites once requests
time out); an arrival that finds the bound reached is counted in `skipped`, not queued.

Spread over several addresses (`retarget`: the pods of a scaled or moved workload), the requests take turns,
as a Service's virtual IP spreads connections over its endpoints.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

# How far behind its schedule the load may fall (a suspended machine) before it starts afresh instead of
# sending the missed arrivals in one burst.
MAX_CATCH_UP_SECONDS = 1.0


class Load:
    """`per_second` requests a second: `GET <read_path>` (the orders API's list by default), and every
    `write_every`-th request a `POST /orders` (0: reads only). Counts statuses (0: no answer within
    `timeout`); keeps the ids of the orders it created (each one a committed row). `base_url`, then those
    `retarget` sets, in turn."""

    def __init__(
        self,
        base_url: str,
        per_second: float = 10,
        write_every: int = 0,
        *,
        max_in_flight: int | None = None,
        timeout: float = 5.0,
        read_path: str = "/orders?limit=5",
    ) -> None:
        self.base_urls: tuple[str, ...] = (base_url,)
        self.interval, self.write_every = 1 / per_second, write_every
        self.read_path = read_path
        self.max_in_flight = max_in_flight or max(1, math.ceil(per_second * timeout))
        self.stopped = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.created: list[int] = []
        self._turns = itertools.count()
        self.skipped = 0  # arrivals that found `max_in_flight` requests still open
        self.in_flight = 0
        self.peak_in_flight = 0
        self._counts = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_in_flight)
        self._client = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=self.max_in_flight, max_keepalive_connections=self.max_in_flight
            ),
        )
        self._workers = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="load")
        self.thread = threading.Thread(target=self._schedule, name="load", daemon=True)

    def retarget(self, base_urls: Sequence[str]) -> None:
        """Sends the next requests to `base_urls` in turn (those in flight finish where they went)."""
        if not base_urls:
            raise ValueError("no address to send the load to")
        self.base_urls = tuple(base_urls)

    def _request(self, n: int) -> int:
        urls = self.base_urls
        base_url = urls[next(self._turns) % len(urls)]  # its own count: writes (every n-th) take turns too
        if self.write_every and n % self.write_every == 0:
            body = {"item": f"sandbox-{n}", "quantity": 1 + n % 5}
            response = self._client.post(f"{base_url}/orders", json=body)
            if response.status_code == 201:
                self.created.append(int(response.json()["id"]))
            return response.status_code
        return self._client.get(f"{base_url}{self.read_path}").status_code

    def _send(self, n: int) -> None:
        status = 0
        try:
            status = self._request(n)
        except httpx.TransportError:
            pass
        finally:
            with self._counts:
                self.statuses[status] += 1
                self.in_flight -= 1
            self._slots.release()

    def _schedule(self) -> None:
        n, due = 0, time.monotonic()
        while not self.stopped.wait(max(0.0, due - time.monotonic())):
            n += 1
            due = max(due + self.interval, time.monotonic() - MAX_CATCH_UP_SECONDS)
            if not self._slots.acquire(blocking=False):
                with self._counts:
                    self.skipped += 1
                continue
            with self._counts:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._workers.submit(self._send, n)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stops sending; waits for the requests in flight (at most the client timeout)."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)
        self._workers.shutdown(wait=True)
        self._client.close()

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
