"""Load benchmark for the orders API: ``python webapp/bench/load.py`` (``make bench``).

Starts a private PostgreSQL (harness/postgres.py) and the app as a real
``python -m orders_api`` subprocess on 127.0.0.1, drives it for a bounded time
with a mix of POST /orders, GET /orders/{id} and GET /orders?limit=20 over
keep-alive connections, then prints throughput, latency percentiles and the
share of requests under the latency SLO threshold as the app's own histogram
saw them. Everything runs on this machine (2 cores shared by the driver, the
app and Postgres), so treat the numbers as relative, not as capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO_ROOT / "webapp"), str(REPO_ROOT)]

from orders_api import slo_contract  # noqa: E402

from harness.postgres import LocalPostgres, free_port  # noqa: E402

PASSWORD = "bench-" + os.urandom(8).hex()


class HttpConnection:
    """Minimal HTTP/1.1 keep-alive client (uvicorn always sends Content-Length)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}["content-length"])
        return int(lines[0].split(" ", 2)[1]), await self.reader.readexactly(length)


async def worker(
    host: str,
    port: int,
    deadline: float,
    ids: list[int],
    rng: random.Random,
    post_ratio: float,
    samples: list[tuple[str, int, float]],
) -> None:
    conn = HttpConnection(*await asyncio.open_connection(host, port))
    while time.perf_counter() < deadline:
        roll = rng.random()
        if roll < post_ratio:
            op, args = "POST", ("POST", "/orders", b'{"item": "bench", "quantity": %d}' % rng.randint(1, 9))
        elif roll < post_ratio + (1 - post_ratio) * 0.75:
            op, args = "GET_ONE", ("GET", f"/orders/{rng.choice(ids)}", b"")
        else:
            op, args = "LIST", ("GET", "/orders?limit=20", b"")
        start = time.perf_counter()
        status, body = await conn.request(*args)
        samples.append((op, status, time.perf_counter() - start))
        if op == "POST" and status == 201:
            ids.append(json.loads(body)["id"])
    conn.writer.close()


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def slo_share(metrics_text: str) -> float:
    """Fraction of API requests the app's histogram put at or under the SLO threshold."""
    le = f'le="{slo_contract.LATENCY_SLO_THRESHOLD_LE}"'
    good = total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(slo_contract.HTTP_REQUEST_DURATION_SECONDS + "_bucket{"):
            value = float(line.rsplit(" ", 1)[1])
            good += value if le in line else 0.0
            total += value if 'le="+Inf"' in line else 0.0
    return good / total if total else float("nan")


async def drive(host: str, port: int, args: argparse.Namespace) -> list[tuple[str, int, float]]:
    rng = random.Random(args.seed)  # noqa: S311 - load mix, not cryptography
    seed_conn = HttpConnection(*await asyncio.open_connection(host, port))
    ids = [
        json.loads((await seed_conn.request("POST", "/orders", b'{"item": "seed", "quantity": 1}'))[1])["id"]
        for _ in range(args.seed_orders)
    ]
    seed_conn.writer.close()
    samples: list[tuple[str, int, float]] = []
    deadline = time.perf_counter() + args.duration
    rngs = [random.Random(rng.random()) for _ in range(args.concurrency)]  # noqa: S311
    await asyncio.gather(*(worker(host, port, deadline, ids, r, args.post_ratio, samples) for r in rngs))
    return samples


def report(samples: list[tuple[str, int, float]], duration: float, slo: float) -> dict[str, object]:
    result: dict[str, object] = {"duration_s": duration, "requests": len(samples)}
    result["throughput_rps"] = round(len(samples) / duration, 1)
    result["errors"] = sum(1 for _, status, _ in samples if status >= 400)
    for op in ("ALL", "POST", "GET_ONE", "LIST"):
        lat = sorted(s[2] for s in samples if op in ("ALL", s[0]))
        if lat:
            result[op] = {
                f"p{int(q * 100)}_ms": round(percentile(lat, q) * 1000, 2) for q in (0.5, 0.9, 0.99)
            }
            result[op] |= {"count": len(lat)}  # type: ignore[operator]
    result["share_within_slo_threshold"] = round(slo, 5)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load (max 120)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--post-ratio", type=float, default=0.2)
    parser.add_argument("--seed-orders", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.duration = min(args.duration, 120.0)
    with tempfile.TemporaryDirectory(prefix="orders-bench-") as tmp, LocalPostgres() as pg:
        pg.create_role("orders", PASSWORD)
        pg.create_database("orders", "orders")
        port = free_port()
        env = os.environ | {"PYTHONPATH": str(REPO_ROOT / "webapp"), "PYTHONDONTWRITEBYTECODE": "1"}
        env |= {"DB_HOST": pg.host, "DB_PORT": str(pg.port), "DB_PASSWORD": PASSWORD, "DB_SSLMODE": "disable"}
        env |= {"HOST": "127.0.0.1", "PORT": str(port), "SHUTDOWN_DELAY_SECONDS": "0"}
        log = Path(tmp, "app.log").open("wb")  # noqa: SIM115 - closed below
        app = subprocess.Popen([sys.executable, "-m", "orders_api"], env=env, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if urllib.request.urlopen(f"{base}/readyz", timeout=2).status == 200:  # noqa: S310
                        break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("app did not become ready:\n" + Path(tmp, "app.log").read_text())
            loop_factory = None
            try:
                import uvloop

                loop_factory = uvloop.new_event_loop
            except ImportError:
                pass
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                samples = runner.run(drive("127.0.0.1", port, args))
            metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()  # noqa: S310
        finally:
            app.send_signal(signal.SIGTERM)
            app.wait(timeout=60)
            log.close()
    result = report(samples, args.duration, slo_share(metrics))
    result["concurrency"] = args.concurrency
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["errors"] == 0 and len(samples) > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
