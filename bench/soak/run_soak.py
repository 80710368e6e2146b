#!/usr/bin/env python3
"""Soak test of `mintlane serve` under wrk: no errors and flat memory over a long run (issue 7).

Starts `python -m mintlane serve` on 127.0.0.1 (demo credentials, a fresh temporary working
directory so no .env is read), warms it up, then drives it with wrk (Debian `wrk`) for --duration
seconds on /rtc/<channel>/publisher/uid/<uid>/?expiry=3600 with a Lua script that changes the uid
on every request (bench/soak/vary_uid.lua), sampling the server's RSS (/proc/<pid>/status VmRSS)
every --sample-interval seconds. It prints requests, errors (wrk socket errors + wrk status errors
+ every non-2xx the server itself counted in /metrics), latency, and RSS start/end/min/max and its
slope (least squares, KiB per minute), and exits 1 when there were errors or RSS grew beyond the
limits, 2 when the run could not be made, 0 otherwise.

    python bench/soak/run_soak.py                      # 5 minutes, 64 connections
    python bench/soak/run_soak.py --duration 60        # a quick look
    python bench/soak/run_soak.py --connections 256 --json

Everything talks to 127.0.0.1 only; every wait is bounded; the script stops only the processes it
started, by PID (SIGTERM, then SIGKILL after a timeout). Not a test: nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Tuple

APP_ID = "970CA35de60c44645bbae8a215061b33"          # Agora's public test fixture (demo pair)
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "vary_uid.lua")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def slope_kib_per_min(samples: List[Tuple[float, int]]) -> float:
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mt) * (r - mr) for t, r in samples) / var * 60.0


def http_get(port: int, path: str, timeout: float = 5.0) -> Tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def status_counts(port: int) -> Dict[Tuple[str, str], int]:
    status, body = http_get(port, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    out = {}
    for route, st, n in re.findall(rb'^mintlane_http_requests_total\{route="([^"]+)",status="(\d+)"\} (\d+)$', body, re.M):
        out[(route.decode(), st.decode())] = int(n)
    return out


class Serve:
    """`python -m mintlane serve` on 127.0.0.1, stopped by PID."""

    def __init__(self, python: str, threads: int, workdir: str) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SERVER_PORT", "PORT", "CORS_ALLOW_ORIGIN", "MINTLANE_AUTH_TOKEN")}
        env.update(APP_ID=APP_ID, APP_CERTIFICATE=APP_CERTIFICATE)
        self.proc = subprocess.Popen(
            [python, "-m", "mintlane", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", str(threads),
             "--env-file", ""], cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.port = self._wait_listening(30.0)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.put(line)

    def _wait_listening(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            m = re.search(r"listening on http://[^ ]*:(\d+) ", line)
            if m:
                return int(m.group(1))
        self.stop()
        raise SystemExit("mintlane serve did not start: " + "".join(seen))

    def output(self) -> str:
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                return "".join(out)

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def run_wrk(wrk: str, port: int, duration: int, connections: int, threads: int, channel: str,
            timeout: float) -> Tuple[subprocess.Popen, List[str]]:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s", "-s", LUA,
           f"http://127.0.0.1:{port}", "--", channel]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    return proc, cmd


def parse_wrk(text: str) -> Dict[str, int]:
    m = re.search(r"^SOAK_SUMMARY (\{.*\})$", text, re.M)
    if not m:
        raise SystemExit("wrk printed no SOAK_SUMMARY line:\n" + text)
    return json.loads(m.group(1))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=300, help="seconds of load (default 300)")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of load before the RSS baseline (default 5)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--serve-threads", type=int, default=0, help="server threads (default 0 = one per core)")
    ap.add_argument("--channel", default="soak", help="channel name in the route (default soak)")
    ap.add_argument("--sample-interval", type=float, default=3.0, help="seconds between RSS samples (default 3)")
    ap.add_argument("--max-rss-growth-mib", type=float, default=16.0,
                    help="fail when RSS at the end exceeds RSS at the start by more (default 16)")
    ap.add_argument("--max-rss-slope-kib-min", type=float, default=1024.0,
                    help="fail when the RSS trend over the last 80%% of the run exceeds this many KiB per minute "
                         "(default 1024; judged only for runs of 60 s or more)")
    ap.add_argument("--max-rss-mib", type=float, default=256.0, help="fail when RSS ever exceeds this (default 256)")
    ap.add_argument("--python", default=sys.executable, help="interpreter with mintlane installed")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk binary (Debian package wrk)")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON document")
    args = ap.parse_args(argv)

    if not os.path.exists(args.wrk) and shutil.which(args.wrk) is None:
        print(f"run_soak: wrk not found ({args.wrk}); install the Debian package 'wrk'", file=sys.stderr)
        return 2
    if args.duration < 1 or args.sample_interval <= 0:
        print("run_soak: --duration must be >= 1 and --sample-interval > 0", file=sys.stderr)
        return 2

    workdir = tempfile.mkdtemp(prefix="mintlane-soak-")
    server = None
    try:
        server = Serve(args.python, args.serve_threads, workdir)
        pid, port = server.proc.pid, server.port
        if args.warmup > 0:
            w, _ = run_wrk(args.wrk, port, args.warmup, args.connections, args.wrk_threads, args.channel + "-warm",
                           args.warmup + 30)
            w.communicate(timeout=args.warmup + 30)
        before = status_counts(port)
        samples: List[Tuple[float, int]] = []
        t0 = time.monotonic()
        samples.append((0.0, rss_kib(pid)))
        wrk, cmd = run_wrk(args.wrk, port, args.duration, args.connections, args.wrk_threads, args.channel,
                           args.duration + 60)
        out_chunks: List[str] = []
        reader = threading.Thread(target=lambda: out_chunks.append(wrk.stdout.read()), daemon=True)  # type: ignore
        reader.start()
        deadline = t0 + args.duration + 60
        next_sample = t0 + args.sample_interval
        while wrk.poll() is None:
            now = time.monotonic()
            if now > deadline:
                wrk.kill()
                wrk.wait(10)
                print("run_soak: wrk did not finish in time; killed", file=sys.stderr)
                return 2
            if now >= next_sample:
                if server.proc.poll() is not None:
                    print("run_soak: the server died during the run:\n" + server.output(), file=sys.stderr)
                    wrk.kill()
                    wrk.wait(10)
                    return 1
                samples.append((now - t0, rss_kib(pid)))
                next_sample += args.sample_interval
            time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
        reader.join(10)
        samples.append((time.monotonic() - t0, rss_kib(pid)))
        wrk_text = "".join(out_chunks)
        summary = parse_wrk(wrk_text)
        after = status_counts(port)
        served: Dict[str, int] = {}
        for key, n in after.items():
            delta = n - before.get(key, 0)
            if delta:
                served[f"{key[0]} {key[1]}"] = delta
        non_2xx = sum(n for k, n in served.items() if not k.split()[1].startswith("2"))
        socket_errors = summary["connect"] + summary["read"] + summary["write"] + summary["timeout"]
        errors = socket_errors + summary["status"] + non_2xx
        rss = [r for _, r in samples]
        # The trend ignores the first 20 % (the allocator's tail after the warm-up).
        slope = slope_kib_per_min([x for x in samples if x[0] >= 0.2 * args.duration])
        growth_kib = rss[-1] - rss[0]
        seconds = summary["duration_us"] / 1e6
        result = {
            "command": " ".join(cmd),
            "duration_s": round(seconds, 1),
            "requests": summary["requests"],
            "requests_per_s": round(summary["requests"] / seconds) if seconds else 0,
            "errors": errors,
            "socket_errors": {k: summary[k] for k in ("connect", "read", "write", "timeout")},
            "wrk_status_errors": summary["status"],
            "server_non_2xx": non_2xx,
            "server_status_counts": served,
            "latency_us": {"p50": summary["p50_us"], "p99": summary["p99_us"], "max": summary["max_us"]},
            "rss_kib": {"start": rss[0], "end": rss[-1], "min": min(rss), "max": max(rss), "samples": len(rss)},
            "rss_growth_kib": growth_kib,
            "rss_slope_kib_per_min": round(slope, 1),
        }
        problems = []
        if errors:
            problems.append(f"{errors} errors")
        if growth_kib > args.max_rss_growth_mib * 1024:
            problems.append(f"RSS grew {growth_kib / 1024:.1f} MiB (limit {args.max_rss_growth_mib} MiB)")
        if args.duration >= 60 and slope > args.max_rss_slope_kib_min:
            problems.append(f"RSS slope {slope:.0f} KiB/min (limit {args.max_rss_slope_kib_min})")
        if max(rss) > args.max_rss_mib * 1024:
            problems.append(f"RSS peaked at {max(rss) / 1024:.1f} MiB (limit {args.max_rss_mib} MiB)")
        result["ok"] = not problems
        result["problems"] = problems
        if args.json:
            print(json.dumps(result, indent=1))
        else:
            print(f"wrk:       {result['command']}")
            print(f"requests:  {result['requests']:,} in {result['duration_s']} s ({result['requests_per_s']:,}/s)")
            print(f"errors:    {errors} (socket {result['socket_errors']}, wrk status {summary['status']}, "
                  f"server non-2xx {non_2xx})")
            print(f"served:    {served}")
            print(f"latency:   p50 {summary['p50_us'] / 1000:.2f} ms, p99 {summary['p99_us'] / 1000:.2f} ms, "
                  f"max {summary['max_us'] / 1000:.2f} ms")
            print(f"RSS (KiB): start {rss[0]:,}, end {rss[-1]:,}, min {min(rss):,}, max {max(rss):,} "
                  f"({len(rss)} samples); growth {growth_kib:+,} KiB; slope {slope:+.1f} KiB/min")
            print("result:    " + ("OK" if not problems else "FAILED: " + "; ".join(problems)))
        return 0 if not problems else 1
    finally:
        if server is not None:
            code = server.stop()
            if code not in (0, None):
                print(f"run_soak: server exited {code}:\n{server.output()}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
