#!/usr/bin/env python3
"""run_bulk_bench.py - `mintlane bulk` throughput and memory: 10 M RTC tokens (1,000 channels x
10,000 uids, 10 % publishers) to plain CSV and to jsonl.gz, on this machine (all cores) and on a
2-worker Dask LocalCluster (--dask-local 2, one thread per worker).

Method: every run is a fresh `python -m mintlane bulk ... --json -q` process. tokens/s is the
tool's own summary (minting + formatting + gzip + hashing + writing, excluding Python start-up
and, for Dask, cluster start-up); "wall" is the whole process. Peak RSS is ru_maxrss of the
process and every descendant it reaped (os.wait4: the largest single process), and for Dask also
the largest sum over the process tree, sampled every 50 ms with psutil. CPU is user + system time
of the process tree per token. The output is deleted after each run. Reports the median of
--runs runs with the min..max spread, and the 1-minute load average around each run (the host is
shared, so wall-clock numbers move with its load; CPU ns/token moves much less).

    bench/bulk/run_bulk_bench.py                  # 3 runs of each of the 4 configurations
    bench/bulk/run_bulk_bench.py --runs 5 --count 2000000 --configs local-csv,local-jsonl.gz
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional

DEMO_APP_ID = "970CA35de60c44645bbae8a215061b33"
DEMO_CERT = "5CFd2fd1755d40ecb72977518be15d3b"

CONFIGS = {
    "local-csv": {"output": "pool.csv", "extra": []},
    "local-jsonl.gz": {"output": "pool.jsonl.gz", "extra": []},
    "dask2-csv": {"output": "pool-dir", "extra": ["--dask-local", "2", "--format", "csv", "--partitions", "8"]},
    "dask2-jsonl.gz": {"output": "pool-dir", "extra": ["--dask-local", "2", "--format", "jsonl", "--gzip",
                                                       "--partitions", "8"]},
}


def tree_rss_sampler(pid: int, stop: threading.Event, peak: List[int]) -> None:
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
        except psutil.Error:
            pass
        stop.wait(0.05)


def run_once(python: str, config: str, count: int, workdir: str) -> Dict[str, Any]:
    cfg = CONFIGS[config]
    channels = max(1, count // 10_000)
    per_channel = count // channels
    out = os.path.join(workdir, cfg["output"])
    cmd = [python, "-m", "mintlane", "bulk", "--channels", str(channels), "--uids-per-channel", str(per_channel),
           "--publishers", "10%", "-o", out, "--json", "-q", *cfg["extra"]]
    env = dict(os.environ, APP_ID=os.environ.get("APP_ID", DEMO_APP_ID),
               APP_CERTIFICATE=os.environ.get("APP_CERTIFICATE", DEMO_CERT))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=tree_rss_sampler, args=(p.pid, stop, peak), daemon=True)
    sampler.start()
    stdout = p.stdout.read()  # type: ignore[union-attr]
    stderr = p.stderr.read()  # type: ignore[union-attr]
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{config}: mintlane bulk failed ({status}): {stderr.decode()[-2000:]}")
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    if os.path.isdir(out):
        shutil.rmtree(out)
    elif os.path.exists(out):
        os.unlink(out)
    cpu = ru.ru_utime + ru.ru_stime
    return {
        "config": config,
        "count": summary["count"],
        "tokens_per_s": summary["tokens_per_s"],
        "seconds": summary["seconds"],
        "wall": wall,
        "bytes": summary["bytes"],
        "peak_rss_mb": ru.ru_maxrss / 1024,  # KiB on Linux
        "tree_rss_mb": peak[0] / 2**20,
        "cpu_ns_per_token": cpu / summary["count"] * 1e9,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def med(xs: List[float]) -> float:
    return statistics.median(xs)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated: {', '.join(CONFIGS)}")
    ap.add_argument("--python", default=sys.executable, help="interpreter with mintlane installed")
    ap.add_argument("--workdir", help="where outputs go (deleted after each run); default: a temp dir")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    args = ap.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            ap.error(f"unknown config {c!r}")
    workdir = args.workdir or tempfile.mkdtemp(prefix="mintlane-bulk-bench-")
    os.makedirs(workdir, exist_ok=True)
    results: List[Dict[str, Any]] = []
    try:
        # Interleave configurations so that a busy period of the shared host spreads over all of them.
        for r in range(args.runs):
            for c in configs:
                try:
                    res = run_once(args.python, c, args.count, workdir)
                except RuntimeError as e:  # e.g. the shared venv being reinstalled mid-run
                    print(f"run {r + 1}/{args.runs} {c}: FAILED, not counted: {str(e)[:300]}", flush=True)
                    continue
                results.append(res)
                print(f"run {r + 1}/{args.runs} {c:15s} {res['tokens_per_s'] / 1e6:6.2f} M tokens/s  wall "
                      f"{res['wall']:6.2f} s  peak RSS {res['peak_rss_mb']:6.1f} MB (tree {res['tree_rss_mb']:6.1f} MB)"
                      f"  CPU {res['cpu_ns_per_token']:5.0f} ns/token  load {res['load_before']:.1f}->"
                      f"{res['load_after']:.1f}", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    print()
    print(f"| configuration | tokens/s (median, min..max) | peak RSS, largest process | "
          f"peak RSS, process tree | CPU ns/token | output |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in configs:
        rs = [x for x in results if x["config"] == c]
        if not rs:
            continue
        tps = [x["tokens_per_s"] for x in rs]
        print(f"| {c} | {med(tps) / 1e6:.2f} M ({min(tps) / 1e6:.2f}..{max(tps) / 1e6:.2f}) | "
              f"{med([x['peak_rss_mb'] for x in rs]):.0f} MB | {med([x['tree_rss_mb'] for x in rs]):.0f} MB | "
              f"{med([x['cpu_ns_per_token'] for x in rs]):.0f} | {med([x['bytes'] for x in rs]) / 1e6:,.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
