"""mintlane.verify_pool: check every token of a pool (``mintlane verify-pool FILE|DIR``).

Every row's token is decoded and verified in the engine (``_core._PoolVerifier``, on every core):
the signature with the app certificate, that it is for the row's channel and uid/account, that
the role's privileges match, that issued_at/expires_at agree with the token and that now lies in
its validity window. Each (channel, user) pair may appear only once in the pool. A partitioned
pool (a directory with manifest.json) is checked part by part against the manifest's counts and
sha256 as well. Pools are read as they were written: CSV (pool or locust columns), JSONL, a k6
JSON array, each optionally gzip'd.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import io
import json
import os
import sys
import time
import zlib
from typing import Any, Callable, Dict, IO, Iterator, List, Optional, Sequence, Tuple

from mintlane import _core
from mintlane.bulk import MANIFEST, BulkError, _file_sha256, guess_format

__all__ = ["verify_pool", "PoolReport", "Problem"]

_BATCH = 65536
_ROLES = {"publisher": 1, "subscriber": 2, "1": 1, "2": 2}


@dataclasses.dataclass
class Problem:
    file: str
    line: int
    status: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.status}: {self.reason}"


@dataclasses.dataclass
class PoolReport:
    """What verify_pool() found: ``ok`` when every row passed and the pool is complete."""

    path: str
    rows: int = 0
    files: int = 0
    bad_rows: int = 0
    duplicates: int = 0
    problems: List[Problem] = dataclasses.field(default_factory=list)  # the first `max_problems`
    pool_problems: List[str] = dataclasses.field(default_factory=list)  # manifest / checksum problems
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.bad_rows == 0 and self.duplicates == 0 and not self.pool_problems

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["ok"] = self.ok
        return d


# A parsed row: (token, channel, user, is_account, role 0/1/2, issued_at or -1, expires_at or -1).
_Row = Tuple[str, str, str, bool, int, int, int]


def _open_text(path: str) -> IO[str]:
    f = open(path, "rb")
    magic = f.read(2)
    f.seek(0)
    raw: IO[bytes] = gzip.GzipFile(fileobj=f) if magic == b"\x1f\x8b" else f  # type: ignore[assignment]
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _int_or(value: Any, default: int = -1) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    return int(value)


def _from_mapping(d: Any) -> _Row:
    if not isinstance(d, dict):
        raise ValueError(f"expected a JSON object, got {type(d).__name__}")
    token, channel = d.get("token"), d.get("channel")
    if not isinstance(token, str) or not isinstance(channel, str):
        raise ValueError("needs string fields 'token' and 'channel'")
    account = d.get("account")
    if account not in (None, ""):
        user, is_account = str(account), True
    elif d.get("uid") not in (None, ""):
        user, is_account = str(d["uid"]), False
    elif d.get("user") not in (None, ""):  # locust rows
        user = str(d["user"])
        is_account = not user.isdigit()
    else:
        raise ValueError("no uid or account")
    role = d.get("role")
    if role:
        r = _ROLES.get(str(role).lower())
        if r is None:
            raise ValueError(f"unknown role {str(role)[:20]!r}")
    else:
        r = 0
    return token, channel, user, is_account, r, _int_or(d.get("issued_at")), _int_or(d.get("expires_at"))


def _rows(path: str, fmt: Optional[str]) -> Iterator[Tuple[int, Any]]:
    """(line, _Row or error message) for every row of a pool file."""
    guessed, _ = guess_format(path)
    fmt = fmt or guessed
    if fmt == "vegeta":
        raise BulkError(f"{path}: vegeta targets hold requests, not pool rows; verify the pool they were built from")
    if fmt is None:
        raise BulkError(f"{path}: cannot tell the pool format from the name; pass --format csv|jsonl|k6|locust")
    with _open_text(path) as f:
        try:
            if fmt in ("csv", "locust"):
                header = f.readline()
                cols = [c.strip() for c in next(csv.reader([header]), [])]
                if "token" not in cols or "channel" not in cols:
                    raise BulkError(f"{path}:1: not a pool CSV (columns {', '.join(cols)[:80] or 'none'})")
                for n, line in enumerate(f, start=2):
                    if not line.strip():
                        continue
                    fields = next(csv.reader([line]), [])
                    if len(fields) != len(cols):
                        yield n, f"has {len(fields)} fields, the header has {len(cols)}"
                        continue
                    try:
                        yield n, _from_mapping(dict(zip(cols, fields)))
                    except ValueError as e:
                        yield n, str(e)
            elif fmt == "k6":
                yield from _k6_rows(path, f)
            else:
                for n, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        yield n, _from_mapping(json.loads(line))
                    except ValueError as e:
                        yield n, str(e).split("\n")[0]
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise BulkError(f"{path}: unreadable ({e})") from None


def _k6_rows(path: str, f: IO[str]) -> Iterator[Tuple[int, Any]]:
    # mintlane writes one element per line ("[", "{...},", ..., "]"); anything else is read whole.
    first = f.readline()
    second = f.readline().strip()
    one_per_line = first.strip() == "[" and (second in ("", "]") or (second.startswith("{") and
                                                                      second.rstrip(",").endswith("}")))
    f.seek(0)
    if one_per_line:
        f.readline()
    else:
        try:
            data = json.load(f)
        except ValueError as e:
            raise BulkError(f"{path}: not a JSON array ({e})") from None
        if not isinstance(data, list):
            raise BulkError(f"{path}: not a JSON array")
        for i, d in enumerate(data):
            try:
                yield i + 1, _from_mapping(d)
            except ValueError as e:
                yield i + 1, str(e)
        return
    for n, line in enumerate(f, start=2):
        s = line.strip()
        if not s or s == "]":
            continue
        if s.endswith(","):
            s = s[:-1]
        try:
            yield n, _from_mapping(json.loads(s))
        except ValueError as e:
            yield n, str(e).split("\n")[0]


class _Checker:
    def __init__(self, verifier: "_core._PoolVerifier", report: PoolReport, max_problems: int,
                 on_problem: Optional[Callable[[Problem], None]]) -> None:
        self.v, self.report, self.max, self.on_problem = verifier, report, max_problems, on_problem

    def problem(self, p: Problem) -> None:
        self.report.bad_rows += 1
        if len(self.report.problems) < self.max:
            self.report.problems.append(p)
            if self.on_problem:
                self.on_problem(p)

    def file(self, path: str, fmt: Optional[str], progress: Optional[Callable[[int], None]] = None) -> int:
        lines: List[int] = []
        rows: List[_Row] = []
        count = 0

        def flush() -> None:
            if not rows:
                return
            tokens, channels, users, is_account, roles, issued, expires = (list(c) for c in zip(*rows))
            for i, status, reason in self.v.check(tokens, channels, users, is_account, roles, issued, expires):
                self.problem(Problem(path, lines[i], status, reason))
            if progress:
                progress(len(rows))
            rows.clear()
            lines.clear()

        for line, row in _rows(path, fmt):
            count += 1
            if isinstance(row, str):
                self.problem(Problem(path, line, "bad_row", row))
                continue
            rows.append(row)
            lines.append(line)
            if len(rows) >= _BATCH:
                flush()
        flush()
        self.report.rows += count
        self.report.files += 1
        return count

    def duplicates(self, files: Sequence[Tuple[str, Optional[str]]]) -> None:
        keys = set(self.v.duplicate_keys())
        if not keys:
            return
        seen: Dict[int, List[Tuple[str, int, str, str]]] = {}
        for path, fmt in files:
            for line, row in _rows(path, fmt):
                if isinstance(row, str):
                    continue
                k = _core._PoolVerifier.pair_key(row[1], row[2], row[3])
                if k in keys:
                    seen.setdefault(k, []).append((path, line, row[1], row[2]))
        for places in seen.values():
            if len(places) < 2:
                continue  # a hash collision, not a duplicate
            first = places[0]
            for path, line, channel, user in places[1:]:
                self.report.duplicates += 1
                p = Problem(path, line, "duplicate", f"channel {channel!r} user {user!r} already at "
                                                      f"{first[0]}:{first[1]}")
                if len(self.report.problems) < self.max:
                    self.report.problems.append(p)
                    if self.on_problem:
                        self.on_problem(p)


def verify_pool(path: str, app_certificate: str, *, app_id: Optional[str] = None, now: Optional[int] = None,
                check_expiry: bool = True, format: Optional[str] = None, max_problems: int = 1000,
                threads: int = 0, on_problem: Optional[Callable[[Problem], None]] = None,
                progress: Optional[Callable[[int], None]] = None) -> PoolReport:
    """Checks every row of a pool file or a partitioned pool directory; returns a :class:`PoolReport`.

    ``now`` defaults to the current time (``check_expiry=False`` skips the expiry window).
    """
    started = time.perf_counter()
    if check_expiry and now is None:
        now = int(time.time())
    verifier = _core._PoolVerifier(app_certificate, app_id=app_id, now=now if check_expiry else None,
                                   threads=threads)
    report = PoolReport(path=path)
    checker = _Checker(verifier, report, max_problems, on_problem)
    files: List[Tuple[str, Optional[str]]] = []
    if os.path.isdir(path):
        mpath = os.path.join(path, MANIFEST)
        try:
            with open(mpath, encoding="utf-8") as f:
                manifest = json.load(f)
        except FileNotFoundError:
            raise BulkError(f"{path}: a directory without {MANIFEST} is not a mintlane pool") from None
        except ValueError as e:
            raise BulkError(f"{mpath}: unreadable manifest ({e})") from None
        fmt = manifest.get("spec", {}).get("format")
        parts = {int(p["index"]): p for p in manifest.get("parts", [])}
        for i in range(int(manifest.get("partitions") or 0)):
            if i not in parts:
                report.pool_problems.append(f"part {i} is missing from {MANIFEST} (the job did not finish)")
        for i in sorted(parts):
            entry = parts[i]
            ppath = os.path.join(path, entry["file"])
            if not os.path.isfile(ppath):
                report.pool_problems.append(f"{entry['file']}: listed in {MANIFEST} but missing")
                continue
            digest, _ = _file_sha256(ppath)
            if digest != entry["sha256"]:
                report.pool_problems.append(f"{entry['file']}: sha256 {digest} differs from {MANIFEST} ({entry['sha256']})")
            files.append((ppath, fmt))
            n = checker.file(ppath, fmt, progress)
            if n != entry["count"]:
                report.pool_problems.append(f"{entry['file']}: {n} rows but {MANIFEST} says {entry['count']}")
    else:
        if not os.path.exists(path):
            raise BulkError(f"{path}: no such file")
        files.append((path, format))
        checker.file(path, format, progress)
    checker.duplicates(files)
    report.seconds = time.perf_counter() - started
    return report


# ---- CLI --------------------------------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Check every token of a pool file (CSV, JSONL, k6 JSON, locust CSV; .gz too) or a partitioned "
                     "pool directory: signature, channel/user, role, issued_at/expires_at, expiry window, and that "
                     "each (channel, user) pair appears once.")
    p.add_argument("path", help="pool file or directory with manifest.json")
    p.add_argument("--app-certificate", help="32 hex characters (default: $APP_CERTIFICATE)")
    p.add_argument("--app-certificate-file")
    p.add_argument("--app-id", help="also require this app id in every token")
    p.add_argument("--demo", action="store_true", help="use the built-in demo certificate when none is set")
    p.add_argument("--format", choices=["csv", "jsonl", "k6", "locust"], help="default: from the file name")
    p.add_argument("--now", type=int, help="Unix time for the expiry window (default: now)")
    p.add_argument("--no-expiry", action="store_true", help="do not check the expiry window")
    p.add_argument("--max-report", type=int, default=20, help="bad rows to print (default 20)")
    p.add_argument("--threads", type=int, default=0, help="verification threads (default: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from mintlane.cli import DEMO_APP_CERTIFICATE, CliError, _credentials

    if args.demo and not (args.app_certificate or args.app_certificate_file or os.environ.get("APP_CERTIFICATE")):
        cert = DEMO_APP_CERTIFICATE
    else:
        _, cert, _ = _credentials(argparse.Namespace(app_id="-", app_certificate=args.app_certificate,
                                                     app_certificate_file=args.app_certificate_file))
    printed = [0]

    def show(p: Problem) -> None:
        if not args.json and printed[0] < args.max_report:
            printed[0] += 1
            print(str(p))

    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(unit="tok", unit_scale=True, desc="verifying", file=sys.stderr, dynamic_ncols=True)
    try:
        report = verify_pool(args.path, cert, app_id=args.app_id, now=args.now, check_expiry=not args.no_expiry,
                             format=args.format, max_problems=max(args.max_report, 1000), threads=args.threads,
                             on_problem=show, progress=bar.update if bar is not None else None)
    except BulkError as e:
        raise CliError(str(e)) from None
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        for msg in report.pool_problems:
            print(f"{args.path}: {msg}")
        rate = report.rows / report.seconds if report.seconds > 0 else 0.0
        verdict = "OK" if report.ok else "FAILED"
        print(f"{verdict}: checked {report.rows:,} tokens in {report.files} file{'s' if report.files != 1 else ''} "
              f"in {report.seconds:.2f} s ({rate:,.0f} tokens/s): {report.bad_rows:,} bad rows, "
              f"{report.duplicates:,} duplicate (channel, user) pairs"
              + (f", {len(report.pool_problems)} pool problems" if report.pool_problems else ""))
    return 0 if report.ok else 1
