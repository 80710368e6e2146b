"""``mintlane bench``: tokens/s from Python, side by side with the peers, on the PERF_NOTES workload.

Workload (PERF_NOTES.md): RTC 007 token, app id 970CA35de60c44645bbae8a215061b33, certificate
5CFd2fd1755d40ecb72977518be15d3b (Agora's public test fixture), channel
7d72365eb983485397e3e3f9d460bdda, uid 2882341273, publisher, expire 3600, a fresh CSPRNG salt per
token. Rows:

* mintlane single call: ``m.rtc(channel, uid, role="publisher", expire=3600)`` in a loop, on a
  ``Minter(..., threads=1)``; and the same loop split over N Python threads sharing one Minter.
* mintlane batch: ``m.rtc_batch(channel=..., uids=range(...))`` returning a ``TokenBatch`` (no
  per-token Python object), with ``threads=1`` and ``threads=N``.
* mintlane batch + ``tolist()``: the same, then one ``str`` per token.
* peers, when installed: ``mintlane.compat.RtcTokenBuilder2`` (the python3 reference's API,
  ``exact`` zlib level 6 like the reference), PyPI ``agora-token-builder`` (006, with
  mintlane's ``m.rtc_006`` beside it), and npm ``agora-token`` 2.0.6 (007 and 006) through
  ``node bench/peers/node_bench.js``.

Method: one untimed warm-up round, then ``--runs`` rounds; each round measures every row once,
rows interleaved, so that all rows see the same machine conditions; a row's result is the median
of its rounds with the min-max spread. Wall clock (``time.perf_counter``); Node rows are timed
inside Node (``process.hrtime``) by one process per round. Ratios divide medians of this run.
The load average before and after is reported: on a shared host, compare ratios, not absolute
numbers across runs.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
UID = 2882341273
EXPIRE = 3600

DEFAULT_RUNS = 7
DEFAULT_COUNT = 100_000
QUICK_RUNS = 5
QUICK_COUNT = 5_000
QUICK_PEER_COUNT = 500

# Targets from the project's performance issue (Python side; the C++ ones are in bench/README.md).
TARGETS = [
    {"row": "batch", "threads": 1, "min_tokens_per_s": 2_500_000,
     "name": "batch to TokenBatch, one thread >= 2.5 M/s"},
    {"row": "batch+tolist", "threads": 1, "min_tokens_per_s": 2_000_000,
     "name": "batch + tolist(), one thread >= 2 M/s"},
]

NODE_SCRIPT_ENV = "MINTLANE_BENCH_NODE_SCRIPT"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Measure tokens/s from Python (single call, batch, batch + tolist) on one thread and on "
                     "all threads, next to the peers that are installed. Uses Agora's public test fixture as "
                     "credentials (PERF_NOTES workload).")
    p.add_argument("--runs", type=int, default=None,
                   help=f"timed rounds; each row reports the median and min-max (default {DEFAULT_RUNS}, "
                        f"--quick {QUICK_RUNS}; at least 5 recommended)")
    p.add_argument("--count", type=int, default=None,
                   help=f"tokens per mintlane measurement (default {DEFAULT_COUNT:,}; --quick {QUICK_COUNT:,})")
    p.add_argument("--peer-count", type=int, default=None,
                   help="tokens per peer measurement (default count/20, at least 1,000; --quick 500)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for the all-threads rows (default: all cores, os.cpu_count())")
    p.add_argument("--compression", choices=("fast", "isal", "exact"), default="fast",
                   help="mintlane Minter compression (default fast)")
    p.add_argument("--no-peers", action="store_true", help="measure mintlane only")
    p.add_argument("--node", default=None, help="node binary for the npm peer (default: node on PATH)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    p.add_argument("--quick", action="store_true", help="small counts and 5 rounds (a smoke test, not a benchmark)")


# ---- measurement helpers ------------------------------------------------------------------------

class Row:
    """One line of the result table: a callable that mints `count` tokens and returns them (a
    TokenBatch or a list) or their total characters."""

    def __init__(self, key: str, name: str, impl: str, api: str, token: str, threads: int, count: int,
                 fn: Optional[Callable[[], Any]] = None, compression: Optional[str] = None):
        self.key, self.name, self.impl, self.api, self.token = key, name, impl, api, token
        self.threads, self.count, self.fn, self.compression = threads, count, fn, compression
        self.rates: List[float] = []
        self.cpu_ns: List[float] = []  # process CPU time (every thread) per token, per round
        self.chars = 0
        self.skipped: Optional[str] = None
        self.extra: Dict[str, Any] = {}

    def measure(self) -> None:
        assert self.fn is not None
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = self.fn()
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        # The clock stops when the caller holds the result; counting its characters and freeing
        # it (100,000 str objects for tolist()) happen outside the timed region.
        self.chars = _chars(result)
        del result
        self.rates.append(self.count / dt)
        self.cpu_ns.append(dc * 1e9 / self.count)

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"key": self.key, "name": self.name, "impl": self.impl, "api": self.api,
                             "token": self.token, "threads": self.threads, "count": self.count}
        if self.compression:
            d["compression"] = self.compression
        if self.skipped is not None:
            d["skipped"] = self.skipped
            return d
        med = statistics.median(self.rates)
        d.update({
            "tokens_per_s": {"median": med, "min": min(self.rates), "max": max(self.rates)},
            "spread_pct": (max(self.rates) - min(self.rates)) / med * 100.0 if med else 0.0,
            "ns_per_token": 1e9 / med if med else None,
            "token_chars": self.chars / self.count if self.count and self.chars else self.extra.get("token_chars"),
            "runs_tokens_per_s": self.rates,
        })
        if self.cpu_ns:
            # CPU time of the whole process per token (all threads): the per-core cost, which other
            # load on the host inflates far less than wall time.
            d["cpu_ns_per_token"] = statistics.median(self.cpu_ns)
        d.update({k: v for k, v in self.extra.items() if k != "token_chars"})
        return d


def _chars(result: Any) -> int:
    """Total characters of what a row returned: a count, a TokenBatch or a list of str."""
    if isinstance(result, int):
        return result
    if hasattr(result, "nbytes"):
        return int(result.nbytes)
    return sum(len(t) for t in result)


def _threaded(fn: Callable[[int], int], threads: int, count: int) -> Callable[[], int]:
    """Runs fn(n_i) on `threads` Python threads started together; returns the summed chars."""
    def run() -> int:
        shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
        results = [0] * threads
        barrier = threading.Barrier(threads)

        def work(i: int) -> None:
            barrier.wait()
            results[i] = fn(shares[i])

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sum(results)
    return run


def _uid_range(count: int) -> range:
    start = max(1, UID - count // 2)
    return range(start, start + count)


# ---- rows ---------------------------------------------------------------------------------------

def _mintlane_rows(count: int, threads: int, compression: str) -> List[Row]:
    import mintlane

    m1 = mintlane.Minter(APP_ID, APP_CERTIFICATE, compression=compression, threads=1)
    mn = mintlane.Minter(APP_ID, APP_CERTIFICATE, compression=compression, threads=threads)
    uids = _uid_range(count)

    def single(n: int, m: Any = m1) -> int:
        rtc = m.rtc
        chars = 0
        for _ in range(n):
            chars += len(rtc(CHANNEL, UID, role="publisher", expire=EXPIRE))
        return chars

    def batch(m: Any) -> Callable[[], Any]:
        def run() -> Any:
            return m.rtc_batch(channel=CHANNEL, uids=uids, role="publisher", expire=EXPIRE)
        return run

    def batch_tolist(m: Any) -> Callable[[], Any]:
        def run() -> Any:
            return m.rtc_batch(channel=CHANNEL, uids=uids, role="publisher", expire=EXPIRE).tolist()
        return run

    def single_006(n: int) -> int:
        rtc_006 = m1.rtc_006
        chars = 0
        for _ in range(n):
            chars += len(rtc_006(CHANNEL, UID, role="publisher", expire=EXPIRE))
        return chars

    rows = [
        Row("single", "mintlane m.rtc() loop", "mintlane", "single", "007", 1, count, lambda: single(count), compression),
    ]
    if threads > 1:
        rows.append(Row("single", f"mintlane m.rtc() loop, {threads} Python threads", "mintlane", "single", "007",
                        threads, count, _threaded(lambda n: single(n, mn), threads, count), compression))
    rows.append(Row("batch", "mintlane rtc_batch() -> TokenBatch", "mintlane", "batch", "007", 1, count,
                    batch(m1), compression))
    if threads > 1:
        rows.append(Row("batch", "mintlane rtc_batch() -> TokenBatch", "mintlane", "batch", "007", threads, count,
                        batch(mn), compression))
    rows.append(Row("batch+tolist", "mintlane rtc_batch().tolist()", "mintlane", "batch+tolist", "007", 1, count,
                    batch_tolist(m1), compression))
    if threads > 1:
        rows.append(Row("batch+tolist", "mintlane rtc_batch().tolist()", "mintlane", "batch+tolist", "007", threads,
                        count, batch_tolist(mn), compression))
    rows.append(Row("single_006", "mintlane m.rtc_006() loop", "mintlane", "single", "006", 1, count,
                    lambda: single_006(count)))
    return rows


def _compat_row(count: int) -> Row:
    row = Row("compat", "mintlane.compat RtcTokenBuilder2 (python3-reference API, exact)", "mintlane.compat",
              "single", "007", 1, count, compression="exact")
    try:
        from mintlane.compat import get_compression
        from mintlane.compat.RtcTokenBuilder2 import Role_Publisher, RtcTokenBuilder
    except ImportError as e:  # pragma: no cover - shipped with the package
        row.skipped = f"mintlane.compat not importable: {e}"
        return row
    row.compression = get_compression()
    build = RtcTokenBuilder.build_token_with_uid

    def run() -> int:
        chars = 0
        for _ in range(count):
            chars += len(build(APP_ID, APP_CERTIFICATE, CHANNEL, UID, Role_Publisher, EXPIRE, EXPIRE))
        return chars
    row.fn = run
    return row


def _agora_token_builder_row(count: int) -> Row:
    row = Row("agora_token_builder", "PyPI agora-token-builder RtcTokenBuilder.buildTokenWithUid (006)",
              "agora-token-builder", "single", "006", 1, count)
    try:
        import agora_token_builder
        from agora_token_builder import RtcTokenBuilder
    except ImportError:
        row.skipped = "not installed (pip install agora-token-builder)"
        return row
    try:
        from importlib.metadata import version
        row.extra["package_version"] = version("agora_token_builder")
    except Exception:  # pragma: no cover - metadata is optional
        pass
    row.extra["module"] = getattr(agora_token_builder, "__file__", None)
    build = RtcTokenBuilder.buildTokenWithUid

    def run() -> int:
        ts = int(time.time()) + EXPIRE
        chars = 0
        for _ in range(count):
            chars += len(build(APP_ID, APP_CERTIFICATE, CHANNEL, UID, 1, ts))
        return chars
    row.fn = run
    return row


def _source_checkouts() -> List[Path]:
    """Where a mintlane source tree may be: next to this file (an in-tree run), the directory pip
    installed from (PEP 610 direct_url.json), the current directory and its parents."""
    roots = [Path(__file__).resolve().parents[2]]  # python/mintlane/bench.py in a checkout
    try:
        from importlib.metadata import distribution
        from urllib.parse import unquote, urlparse

        text = distribution("mintlane").read_text("direct_url.json")
        url = json.loads(text).get("url", "") if text else ""
        if url.startswith("file://"):
            roots.append(Path(unquote(urlparse(url).path)))
    except Exception:  # metadata is optional; a wheel from an index has no direct_url.json
        pass
    cwd = Path.cwd()
    roots += [cwd, *cwd.parents]
    return roots


def _node_script() -> Optional[Path]:
    env = os.environ.get(NODE_SCRIPT_ENV)
    if env:
        return Path(env)
    for root in _source_checkouts():
        p = root / "bench" / "peers" / "node_bench.js"
        if p.is_file():
            return p
    return None


class NodeRow(Row):
    """npm agora-token through node: one process per round, timed inside Node."""

    def __init__(self, token: str, count: int, node: Optional[str]):
        super().__init__(f"node_{token}", f"npm agora-token RtcTokenBuilder.buildTokenWithUid ({token}, node)",
                         "agora-token", "single", token, 1, count)
        self.node = node or shutil.which("node") or shutil.which("nodejs")
        self.script = _node_script()
        if self.node is None:
            self.skipped = "node not found on PATH"
        elif self.script is None:
            self.skipped = f"bench/peers/node_bench.js not found (set {NODE_SCRIPT_ENV})"

    def measure(self) -> None:
        cmd = [self.node, str(self.script), "--count", str(self.count), "--runs", "1", "--warmup", "1",
               "--token", self.token]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.skipped = f"node failed: {e}"
            return
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
            self.skipped = f"node peer unavailable: {msg}"
            return
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.rates.extend(out["runs_tokens_per_s"])
        self.extra.update({"package_version": out.get("package_version"), "node": out.get("node"),
                           "token_chars": out.get("token_chars")})


# ---- report --------------------------------------------------------------------------------------

def _build_info(compression: str, threads: int) -> Dict[str, Any]:
    import mintlane
    from mintlane import _core

    kernels = dict(_core._active_kernels())
    info: Dict[str, Any] = {
        "mintlane": getattr(mintlane, "__version__", "unknown"),
        "kernels": {k: v for k, v in kernels.items() if k != "cpu_features"},
        "cpu_features": kernels.get("cpu_features", ""),
        "disabled_cpu_features": os.environ.get("MINTLANE_DISABLE_CPU_FEATURES", ""),
        "compression": compression,
        "threads_all": threads,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def _loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _find(rows: List[Dict[str, Any]], key: str, threads: int = 1) -> Optional[Dict[str, Any]]:
    for r in rows:
        if r["key"] == key and r["threads"] == threads and "skipped" not in r:
            return r
    return None


def _ratios(rows: List[Dict[str, Any]], threads: int) -> List[Dict[str, Any]]:
    pairs = [
        ("batch", 1, "node_007", 1, "mintlane batch (1 thread) vs npm agora-token 007 (node)"),
        ("single", 1, "node_007", 1, "mintlane single call vs npm agora-token 007 (node)"),
        ("batch", 1, "compat", 1, "mintlane batch (1 thread) vs mintlane.compat (reference API, exact)"),
        ("single", 1, "compat", 1, "mintlane single call vs mintlane.compat (reference API, exact)"),
        ("single_006", 1, "agora_token_builder", 1, "mintlane m.rtc_006() vs PyPI agora-token-builder (006)"),
        ("single_006", 1, "node_006", 1, "mintlane m.rtc_006() vs npm agora-token 006 (node)"),
        ("batch", threads, "batch", 1, f"mintlane batch, {threads} threads vs 1 thread"),
        ("batch+tolist", threads, "batch+tolist", 1, f"mintlane batch + tolist(), {threads} threads vs 1 thread"),
        ("batch+tolist", 1, "batch", 1, "tolist() path vs TokenBatch path (1 thread)"),
        ("batch", 1, "single", 1, "mintlane batch vs single call (1 thread)"),
    ]
    out = []
    for a_key, a_t, b_key, b_t, name in pairs:
        if a_key == b_key and a_t == b_t:
            continue
        a, b = _find(rows, a_key, a_t), _find(rows, b_key, b_t)
        if a and b:
            out.append({"name": name, "ratio": a["tokens_per_s"]["median"] / b["tokens_per_s"]["median"]})
    return out


def _targets(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out = []
    for t in TARGETS:
        r = _find(rows, t["row"], t["threads"])
        entry = {"name": t["name"], "min_tokens_per_s": t["min_tokens_per_s"]}
        if r is None:
            entry.update({"measured": None, "met": None})
        else:
            med = r["tokens_per_s"]["median"]
            entry.update({"measured": med, "min": r["tokens_per_s"]["min"], "max": r["tokens_per_s"]["max"],
                          "met": med >= t["min_tokens_per_s"]})
        out.append(entry)
    return out


def _fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f} M/s"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k/s"
    return f"{x:.0f} /s"


def _print_table(doc: Dict[str, Any]) -> None:
    b, m = doc["build"], doc["method"]
    print(f"mintlane {b['mintlane']} bench - workload: {doc['workload']['description']}")
    print(f"build: kernels {', '.join(f'{k}={v}' for k, v in b['kernels'].items())}; compression {b['compression']}; "
          f"cpu features {b['cpu_features'] or '-'}; {b.get('cpu', b['machine'])}, {b['cpu_count']} cores; "
          f"Python {b['python']}")
    print(f"method: {m['description']}")
    print("columns: median tokens/s with min - max over the rounds; ns/token = 1e9 / median; cpu ns = median "
          "process CPU time per token (all threads; node rows: -); chars = average token length")
    load = doc["load"]
    print(f"load average before {load['before']}, after {load['after']}"
          + ("  -- machine was BUSY: absolute numbers are pessimistic, compare ratios" if load["busy"] else ""))
    print()
    header = (f"{'row':<66} {'thr':>3} {'median':>11} {'min - max':>23} {'ns/token':>9} {'cpu ns':>7} "
              f"{'chars':>6}")
    print(header)
    print("-" * len(header))
    for r in doc["results"]:
        name = r["name"]
        if "skipped" in r:
            print(f"{name:<66} {r['threads']:>3}   skipped: {r['skipped']}")
            continue
        t = r["tokens_per_s"]
        chars = r.get("token_chars")
        cpu = r.get("cpu_ns_per_token")
        print(f"{name:<66} {r['threads']:>3} {_fmt_rate(t['median']):>11} "
              f"{_fmt_rate(t['min']) + ' - ' + _fmt_rate(t['max']):>23} {r['ns_per_token']:>9.0f} "
              f"{(f'{cpu:.0f}' if cpu else '-'):>7} {(f'{chars:.1f}' if chars else '-'):>6}")
    if doc["ratios"]:
        print()
        print("ratios (medians of this run):")
        for q in doc["ratios"]:
            print(f"  {q['ratio']:8.2f}x  {q['name']}")
    print()
    print("targets:")
    for t in doc["targets"]:
        if t["met"] is None:
            state = "not measured"
        else:
            state = ("MET" if t["met"] else "MISSED") + (
                f" (median {_fmt_rate(t['measured'])}, {_fmt_rate(t['min'])} - {_fmt_rate(t['max'])})")
        print(f"  {t['name']}: {state}")


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    runs = args.runs if args.runs is not None else (QUICK_RUNS if quick else DEFAULT_RUNS)
    count = args.count if args.count is not None else (QUICK_COUNT if quick else DEFAULT_COUNT)
    threads = args.threads if args.threads is not None else (os.cpu_count() or 1)
    if args.peer_count is not None:
        peer_count = args.peer_count
    else:
        peer_count = QUICK_PEER_COUNT if quick else max(1_000, count // 20)
    for name, v in (("--runs", runs), ("--count", count), ("--peer-count", peer_count), ("--threads", threads)):
        if v < 1:
            sys.stderr.write(f"mintlane bench: error: {name} must be at least 1, got {v}\n")
            return 2
    if count > 100_000_000:
        sys.stderr.write("mintlane bench: error: --count above 100,000,000 would not fit the uid range workload\n")
        return 2

    load_before = _loadavg()
    rows = _mintlane_rows(count, threads, args.compression)
    if not args.no_peers:
        rows += [_compat_row(peer_count), _agora_token_builder_row(peer_count),
                 NodeRow("007", peer_count, args.node), NodeRow("006", peer_count, args.node)]

    live = [r for r in rows if r.skipped is None]
    for r in live:  # warm-up round: first-touch pages, pool threads, JIT, imports
        if not isinstance(r, NodeRow):
            r.measure()
            r.rates.clear()
    t_start = time.perf_counter()
    for _ in range(runs):
        for r in live:
            if r.skipped is None:
                r.measure()
    elapsed = time.perf_counter() - t_start
    load_after = _loadavg()
    for r in rows:
        if r.skipped is None and not r.rates:
            r.skipped = "no measurement"

    results = [r.to_dict() for r in rows]
    cpus = os.cpu_count() or 1
    busy = any(la is not None and la[0] > 0.5 * cpus for la in (load_before, load_after))
    doc: Dict[str, Any] = {
        "tool": "mintlane bench",
        "workload": {
            "description": f"RTC 007, uid {UID}, publisher, expire {EXPIRE}, channel {CHANNEL}, per-token salt",
            "app_id": APP_ID, "channel": CHANNEL, "uid": UID, "role": "publisher", "expire": EXPIRE,
            "salt": "CSPRNG per token", "credentials": "Agora public test fixture (demo only)",
        },
        "method": {
            "runs": runs, "warmup_rounds": 1, "statistic": "median", "spread": "min-max",
            "clock": "time.perf_counter (wall) until the caller holds the result (freeing it is not timed); node rows: process.hrtime inside node",
            "order": "rows interleaved within each round", "count": count, "peer_count": peer_count,
            "quick": quick, "elapsed_s": elapsed,
            "description": (f"median of {runs} interleaved rounds (min - max shown), after 1 warm-up round; "
                            f"{count:,} tokens per mintlane measurement, {peer_count:,} per peer; wall clock"
                            + ("; fewer than 5 rounds: spread is not meaningful" if runs < 5 else "")),
        },
        "build": _build_info(args.compression, threads),
        "load": {"before": load_before, "after": load_after, "busy": busy},
        "results": results,
        "ratios": _ratios(results, threads),
        "targets": _targets(results),
    }
    node_rows = [r for r in results if r["impl"] == "agora-token" and "skipped" not in r]
    if node_rows:
        doc["build"]["node"] = node_rows[0].get("node")
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(doc)
    return 0
