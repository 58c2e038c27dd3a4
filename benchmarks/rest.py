"""REST connector throughput and memory, beside dlt's rest_api source, on the same local server in one run.

    .venv/bin/pip install -e '.[bench]'     # dlt
    .venv/bin/python benchmarks/rest.py     # 200 and 2,000 pages of 100 records

The API (page_number pagination, `?page=N`, records under `data`, an empty page after the last) runs in its
own process on 127.0.0.1 with every page pre-rendered, so it is the same for every client. Each measurement
runs in a fresh Python process: one timed pass (pages/s, peak RSS) and one pass under tracemalloc (peak of
the Python heap during the fetch). What each client does with a page:

- onboard: the generated connector's work, RestApiConnector landing each page as received in a local lake.
- dlt extract: `pipeline.extract(rest_api_source(...))`, which writes the items to its local load package.
- dlt iterate: iterating the rest_api resource only (fetch and parse, nothing written): dlt's lower bound.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parent.parent
RECORDS_PER_PAGE = 100
CLIENTS = ("onboard", "dlt extract", "dlt iterate")


# ------------------------------------------------------------------------------------------ server


def page_body(page: int, pages: int) -> bytes:
    if page > pages:
        return b'{"data": [], "page": %d}' % page
    first = (page - 1) * RECORDS_PER_PAGE
    records = [{"id": first + i, "customer": {"id": f"C{(first + i) % 997:04d}", "tier": "gold"},
                "amount": round((first + i) * 1.25, 2), "currency": "EUR", "status": "paid",
                "created_at": "2024-11-16T10:00:00Z", "note": "x" * 40} for i in range(RECORDS_PER_PAGE)]
    return json.dumps({"data": records, "page": page}).encode()


def serve(pages: int, port_queue: multiprocessing.Queue) -> None:
    bodies = {n: page_body(n, pages) for n in range(1, pages + 2)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
        disable_nagle_algorithm = True  # headers and body go out at once: no delayed-ACK stalls

        def do_GET(self) -> None:  # noqa: N802
            page = int(dict(parse_qsl(urlsplit(self.path).query)).get("page", "1"))
            body = bodies.get(page) or page_body(page, pages)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


# ------------------------------------------------------------------------------------------ clients


def run_onboard(url: str, workdir: Path) -> int:
    from framework.runtime.connectors.rest_api import RestApiConnector
    from framework.runtime.storage import LocalStorage

    config = {"source": "bench_orders", "type": "rest_api", "format": "json", "raw_bucket": "raw",
              "config": {"endpoint": url, "method": "GET", "headers": {}, "params": {}, "body": None,
                         "schedule": "rate(1 hour)", "timeout_seconds": 30.0, "requests_per_second": None},
              "records_path": "data", "auth": None, "incremental": None, "retry": None,
              "pagination": {"type": "page_number", "param": "page", "start": 1, "has_more_path": None,
                             "max_pages": 100_000}}
    connector = RestApiConnector(config, storage=LocalStorage(workdir / "lake"), secrets=lambda name: "")
    [batch] = connector.handle({})
    return batch.folder.objects


def _dlt_source(url: str):
    from dlt.sources.rest_api import rest_api_source

    return rest_api_source({
        "client": {"base_url": url.rsplit("/", 1)[0] + "/"},
        "resources": [{"name": "orders", "endpoint": {
            "path": url.rsplit("/", 1)[1], "data_selector": "data",
            "paginator": {"type": "page_number", "page_param": "page", "base_page": 1, "total_path": None,
                          "stop_after_empty_page": True}}}],
    })


def run_dlt_extract(url: str, workdir: Path) -> int:
    import dlt

    pipeline = dlt.pipeline(pipeline_name="bench_orders", pipelines_dir=str(workdir / "dlt"))
    info = pipeline.extract(_dlt_source(url))
    items = sum(m["table_metrics"]["orders"].items_count for load in info.metrics.values() for m in load
                if "orders" in m["table_metrics"])
    return items // RECORDS_PER_PAGE


def run_dlt_iterate(url: str, workdir: Path) -> int:
    items = sum(1 for _ in _dlt_source(url).resources["orders"])
    return items // RECORDS_PER_PAGE


RUNNERS = {"onboard": run_onboard, "dlt extract": run_dlt_extract, "dlt iterate": run_dlt_iterate}


def rss_mb() -> float:
    """Current resident set size (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(client: str, url: str, traced: bool) -> dict[str, float]:
    """One measurement in this (fresh) process."""
    os.environ.update(RUNTIME__DLTHUB_TELEMETRY="false", RUNTIME__LOG_LEVEL="WARNING")
    sys.path.insert(0, str(REPO))
    if client.startswith("dlt"):
        import dlt  # noqa: F401 - import cost is not part of the measurement
        from dlt.sources.rest_api import rest_api_source  # noqa: F401
    else:
        from framework.runtime.connectors.rest_api import RestApiConnector  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        baseline = rss_mb()
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        pages = RUNNERS[client](url, Path(tmp))
        seconds = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pages": pages, "seconds": seconds, "baseline_mb": baseline, "peak_rss_mb": peak,
            "traced_peak_mb": traced_peak}


def measure(client: str, url: str, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", client, "--url", url] + (["--traced"] if traced else [])
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{client} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--clients", nargs="+", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.url, args.traced)))
        return

    print(f"{'client':<12} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'peak RSS MB':>12} {'RSS growth MB':>14} "
          f"{'heap peak MB':>13}")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for pages in args.pages:
        queue: multiprocessing.Queue = multiprocessing.Queue()
        server = multiprocessing.Process(target=serve, args=(pages, queue), daemon=True)
        server.start()
        url = f"http://127.0.0.1:{queue.get(timeout=30)}/orders"
        try:
            for client in args.clients:
                timed, traced = measure(client, url, traced=False), measure(client, url, traced=True)
                if timed["pages"] != pages:
                    raise RuntimeError(f"{client} fetched {timed['pages']} pages, expected {pages}")
                results[(client, pages)] = {**timed, "traced_peak_mb": traced["traced_peak_mb"]}
                r = results[(client, pages)]
                print(f"{client:<12} {pages:>6} {r['seconds']:>8.2f} {pages / r['seconds']:>8.0f} "
                      f"{r['peak_rss_mb']:>12.1f} {r['peak_rss_mb'] - r['baseline_mb']:>14.1f} "
                      f"{r['traced_peak_mb']:>13.2f}", flush=True)
        finally:
            server.terminate()
            server.join()
    if len(args.pages) >= 2 and "onboard" in args.clients:
        low, high = min(args.pages), max(args.pages)
        small, large = results[("onboard", low)], results[("onboard", high)]
        print(f"\nonboard peak RSS {low} -> {high} pages: {small['peak_rss_mb']:.1f} -> {large['peak_rss_mb']:.1f} MB "
              f"({(large['peak_rss_mb'] / small['peak_rss_mb'] - 1) * 100:+.1f}%); heap peak "
              f"{small['traced_peak_mb']:.2f} -> {large['traced_peak_mb']:.2f} MB")
        for other in ("dlt extract", "dlt iterate"):
            if (other, high) in results:
                ratio = results[(other, high)]["seconds"] / large["seconds"]
                print(f"onboard vs {other} at {high} pages: {ratio:.1f}x the pages/s")


if __name__ == "__main__":
    main()
