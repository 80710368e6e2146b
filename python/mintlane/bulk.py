"""mintlane.bulk: token pools for events and load tests (``mintlane bulk``).

A pool is minted in chunks and streamed to disk: the engine mints, formats (CSV, JSONL, a k6
JSON array, vegeta targets or a locust CSV) and optionally gzips each chunk on every core
(``_core._PoolWriter``), while a second thread hashes and writes the previous chunk. Memory
stays at a couple of chunks whatever the pool size.

Inputs are a generator (channels x users, a publisher share, one expiry) or a CSV/JSONL file of
requests (channel, uid or account, role, expire). Large pools are split into partitions: part
files plus ``manifest.json`` (spec, count and sha256 per part, tool version, issue_ts range).
Each part is written under a temporary name and linked into place when complete, so a re-run
skips the parts the manifest lists and an interrupted job resumes without duplicates or losses.
:func:`partition_rows` and :func:`write_part` are what ``mintlane.distributed`` runs on Dask
workers; Ray or Spark users can call them the same way.

    >>> from mintlane import bulk
    >>> spec = bulk.Generator(channels=100, users_per_channel=10_000, publishers="10%")
    >>> summary = bulk.write_pool(spec, "event.jsonl.gz", app_id=APP_ID, app_certificate=CERT)
    >>> summary.count, summary.sha256
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from mintlane import _core

__all__ = [
    "Generator",
    "RequestFile",
    "Summary",
    "BulkError",
    "BadInputError",
    "write_pool",
    "write_part",
    "partition_rows",
    "make_plan",
    "prepare_parts",
    "Manifest",
    "FORMATS",
]

FORMATS = ("csv", "jsonl", "k6", "vegeta", "locust")
TOKEN_TYPES = ("rtc", "rtc-rtm")
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MANIFEST_VERSION = 1
DEFAULT_CHUNK_ROWS = 65536        # rows per chunk (two chunks in flight)
DEFAULT_TASK_CHUNK_ROWS = 16384   # for one-thread tasks (Dask): less memory per worker process
DEFAULT_GZIP_LEVEL = 1
_EXT = {"csv": ".csv", "jsonl": ".jsonl", "k6": ".k6.json", "vegeta": ".vegeta.jsonl", "locust": ".locust.csv"}
_CHECKPOINT_EVERY = 1024  # request rows between recorded file offsets
_MAX_REPORTED = 10        # bad rows printed to stderr


class BulkError(ValueError):
    """A pool cannot be built as asked (bad spec, unwritable output, a manifest for another spec)."""


class BadInputError(BulkError):
    """The request file has bad rows (``.bad`` lists ``(file, line, message)``, ``.count`` all of them)."""

    def __init__(self, message: str, bad: Sequence[Tuple[str, int, str]], count: int) -> None:
        super().__init__(message)
        self.bad = list(bad)
        self.count = count


# ---- inputs --------------------------------------------------------------------------------------
def _publishers_per_channel(publishers: Union[str, int, float], users: int) -> int:
    """'10%' / 0.1 -> that share of each channel (rounded half up); an int -> that many."""
    if isinstance(publishers, bool):
        raise BulkError("publishers: expected a count or a percentage such as '10%'")
    if isinstance(publishers, str):
        text = publishers.strip()
        try:
            if text.endswith("%"):
                share = float(text[:-1]) / 100.0
            else:
                return _publishers_per_channel(int(text), users)
        except ValueError:
            raise BulkError(f"publishers: {publishers!r} is not a count or a percentage such as '10%'") from None
        if not 0.0 <= share <= 1.0:
            raise BulkError(f"publishers: {publishers!r} is not between 0% and 100%")
        return int(share * users + 0.5)
    if isinstance(publishers, float):
        if not 0.0 <= publishers <= 1.0:
            raise BulkError(f"publishers: a share must be in 0.0..1.0, got {publishers}")
        return int(publishers * users + 0.5)
    if publishers < 0 or publishers > users:
        raise BulkError(f"publishers: {publishers} per channel is not in 0..{users} (the users per channel)")
    return int(publishers)


@dataclasses.dataclass(frozen=True)
class Generator:
    """channels x users_per_channel tokens, channel-major.

    Channel names are ``channel_prefix`` + the channel number (``channel_start``...), zero-padded
    to ``channel_digits`` (default: the largest number's width). Users are uids ``uid_start``...
    (unique across the pool, or restarting in every channel), or accounts ``account_prefix`` +
    that number. The first ``publishers`` users of each channel are publishers ("10%", 0.1 or a
    count per channel), the rest subscribers.
    """

    channels: int
    users_per_channel: int
    publishers: Union[str, int, float] = 0
    expire: int = 3600
    token_type: str = "rtc"
    channel_prefix: str = "channel-"
    channel_digits: int = 0
    channel_start: int = 1
    uid_start: int = 1
    uids_restart_per_channel: bool = False
    accounts: bool = False
    account_prefix: str = "user-"

    @property
    def publishers_per_channel(self) -> int:
        return _publishers_per_channel(self.publishers, self.users_per_channel)

    def __len__(self) -> int:
        return self.channels * self.users_per_channel

    def engine(self) -> "_core._BulkGenerator":
        """The validated engine object (raises mintlane's ValueError subclasses)."""
        for name in ("channels", "users_per_channel", "channel_digits", "channel_start", "uid_start"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise BulkError(f"{name}: expected a non-negative integer, got {v!r}")
        if self.token_type not in TOKEN_TYPES:
            raise BulkError(f"token_type: unknown token type {self.token_type!r} (use {' or '.join(TOKEN_TYPES)})")
        return _core._BulkGenerator(
            token_type=self.token_type, channels=self.channels, users_per_channel=self.users_per_channel,
            channel_prefix=self.channel_prefix, channel_digits=self.channel_digits, channel_start=self.channel_start,
            uid_start=self.uid_start, uids_restart_per_channel=self.uids_restart_per_channel, accounts=self.accounts,
            account_prefix=self.account_prefix, publishers_per_channel=self.publishers_per_channel,
            expire=self.expire)

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["kind"] = "generator"
        d["publishers"] = self.publishers_per_channel  # "10%" and its count are the same pool
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Generator":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def describe(self) -> str:
        users = "accounts" if self.accounts else "uids"
        pubs = self.publishers_per_channel
        share = f"{pubs} publisher{'s' if pubs != 1 else ''} per channel" if pubs else "all subscribers"
        return (f"{self.channels:,} channels x {self.users_per_channel:,} {users} ({share}), "
                f"{self.token_type.upper()} tokens, expire {self.expire} s")


@dataclasses.dataclass(frozen=True)
class RequestFile:
    """A CSV (header row) or JSONL file of requests: channel, uid or account, role, expire.

    ``role`` and ``expire`` may be absent (column or key) or empty: ``default_role`` and
    ``default_expire`` apply. Bad rows are reported with file and line; unless ``skip_bad`` they
    reject the whole file before anything is minted.
    """

    path: str
    format: Optional[str] = None  # "csv" or "jsonl"; guessed from the suffix
    token_type: str = "rtc"
    default_role: str = "publisher"
    default_expire: int = 3600
    skip_bad: bool = False

    def input_format(self) -> str:
        if self.format:
            if self.format not in ("csv", "jsonl"):
                raise BulkError(f"input format: {self.format!r} is not csv or jsonl")
            return self.format
        name = self.path.lower()
        if name.endswith(".gz"):
            raise BulkError(f"{self.path}: compressed request files are not read; decompress it first")
        if name.endswith((".jsonl", ".ndjson", ".json")):
            return "jsonl"
        return "csv"

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["kind"] = "requests"
        d["format"] = self.input_format()
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "RequestFile":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def describe(self) -> str:
        return f"requests from {self.path} ({self.input_format()})"


Source = Union[Generator, RequestFile]

_CSV_COLUMNS = ("channel", "uid", "account", "role", "expire")
_JSON_KEYS = frozenset(_CSV_COLUMNS)


class _Row:
    """One parsed request line: (channel, user text, is_account, role text, expire) or an error."""

    __slots__ = ()

    @staticmethod
    def user(uid: Any, account: Any) -> Tuple[str, bool]:
        has_uid = uid not in (None, "")
        has_account = account not in (None, "")
        if has_uid and has_account:
            raise ValueError("give uid or account, not both")
        if not has_uid and not has_account:
            raise ValueError("no uid or account")
        if has_account:
            if not isinstance(account, str):
                raise ValueError(f"account: expected a string, got {type(account).__name__}")
            return account, True
        if isinstance(uid, bool) or not isinstance(uid, (int, str)):
            raise ValueError(f"uid: expected an integer, got {type(uid).__name__}")
        return str(uid), False


def _parse_expire(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise ValueError("expire: expected a whole number of seconds, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            pass
    raise ValueError(f"expire: {str(value)[:40]!r} is not a whole number of seconds")


def _parse_role(value: Any, default: str) -> str:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise ValueError("role: expected publisher/subscriber or 1/2, got a bool")
    if isinstance(value, (int, str)):
        return str(value)
    raise ValueError(f"role: expected publisher/subscriber or 1/2, got {type(value).__name__}")


class _RequestReader:
    """Reads request rows of a file from a byte offset: yields (line, row id, parsed or error)."""

    def __init__(self, spec: RequestFile) -> None:
        self.spec = spec
        self.fmt = spec.input_format()
        self.columns: Optional[List[str]] = None

    def open(self) -> io.BufferedReader:
        try:
            f = open(self.spec.path, "rb")
        except OSError as e:
            raise BulkError(f"{self.spec.path}: cannot read: {e.strerror or e}") from None
        return f

    def read_header(self, f: io.BufferedReader) -> int:
        """Checks the header (CSV) or that the file is not empty; returns the data's byte offset."""
        path = self.spec.path
        first = f.readline()
        if first == b"":
            raise BulkError(f"{path}: the file is empty (expected {'a header row' if self.fmt == 'csv' else 'JSON lines'})")
        if self.fmt == "jsonl":
            f.seek(0)
            return 0
        if b"\x00" in first:
            raise BulkError(f"{path}:1: binary data, not a CSV header (expected columns channel, uid or account, role, expire)")
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BulkError(f"{path}:1: not UTF-8 text, not a CSV header") from None
        cols = [c.strip().lower() for c in next(csv.reader([text]), [])]
        unknown = [c for c in cols if c not in _CSV_COLUMNS]
        if unknown or "channel" not in cols or not ({"uid", "account"} & set(cols)) or len(set(cols)) != len(cols):
            problem = (f"unknown column(s) {', '.join(repr(c) for c in unknown)}" if unknown else
                       "missing column 'channel'" if "channel" not in cols else
                       "missing column 'uid' or 'account'" if not ({"uid", "account"} & set(cols)) else
                       "a column appears twice")
            raise BulkError(f"{path}:1: wrong columns: {problem} (found {', '.join(cols) or 'nothing'}; expected "
                            f"channel, uid and/or account, optional role, expire)")
        self.columns = cols
        return len(first)

    def parse(self, raw: bytes) -> Tuple[str, str, bool, str, int]:
        if b"\x00" in raw:
            raise ValueError("binary data (NUL byte), not a request row")
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise ValueError(f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
        spec = self.spec
        if self.fmt == "csv":
            assert self.columns is not None
            fields = next(csv.reader([text]), [])
            if len(fields) != len(self.columns):
                raise ValueError(f"has {len(fields)} fields, the header has {len(self.columns)}")
            row = dict(zip(self.columns, fields))
        else:
            try:
                row = json.loads(text)
            except ValueError as e:
                raise ValueError(f"not valid JSON ({str(e).split(':')[0]})") from None
            if not isinstance(row, dict):
                raise ValueError(f"expected a JSON object, got {type(row).__name__}")
            unknown = [k for k in row if k not in _JSON_KEYS]
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(repr(k) for k in unknown[:3])} (allowed: "
                                 f"channel, uid, account, role, expire)")
        channel = row.get("channel")
        if not isinstance(channel, str):
            raise ValueError("channel: missing" if channel is None else
                             f"channel: expected a string, got {type(channel).__name__}")
        user, is_account = _Row.user(row.get("uid"), row.get("account"))
        return (channel, user, is_account, _parse_role(row.get("role"), spec.default_role),
                _parse_expire(row.get("expire"), spec.default_expire))

    def rows(self, f: io.BufferedReader, line: int, row_id: int, stop: Optional[int]
             ) -> Iterator[Tuple[int, int, Any]]:
        """From the current offset (at `line`, row id `row_id`): (line, row id, tuple or error str)."""
        while stop is None or row_id < stop:
            raw = f.readline()
            if raw == b"":
                return
            line += 1
            if not raw.strip():
                continue  # blank lines are not rows
            try:
                yield line, row_id, self.parse(raw)
            except ValueError as e:
                yield line, row_id, str(e)
            row_id += 1


def _validate_batch(requests: "_core._BulkRequests", batch: List[Tuple[int, int, Any]]
                    ) -> List[Tuple[int, int, str]]:
    """Appends the batch's parsed rows to `requests`; returns (line, row id, message) of bad ones."""
    bad: List[Tuple[int, int, str]] = []
    good = [(ln, rid, p) for ln, rid, p in batch if not isinstance(p, str)]
    bad.extend((ln, rid, p) for ln, rid, p in batch if isinstance(p, str))
    if good:
        errs = requests.extend([p[0] for _, _, p in good], [p[1] for _, _, p in good], [p[2] for _, _, p in good],
                               [p[3] for _, _, p in good], [p[4] for _, _, p in good], [rid for _, rid, _ in good])
        bad.extend((good[i][0], good[i][1], msg) for i, msg in errs)
    bad.sort()
    return bad


@dataclasses.dataclass
class _Scan:
    rows: int                      # non-blank data rows, good and bad
    good: int
    bad_count: int
    bad: List[Tuple[int, str]]     # (line, message), the first ones
    checkpoints: List[Tuple[int, int]]  # (byte offset, line) of row ids 0, 1024, 2048, ...
    sha256: str
    size: int
    mtime_ns: int


def _scan_requests(spec: RequestFile, on_bad: Optional[Callable[[int, str], None]] = None,
                   keep_bad: int = 1000) -> _Scan:
    """One pass over the file: counts and validates rows, records offsets for partitions."""
    reader = _RequestReader(spec)
    requests = _core._BulkRequests(spec.token_type)
    h = hashlib.sha256()
    bad: List[Tuple[int, str]] = []
    bad_count = good = 0
    checkpoints: List[Tuple[int, int]] = []
    with reader.open() as f:
        st = os.fstat(f.fileno())
        start = reader.read_header(f)
        f.seek(0)
        h.update(f.read(start))
        line, row_id = (1 if spec.input_format() == "csv" else 0), 0
        batch: List[Tuple[int, int, Any]] = []

        def flush() -> None:
            nonlocal good, bad_count
            requests.clear()
            for ln, _, msg in _validate_batch(requests, batch):
                bad_count += 1
                if len(bad) < keep_bad:
                    bad.append((ln, msg))
                if on_bad:
                    on_bad(ln, msg)
            good += len(requests)
            batch.clear()

        while True:
            offset = f.tell()
            raw = f.readline()
            if raw == b"":
                break
            h.update(raw)
            line += 1
            if not raw.strip():
                continue
            if row_id % _CHECKPOINT_EVERY == 0:
                checkpoints.append((offset, line - 1))
            try:
                batch.append((line, row_id, reader.parse(raw)))
            except ValueError as e:
                batch.append((line, row_id, str(e)))
            row_id += 1
            if len(batch) >= 8192:
                flush()
        flush()
    return _Scan(row_id, good, bad_count, bad, checkpoints, h.hexdigest(), st.st_size, st.st_mtime_ns)


# ---- output names -----------------------------------------------------------------------------------
def guess_format(path: str) -> Tuple[Optional[str], bool]:
    """(format, gzip) from a file name: .csv, .jsonl/.ndjson, .json/.k6.json, .vegeta.jsonl, .locust.csv, + .gz."""
    name = path.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    for suffix, fmt in ((".vegeta.jsonl", "vegeta"), (".vegeta.json", "vegeta"), (".locust.csv", "locust"),
                        (".k6.json", "k6"), (".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                        (".json", "k6")):
        if name.endswith(suffix):
            return fmt, gz
    return None, gz


def part_name(index: int, fmt: str, gzip_level: Optional[int]) -> str:
    return f"part-{index:05d}{_EXT[fmt]}{'.gz' if gzip_level is not None else ''}"


def partition_rows(total: int, parts: int, index: int) -> Tuple[int, int]:
    """Rows [first, last) of partition `index` of `parts` over `total` rows (deterministic everywhere)."""
    return _core._partition_range(total, parts, index)


# ---- plans ---------------------------------------------------------------------------------------------
def make_plan(source: Source, output: str, *, app_id: Optional[str] = None, app_certificate: Optional[str] = None,
              format: Optional[str] = None, gzip: Optional[bool] = None, gzip_level: int = DEFAULT_GZIP_LEVEL,
              partitions: Optional[int] = None, chunk_rows: int = DEFAULT_CHUNK_ROWS, threads: int = 0,
              block_rows: int = 4096, issue_ts: Optional[int] = None, salt_seed: Optional[int] = None,
              vegeta_url: Optional[str] = None, vegeta_method: str = "GET",
              vegeta_headers: Sequence[Tuple[str, str]] = (), credentials_in_plan: bool = True,
              compression: str = "fast", scan: Optional[_Scan] = None) -> Dict[str, Any]:
    """A JSON-serialisable description of a pool job: what write_part() needs on any machine.

    ``plan["spec"]`` is what the manifest records (never the certificate); the rest is runtime.
    With ``credentials_in_plan=False`` workers read APP_ID/APP_CERTIFICATE from their environment.
    """
    app_id = app_id or os.environ.get("APP_ID", "")
    app_certificate = app_certificate or os.environ.get("APP_CERTIFICATE", "")
    _core.Minter(app_id, app_certificate, threads=1)  # raises InvalidCredentialsError naming the field
    if isinstance(source, Generator):
        eng = source.engine()
        total = len(eng)
        source_dict = source.to_dict()
    elif isinstance(source, RequestFile):
        if source.token_type not in TOKEN_TYPES:
            raise BulkError(f"token_type: unknown token type {source.token_type!r} (use {' or '.join(TOKEN_TYPES)})")
        scan = scan or _scan_requests(source)
        total = scan.rows
        source_dict = source.to_dict()
        source_dict.update(path=os.path.abspath(source.path), sha256=scan.sha256, size=scan.size,
                           rows=scan.rows, good_rows=scan.good, bad_rows=scan.bad_count)
    else:
        raise TypeError(f"source: expected mintlane.bulk.Generator or RequestFile, got {type(source).__name__}")
    guessed, gz_guess = guess_format(output)
    fmt = format or guessed or ("jsonl" if partitions else None)
    if fmt is None:
        raise BulkError(f"format: cannot tell the format from {output!r}; pass --format "
                        f"({', '.join(FORMATS)}) or use a suffix such as .csv or .jsonl.gz")
    if fmt not in FORMATS:
        raise BulkError(f"format: unknown format {fmt!r} (use {', '.join(FORMATS)})")
    use_gzip = gz_guess if gzip is None else gzip
    if not isinstance(gzip_level, int) or not 0 <= gzip_level <= 3:
        raise BulkError(f"gzip_level: must be in 0..3 (ISA-L igzip levels), got {gzip_level!r}")
    if partitions is not None and (isinstance(partitions, bool) or partitions < 1):
        raise BulkError(f"partitions: must be at least 1, got {partitions!r}")
    if chunk_rows < 1 or block_rows < 1:
        raise BulkError("chunk_rows and block_rows must be at least 1")
    if fmt == "vegeta" and not vegeta_url:
        raise BulkError("vegeta: --vegeta-url is required, e.g. "
                        "'http://127.0.0.1:8080/rtc/{channel}/{role}/{tokentype}/{user}/'")
    spec = {
        "source": source_dict,
        "count": total,
        "format": fmt,
        "gzip_level": gzip_level if use_gzip else None,
        "vegeta": {"url": vegeta_url, "method": vegeta_method, "headers": [list(h) for h in vegeta_headers]}
        if fmt == "vegeta" else None,
        "partitions": partitions,
        "app_id": app_id,
        "compression": compression,
        "issue_ts": issue_ts,
        "salt_seed": salt_seed,
    }
    plan = {
        "spec": spec,
        "spec_sha256": hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest(),
        "output": os.path.abspath(output),
        "chunk_rows": chunk_rows,
        "block_rows": block_rows,
        "threads": threads,
        "credentials": {"app_id": app_id, "app_certificate": app_certificate} if credentials_in_plan else None,
        "checkpoints": scan.checkpoints if scan is not None else None,
        "input_mtime_ns": scan.mtime_ns if scan is not None else None,
    }
    # Fail fast on writer options (vegeta templates, levels) before any file is touched.
    _writer(plan, threads=1)
    return plan


def _writer(plan: Dict[str, Any], threads: Optional[int] = None) -> "_core._PoolWriter":
    spec = plan["spec"]
    creds = plan["credentials"] or {"app_id": os.environ.get("APP_ID", ""),
                                    "app_certificate": os.environ.get("APP_CERTIFICATE", "")}
    minter = _core.Minter(creds["app_id"], creds["app_certificate"], compression=spec["compression"], threads=1)
    if creds["app_id"] != spec["app_id"]:
        raise BulkError("app id: this worker's APP_ID differs from the pool's app id")
    v = spec["vegeta"] or {}
    return _core._PoolWriter(
        minter, format=spec["format"], gzip_level=spec["gzip_level"], issue_ts=spec["issue_ts"],
        salt_seed=spec["salt_seed"], vegeta_method=v.get("method", "GET"), vegeta_url=v.get("url") or "",
        vegeta_headers=[tuple(h) for h in v.get("headers", [])],
        threads=plan["threads"] if threads is None else threads, block_rows=plan["block_rows"])


def _source(plan: Dict[str, Any]) -> Source:
    d = plan["spec"]["source"]
    return Generator.from_dict(d) if d["kind"] == "generator" else RequestFile.from_dict(d)


# ---- streaming -------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Stats:
    rows: int = 0
    text_bytes: int = 0
    issue_ts_min: Optional[int] = None
    issue_ts_max: Optional[int] = None
    skipped: int = 0

    def add(self, chunk: "_core._PoolChunk") -> None:
        self.rows += chunk.rows
        self.text_bytes += chunk.text_bytes
        if chunk.rows:
            ts = chunk.issue_ts
            self.issue_ts_min = ts if self.issue_ts_min is None else min(self.issue_ts_min, ts)
            self.issue_ts_max = ts if self.issue_ts_max is None else max(self.issue_ts_max, ts)


def _stream(sink: "_core._FileSink", fills: Iterator[Callable[["_core._PoolChunk"], bool]], stats: _Stats,
            progress: Optional[Callable[[int], None]]) -> None:
    """Double-buffered: the caller's thread fills a chunk (engine, GIL released) while a second
    thread hashes and writes the previous one (also without the GIL). Two chunks in memory."""
    free: "queue.Queue[_core._PoolChunk]" = queue.Queue()
    full: "queue.Queue[Optional[_core._PoolChunk]]" = queue.Queue()
    for _ in range(2):
        free.put(_core._PoolChunk())
    errors: List[BaseException] = []

    def drain() -> None:
        while True:
            c = full.get()
            if c is None:
                return
            try:
                if not errors:
                    sink.write_chunk(c)
            except BaseException as e:  # handed to the caller's thread
                errors.append(e)
            free.put(c)

    t = threading.Thread(target=drain, name="mintlane-bulk-writer", daemon=True)
    t.start()
    try:
        for fill in fills:
            c = free.get()
            if errors:
                break
            if not fill(c):
                free.put(c)
                continue
            stats.add(c)
            full.put(c)
            if progress:
                progress(c.rows)
    finally:
        full.put(None)
        t.join()
    if errors:
        raise errors[0]


def _chunk_delay() -> float:
    # Test hook (tests/python/test_bulk_resume.py): slow each chunk down so a signal lands mid-run.
    return float(os.environ.get("_MINTLANE_BULK_CHUNK_DELAY", "0") or 0)


def _fills_generator(plan: Dict[str, Any], writer: "_core._PoolWriter", first: int, last: int
                     ) -> Iterator[Callable[["_core._PoolChunk"], bool]]:
    gen = _source(plan).engine()  # type: ignore[union-attr]
    step = plan["chunk_rows"]
    delay = _chunk_delay()
    for begin in range(first, last, step):
        end = min(last, begin + step)

        def fill(c: "_core._PoolChunk", begin: int = begin, end: int = end) -> bool:
            writer.fill_generator(gen, begin, end, begin - first, c)
            if delay:
                time.sleep(delay)
            return True
        yield fill


def _fills_requests(plan: Dict[str, Any], writer: "_core._PoolWriter", first: int, last: int, stats: _Stats,
                    on_bad: Optional[Callable[[int, str], None]]) -> Iterator[Callable[["_core._PoolChunk"], bool]]:
    spec: RequestFile = _source(plan)  # type: ignore[assignment]
    src = plan["spec"]["source"]
    reader = _RequestReader(spec)
    step = plan["chunk_rows"]
    delay = _chunk_delay()
    with reader.open() as f:
        st = os.fstat(f.fileno())
        if st.st_size != src["size"] or (plan.get("input_mtime_ns") and st.st_mtime_ns != plan["input_mtime_ns"]):
            raise BulkError(f"{spec.path}: the file changed since it was checked; run again")
        reader.read_header(f)
        cps = plan["checkpoints"]
        offset, line = cps[first // _CHECKPOINT_EVERY] if cps else (0, 0)
        f.seek(offset)
        row_id = first // _CHECKPOINT_EVERY * _CHECKPOINT_EVERY
        rows = reader.rows(f, line, row_id, last)
        for _ in range(first - row_id):  # skip to the partition's first row
            next(rows)
        requests = _core._BulkRequests(spec.token_type)
        written = 0
        while True:
            batch = [r for _, r in zip(range(step), rows)]
            if not batch:
                break
            requests.clear()
            bad = _validate_batch(requests, batch)
            if bad:
                if not spec.skip_bad:
                    ln, _, msg = bad[0]
                    raise BulkError(f"{spec.path}:{ln}: {msg}")
                stats.skipped += len(bad)
                if on_bad:
                    for ln, _, msg in bad:
                        on_bad(ln, msg)

            def fill(c: "_core._PoolChunk", before: int = written) -> bool:
                if len(requests) == 0:
                    return False
                writer.fill_requests(requests, 0, len(requests), before, c)
                if delay:
                    time.sleep(delay)
                return True
            written += len(requests)
            yield fill


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_dead_temps(final: str) -> None:
    """Removes temporary files of `final` left by runs that were killed (their PID is gone)."""
    d, base = os.path.split(final)
    prefix = f".{base}.tmp-"
    try:
        names = os.listdir(d or ".")
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        try:
            os.kill(int(pid_text), 0)
            continue  # still running: not ours to remove
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError):
            continue
        try:
            os.unlink(os.path.join(d, name))
        except OSError:
            pass


def _tmp_name(final: str) -> str:
    d, base = os.path.split(final)
    return os.path.join(d, f".{base}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _write_file(plan: Dict[str, Any], final: str, first: int, last: int, *, exclusive: bool,
                progress: Optional[Callable[[int], None]] = None,
                on_bad: Optional[Callable[[int, str], None]] = None) -> Dict[str, Any]:
    """Mints rows [first, last) of the plan into `final` (temp name, fsync, then into place)."""
    writer = _writer(plan)
    stats = _Stats()
    tmp = _tmp_name(final)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as e:
        raise OSError(e.errno, e.strerror, final) from None  # name the output, not the temp name
    started = time.perf_counter()
    try:
        sink = _core._FileSink(fd)
        sink.write(writer.header())
        if plan["spec"]["source"]["kind"] == "generator":
            fills = _fills_generator(plan, writer, first, last)
        else:
            fills = _fills_requests(plan, writer, first, last, stats, on_bad)
        _stream(sink, fills, stats, progress)
        sink.write(writer.footer())
        os.fsync(fd)
        os.close(fd)
        fd = -1
        digest = sink.hexdigest()
        nbytes = sink.bytes
        if exclusive:
            # First finisher wins: a retried or duplicated task (a lost Dask worker that was still
            # running) finds the part in place and reports it instead of replacing it.
            try:
                os.link(tmp, final)
            except FileExistsError:
                os.unlink(tmp)
                digest, nbytes = _file_sha256(final)
            except OSError:  # a filesystem without hard links: atomic replace instead
                os.replace(tmp, final)
            else:
                os.unlink(tmp)
        else:
            os.replace(tmp, final)
        _fsync_dir(os.path.dirname(final) or ".")
    except BaseException as e:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.filename is None and e.errno is not None:
            raise OSError(e.errno, e.strerror, final) from e  # name the file in the one-line error
        raise
    return {
        "file": os.path.basename(final),
        "count": stats.rows,
        "bytes": nbytes,
        "text_bytes": stats.text_bytes,
        "sha256": digest,
        "issue_ts_min": stats.issue_ts_min,
        "issue_ts_max": stats.issue_ts_max,
        "skipped_bad": stats.skipped,
        "rows": [first, last],
        "seconds": round(time.perf_counter() - started, 6),
        "writer": f"{socket.gethostname()}:{os.getpid()}",
    }


def _file_sha256(path: str) -> Tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
    return h.hexdigest(), n


def write_part(plan: Dict[str, Any], index: int, progress: Optional[Callable[[int], None]] = None
               ) -> Dict[str, Any]:
    """Mints partition `index` of a partitioned plan into its part file and returns its manifest
    entry. Idempotent: rows come from partition_rows() alone; the file appears complete or not at all."""
    spec = plan["spec"]
    parts = spec["partitions"]
    if not parts:
        raise BulkError("write_part: the plan is not partitioned")
    first, last = partition_rows(spec["count"], parts, index)
    final = os.path.join(plan["output"], part_name(index, spec["format"], spec["gzip_level"]))
    entry = _write_file(plan, final, first, last, exclusive=True, progress=progress)
    entry["index"] = index
    return entry


# ---- manifests ---------------------------------------------------------------------------------------------
def _load_manifest(directory: str) -> Optional[Dict[str, Any]]:
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise BulkError(f"{path}: unreadable manifest ({e}); remove it or pass --force") from None
    if not isinstance(m, dict) or m.get("manifest_version") != MANIFEST_VERSION or "spec_sha256" not in m:
        raise BulkError(f"{path}: not a mintlane pool manifest (version {MANIFEST_VERSION}); remove it or pass --force")
    return m


def _atomic_write_text(path: str, text: str) -> None:
    tmp = _tmp_name(path)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


class Manifest:
    """manifest.json of a partitioned pool, rewritten atomically after every completed part
    (:meth:`add`); ``SHA256SUMS`` is written once every part is in."""

    def __init__(self, plan: Dict[str, Any], existing: Optional[Dict[str, Any]]) -> None:
        from mintlane import __version__
        self.plan = plan
        self.directory = plan["output"]
        self.parts: Dict[int, Dict[str, Any]] = {}
        if existing:
            for e in existing.get("parts", []):
                self.parts[int(e["index"])] = e
        self.doc: Dict[str, Any] = {
            "manifest_version": MANIFEST_VERSION,
            "tool": "mintlane",
            "tool_version": __version__,
            "spec": plan["spec"],
            "spec_sha256": plan["spec_sha256"],
            "partitions": plan["spec"]["partitions"],
            "count": plan["spec"]["count"],
        }
        self.lock = threading.Lock()

    def add(self, entry: Dict[str, Any]) -> None:
        with self.lock:
            self.parts[int(entry["index"])] = entry
            self.save()

    def complete(self) -> bool:
        return len(self.parts) == int(self.doc["partitions"])

    def save(self) -> None:
        from mintlane import __version__
        parts = [self.parts[i] for i in sorted(self.parts)]
        ts_min = [p["issue_ts_min"] for p in parts if p.get("issue_ts_min") is not None]
        ts_max = [p["issue_ts_max"] for p in parts if p.get("issue_ts_max") is not None]
        doc = dict(self.doc, tool_version=__version__, parts=parts, complete=self.complete(),
                   rows_written=sum(p["count"] for p in parts),
                   skipped_bad=sum(p.get("skipped_bad", 0) for p in parts),
                   issue_ts={"min": min(ts_min) if ts_min else None, "max": max(ts_max) if ts_max else None})
        _atomic_write_text(os.path.join(self.directory, MANIFEST), json.dumps(doc, indent=1) + "\n")
        if self.complete():
            _atomic_write_text(os.path.join(self.directory, SUMS), self.sums())
            # Temporary files of attempts that died (a killed worker) are garbage now.
            for name in os.listdir(self.directory):
                if name.startswith(".part-") and ".tmp-" in name:
                    try:
                        os.unlink(os.path.join(self.directory, name))
                    except OSError:
                        pass

    def sums(self) -> str:
        return "".join(f"{p['sha256']}  {p['file']}\n" for p in (self.parts[i] for i in sorted(self.parts)))


def prepare_parts(plan: Dict[str, Any], force: bool = False, verify_existing: bool = True
                  ) -> Tuple[Manifest, List[int]]:
    """Creates the output directory of a partitioned plan, checks an existing manifest (same
    spec; listed parts present with their size and sha256), removes temporary files and
    unrecorded parts of killed runs; returns the manifest and the part indices still to write.
    Run :func:`write_part` for each (anywhere), then ``manifest.add(entry)`` here."""
    directory = plan["output"]
    spec = plan["spec"]
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise BulkError(f"{directory}: exists and is not a directory (partitioned output is a directory)")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise BulkError(f"{directory}: cannot create the output directory: {e.strerror or e}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise BulkError(f"{directory}: not writable")
    existing = _load_manifest(directory) if not force else None
    if existing and existing["spec_sha256"] != plan["spec_sha256"]:
        raise BulkError(f"{directory}: holds a pool made from a different spec (manifest.json); use another "
                        f"directory or pass --force to replace it")
    manifest = Manifest(plan, existing)
    names = {part_name(i, spec["format"], spec["gzip_level"]) for i in range(spec["partitions"])}
    # Parts the manifest lists are done if the file is still there, the same size and hash.
    for i, entry in list(manifest.parts.items()):
        path = os.path.join(directory, entry["file"])
        ok = os.path.isfile(path) and os.path.getsize(path) == entry["bytes"]
        if ok and verify_existing:
            ok = _file_sha256(path)[0] == entry["sha256"]
        if not ok:
            del manifest.parts[i]
    for name in os.listdir(directory):
        # Temporary files of interrupted runs, and finished-looking parts the manifest never
        # recorded (a run killed between the rename and the manifest update): both are redone.
        done_names = {e["file"] for e in manifest.parts.values()}
        stale_tmp = (name.startswith(".part-") or name.startswith("." + MANIFEST)) and ".tmp-" in name
        unrecorded = name in names and name not in done_names
        other_pool = force and (name.startswith("part-") or name in (MANIFEST, SUMS))
        if stale_tmp or unrecorded or (other_pool and name not in done_names):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass
    manifest.save()
    pending = [i for i in range(spec["partitions"]) if i not in manifest.parts]
    return manifest, pending


# ---- summary --------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Summary:
    """What a pool job did. ``sha256`` is the file's hash, or for a partitioned pool the hash of
    its SHA256SUMS file (one ``<sha256>  <part file>`` line per part)."""

    output: str
    format: str
    gzip_level: Optional[int]
    count: int
    minted: int
    bytes: int
    text_bytes: int
    seconds: float
    sha256: str
    partitions: Optional[int] = None
    parts_written: int = 0
    parts_skipped: int = 0
    skipped_bad: int = 0
    issue_ts_min: Optional[int] = None
    issue_ts_max: Optional[int] = None
    workers: Optional[int] = None

    @property
    def tokens_per_s(self) -> float:
        return self.minted / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["tokens_per_s"] = round(self.tokens_per_s, 1)
        return d

    def lines(self) -> List[str]:
        kind = f"{self.format}{' + gzip level %d' % self.gzip_level if self.gzip_level is not None else ''}"
        out = [f"minted {self.minted:,} tokens in {self.seconds:.2f} s: {self.tokens_per_s:,.0f} tokens/s"
               + (f" on {self.workers} Dask workers" if self.workers else "")]
        if self.partitions:
            out.append(f"pool {self.output}/: {self.count:,} tokens in {self.partitions} parts "
                       f"({self.parts_written} written now, {self.parts_skipped} already complete), {kind}, "
                       f"{_mb(self.bytes)}")
            out.append(f"checksum sha256(SHA256SUMS) {self.sha256}  (per part: manifest.json, {SUMS})")
        else:
            out.append(f"wrote {self.output}: {self.count:,} tokens, {kind}, {_mb(self.bytes)}"
                       + (f" ({_mb(self.text_bytes)} uncompressed)" if self.gzip_level is not None else ""))
            out.append(f"sha256 {self.sha256}")
        if self.skipped_bad:
            out.append(f"skipped {self.skipped_bad:,} bad input row{'s' if self.skipped_bad != 1 else ''} (--skip-bad)")
        if self.issue_ts_min is not None:
            out.append(f"issue_ts {self.issue_ts_min}..{self.issue_ts_max}")
        return out


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


# ---- the job ---------------------------------------------------------------------------------------------
class _Progress:
    """tqdm on a TTY (stderr), nothing otherwise."""

    def __init__(self, total: int, enabled: bool, desc: str = "minting") -> None:
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover - tqdm is a dependency of the bulk extra
                return
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            # A terminal that reports no width (a bare pty) gets 80 columns instead of an empty bar.
            self.bar = tqdm(total=total, unit="tok", unit_scale=True, desc=desc, file=sys.stderr,
                            dynamic_ncols=width > 0, ncols=None if width > 0 else 80, mininterval=0.2)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _bad_reporter(path: str, stream: Optional[Any], limit: int = _MAX_REPORTED
                  ) -> Tuple[Callable[[int, str], None], Callable[[], int]]:
    seen = [0]

    def report(line: int, msg: str) -> None:
        seen[0] += 1
        if stream is not None and seen[0] <= limit:
            stream.write(f"mintlane: bad row {path}:{line}: {msg}\n")
    return report, lambda: seen[0]


def write_pool(source: Source, output: str, *, app_id: Optional[str] = None, app_certificate: Optional[str] = None,
               format: Optional[str] = None, gzip: Optional[bool] = None, gzip_level: int = DEFAULT_GZIP_LEVEL,
               partitions: Optional[int] = None, chunk_rows: int = DEFAULT_CHUNK_ROWS, threads: int = 0,
               issue_ts: Optional[int] = None, salt_seed: Optional[int] = None, vegeta_url: Optional[str] = None,
               vegeta_method: str = "GET", vegeta_headers: Sequence[Tuple[str, str]] = (), force: bool = False,
               progress: bool = False, report_bad: Optional[Any] = None,
               bad_rows_file: Optional[str] = None) -> Summary:
    """Mints a pool on this machine (all cores) and returns its :class:`Summary`.

    ``output`` is a file (format and gzip guessed from its suffix unless given) or, with
    ``partitions``, a directory of part files plus manifest.json. Credentials default to
    $APP_ID / $APP_CERTIFICATE. ``issue_ts`` and ``salt_seed`` make the output reproducible
    (tests only: real pools want CSPRNG salts). Bad request rows raise :class:`BadInputError`
    before anything is written unless the RequestFile has ``skip_bad``; they are reported to
    ``report_bad`` (a text stream) and, with ``bad_rows_file``, written there as JSON lines.
    """
    job = _Job(source, output, report_bad=report_bad, bad_rows_file=bad_rows_file)
    plan = job.plan(app_id=app_id, app_certificate=app_certificate, format=format, gzip=gzip, gzip_level=gzip_level,
                    partitions=partitions, chunk_rows=chunk_rows, threads=threads, issue_ts=issue_ts,
                    salt_seed=salt_seed, vegeta_url=vegeta_url, vegeta_method=vegeta_method,
                    vegeta_headers=vegeta_headers)
    return job.run_local(plan, force=force, progress=progress)


class _Job:
    """Scans the input (rejecting or counting bad rows), plans, runs locally or hands parts out."""

    def __init__(self, source: Source, output: str, report_bad: Optional[Any] = None,
                 bad_rows_file: Optional[str] = None) -> None:
        self.source = source
        self.output = output
        self.report_bad = report_bad
        self.bad_rows_file = bad_rows_file
        self.scan: Optional[_Scan] = None

    def plan(self, **kw: Any) -> Dict[str, Any]:
        # Credentials first: a long request file is not scanned for a job that cannot run.
        _core.Minter(kw.get("app_id") or os.environ.get("APP_ID", ""),
                     kw.get("app_certificate") or os.environ.get("APP_CERTIFICATE", ""), threads=1)
        if isinstance(self.source, RequestFile):
            self.scan = self._scan(self.source)
        if os.path.isdir(self.output) and not kw.get("partitions"):
            raise BulkError(f"{self.output}: is a directory; give a file name, or --partitions N for a directory of parts")
        return make_plan(self.source, self.output, scan=self.scan, **kw)

    def _scan(self, spec: RequestFile) -> _Scan:
        bad_file = None
        if self.bad_rows_file:
            try:
                bad_file = open(self.bad_rows_file, "w", encoding="utf-8")
            except OSError as e:
                raise BulkError(f"{self.bad_rows_file}: cannot write the bad-rows report: {e.strerror or e}") from None
        report, _ = _bad_reporter(spec.path, self.report_bad if spec.skip_bad else None)

        def on_bad(line: int, msg: str) -> None:
            report(line, msg)
            if bad_file is not None:
                bad_file.write(json.dumps({"file": spec.path, "line": line, "error": msg}) + "\n")
        try:
            scan = _scan_requests(spec, on_bad=on_bad)
        finally:
            if bad_file is not None:
                bad_file.close()
        if scan.bad_count and not spec.skip_bad:
            if self.report_bad is not None:
                for line, msg in scan.bad[:_MAX_REPORTED]:
                    self.report_bad.write(f"mintlane: bad row {spec.path}:{line}: {msg}\n")
                if scan.bad_count > _MAX_REPORTED:
                    self.report_bad.write(f"mintlane: ... and {scan.bad_count - _MAX_REPORTED:,} more bad rows\n")
            line, msg = scan.bad[0]
            raise BadInputError(f"{spec.path}: {scan.bad_count:,} bad row{'s' if scan.bad_count != 1 else ''} "
                                f"(first at line {line}: {msg}); nothing was minted - fix the file or pass "
                                f"--skip-bad", [(spec.path, ln, m) for ln, m in scan.bad], scan.bad_count)
        if scan.bad_count and self.report_bad is not None and scan.bad_count > _MAX_REPORTED:
            self.report_bad.write(f"mintlane: ... and {scan.bad_count - _MAX_REPORTED:,} more bad rows (skipped)\n")
        if scan.good == 0:
            what = "no request rows" if scan.rows == 0 else f"all {scan.rows:,} rows are bad"
            raise BulkError(f"{spec.path}: {what}; nothing to mint")
        return scan

    def run_local(self, plan: Dict[str, Any], *, force: bool = False, progress: bool = False) -> Summary:
        spec = plan["spec"]
        started = time.perf_counter()
        if not spec["partitions"]:
            final = plan["output"]
            d = os.path.dirname(final) or "."
            if not os.path.isdir(d):
                raise BulkError(f"{final}: the directory {d} does not exist")
            if not os.access(d, os.W_OK | os.X_OK):
                raise BulkError(f"{final}: cannot write into {d} (permission denied)")
            _remove_dead_temps(final)
            bar = _Progress(spec["count"], progress)
            try:
                entry = _write_file(plan, final, 0, spec["count"], exclusive=False, progress=bar)
            finally:
                bar.close()
            seconds = time.perf_counter() - started
            return Summary(output=final, format=spec["format"], gzip_level=spec["gzip_level"], count=entry["count"],
                           minted=entry["count"], bytes=entry["bytes"], text_bytes=entry["text_bytes"],
                           seconds=seconds, sha256=entry["sha256"], skipped_bad=entry["skipped_bad"],
                           issue_ts_min=entry["issue_ts_min"], issue_ts_max=entry["issue_ts_max"])
        manifest, pending = prepare_parts(plan, force)
        todo = sum(partition_rows(spec["count"], spec["partitions"], i)[1] -
                   partition_rows(spec["count"], spec["partitions"], i)[0] for i in pending)
        bar = _Progress(todo, progress)
        minted = 0
        try:
            for i in pending:
                entry = write_part(plan, i, progress=bar)
                manifest.add(entry)
                minted += entry["count"]
        finally:
            bar.close()
        return self.summary(plan, manifest, minted, len(pending), time.perf_counter() - started)

    def summary(self, plan: Dict[str, Any], manifest: Manifest, minted: int, written: int, seconds: float,
                workers: Optional[int] = None) -> Summary:
        spec = plan["spec"]
        parts = list(manifest.parts.values())
        ts_min = [p["issue_ts_min"] for p in parts if p.get("issue_ts_min") is not None]
        ts_max = [p["issue_ts_max"] for p in parts if p.get("issue_ts_max") is not None]
        return Summary(output=plan["output"], format=spec["format"], gzip_level=spec["gzip_level"],
                       count=sum(p["count"] for p in parts), minted=minted, bytes=sum(p["bytes"] for p in parts),
                       text_bytes=sum(p.get("text_bytes", 0) for p in parts), seconds=seconds,
                       sha256=hashlib.sha256(manifest.sums().encode()).hexdigest(), partitions=spec["partitions"],
                       parts_written=written, parts_skipped=spec["partitions"] - written,
                       skipped_bad=sum(p.get("skipped_bad", 0) for p in parts),
                       issue_ts_min=min(ts_min) if ts_min else None, issue_ts_max=max(ts_max) if ts_max else None,
                       workers=workers)


# ---- CLI -------------------------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Mint a token pool: a generator (--channels x --uids-per-channel) or a CSV/JSONL file of "
                     "requests (--input), streamed to CSV, JSONL, a k6 JSON array, vegeta targets or a locust CSV, "
                     "optionally gzip'd; --partitions N writes part files + manifest.json and resumes.")
    from mintlane.cli import _add_credentials
    _add_credentials(p)
    p.add_argument("--demo", action="store_true",
                   help="use the built-in demo-only credentials when APP_ID/APP_CERTIFICATE are not set")
    g = p.add_argument_group("generator")
    g.add_argument("--channels", type=int, help="number of channels")
    g.add_argument("--uids-per-channel", type=int, metavar="N", help="numeric uids per channel")
    g.add_argument("--accounts-per-channel", type=int, metavar="N", help="string accounts per channel instead of uids")
    g.add_argument("--publishers", default="0", metavar="P",
                   help="publishers per channel: a share such as 10%% or a count (default 0: all subscribers)")
    g.add_argument("--channel-prefix", default="channel-", help="channel name = prefix + number (default channel-)")
    g.add_argument("--channel-digits", type=int, default=0, help="zero-pad channel numbers to this width")
    g.add_argument("--channel-start", type=int, default=1, help="first channel number (default 1)")
    g.add_argument("--uid-start", type=int, default=1, help="first uid (default 1)")
    g.add_argument("--uids-restart-per-channel", action="store_true",
                   help="every channel uses uids uid-start.. (default: uids are unique across the pool)")
    g.add_argument("--account-prefix", default="user-", help="account = prefix + number (default user-)")
    i = p.add_argument_group("request file")
    i.add_argument("--input", metavar="FILE", help="CSV (header: channel,uid|account[,role][,expire]) or JSONL")
    i.add_argument("--input-format", choices=["csv", "jsonl"], help="default: from the suffix")
    i.add_argument("--role", default="publisher", help="role of rows without one (default publisher)")
    i.add_argument("--skip-bad", action="store_true", help="skip and count bad rows instead of rejecting the file")
    i.add_argument("--bad-rows", metavar="FILE", help="write every bad row (file, line, error) to FILE as JSON lines")
    t = p.add_argument_group("tokens and output")
    t.add_argument("--type", dest="token_type", default="rtc", choices=TOKEN_TYPES, help="token type (default rtc)")
    t.add_argument("--expire", type=int, default=3600, help="seconds, 1..86400 (default 3600)")
    t.add_argument("-o", "--output", required=True, help="output file, or a directory with --partitions")
    t.add_argument("--format", choices=FORMATS, help="default: from the output suffix (.csv, .jsonl, .json, ...)")
    t.add_argument("--gzip", action="store_true", default=None, help="gzip the output (default: when it ends in .gz)")
    t.add_argument("--gzip-level", type=int, default=DEFAULT_GZIP_LEVEL, choices=[0, 1, 2, 3],
                   help="ISA-L igzip level (default 1)")
    t.add_argument("--vegeta-url", metavar="TEMPLATE",
                   help="vegeta target URL, e.g. 'https://app.example/join?ch={channel}&uid={uid}&token={token}' or "
                        "a token server 'http://127.0.0.1:8080/rtc/{channel}/{role}/{tokentype}/{user}/'")
    t.add_argument("--vegeta-method", default="GET")
    t.add_argument("--vegeta-header", action="append", default=[], metavar="'NAME: VALUE'",
                   help="vegeta header template, e.g. 'Authorization: Bearer {token}' (repeatable)")
    s = p.add_argument_group("scale")
    s.add_argument("--partitions", type=int, metavar="N", help="write N part files + manifest.json into -o DIR")
    s.add_argument("--force", action="store_true", help="replace a pool of a different spec in the output directory")
    s.add_argument("--chunk-rows", type=int, help=argparse.SUPPRESS)
    s.add_argument("--threads", type=int, default=0, help="minting threads (default: all cores; 1 per Dask task)")
    s.add_argument("--scheduler", metavar="ADDRESS", help="run the partitions on a Dask cluster (tcp://host:8786)")
    s.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N worker processes")
    s.add_argument("--credentials-from-worker-env", action="store_true",
                   help="Dask: workers read APP_ID/APP_CERTIFICATE from their own environment (the certificate "
                        "is not sent with the tasks)")
    r = p.add_argument_group("reproducibility (tests only)")
    r.add_argument("--issue-ts", type=int, help="fixed issue timestamp")
    r.add_argument("--salt-seed", type=int, help="derive salts from this seed and the row instead of the CSPRNG")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _headers(items: Sequence[str]) -> List[Tuple[str, str]]:
    from mintlane.cli import CliError
    out = []
    for h in items:
        name, sep, value = h.partition(":")
        if not sep:
            raise CliError(f"--vegeta-header: {h!r} is not 'Name: value'")
        out.append((name.strip(), value.strip()))
    return out


def _source_from_args(args: argparse.Namespace) -> Source:
    from mintlane.cli import CliError
    gen_flags = [f for f in ("channels", "uids_per_channel", "accounts_per_channel") if getattr(args, f) is not None]
    if args.input:
        if gen_flags:
            raise CliError(f"give --input or a generator (--{gen_flags[0].replace('_', '-')}), not both")
        return RequestFile(args.input, format=args.input_format, token_type=args.token_type, default_role=args.role,
                           default_expire=args.expire, skip_bad=args.skip_bad)
    if args.channels is None:
        raise CliError("say what to mint: --channels N --uids-per-channel M (or --accounts-per-channel M), "
                       "or --input FILE")
    if (args.uids_per_channel is None) == (args.accounts_per_channel is None):
        raise CliError("give one of --uids-per-channel or --accounts-per-channel")
    accounts = args.accounts_per_channel is not None
    return Generator(channels=args.channels,
                     users_per_channel=args.accounts_per_channel if accounts else args.uids_per_channel,
                     publishers=args.publishers, expire=args.expire, token_type=args.token_type,
                     channel_prefix=args.channel_prefix, channel_digits=args.channel_digits,
                     channel_start=args.channel_start, uid_start=args.uid_start,
                     uids_restart_per_channel=args.uids_restart_per_channel, accounts=accounts,
                     account_prefix=args.account_prefix)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that temporary files are removed."""


def run(args: argparse.Namespace) -> int:
    from mintlane.cli import CliError, DEMO_APP_CERTIFICATE, DEMO_APP_ID, _credentials
    if args.demo and not (args.app_id or os.environ.get("APP_ID") or args.app_certificate
                          or args.app_certificate_file or os.environ.get("APP_CERTIFICATE")):
        app_id, cert = DEMO_APP_ID, DEMO_APP_CERTIFICATE
        print("NOTE: using the built-in DEMO credentials (Agora's public test fixture): these tokens are for "
              "trying mintlane only and no real Agora project accepts them. Set APP_ID and APP_CERTIFICATE for "
              "real tokens.", file=sys.stderr)
    else:
        app_id, cert, _ = _credentials(args)
    if args.dask_local is not None and args.scheduler:
        raise CliError("give --scheduler or --dask-local, not both")
    distributed = bool(args.scheduler) or args.dask_local is not None
    if args.dask_local is not None and args.dask_local < 1:
        raise CliError("--dask-local: needs at least 1 worker")
    source = _source_from_args(args)
    progress = not args.quiet and sys.stderr.isatty()
    job = _Job(source, args.output, report_bad=sys.stderr, bad_rows_file=args.bad_rows)

    def on_term(signum: int, frame: Any) -> None:
        raise _Terminated()
    previous = signal.signal(signal.SIGTERM, on_term) if threading.current_thread() is threading.main_thread() else None
    try:
        kw = dict(app_id=app_id, app_certificate=cert, format=args.format, gzip=args.gzip,
                  gzip_level=args.gzip_level, issue_ts=args.issue_ts,
                  salt_seed=args.salt_seed, vegeta_url=args.vegeta_url, vegeta_method=args.vegeta_method,
                  vegeta_headers=_headers(args.vegeta_header))
        if distributed:
            from mintlane import distributed as dist
            summary = dist.run_cli(job, args, kw, progress=progress)
        else:
            if args.credentials_from_worker_env:
                raise CliError("--credentials-from-worker-env needs --scheduler or --dask-local")
            plan = job.plan(partitions=args.partitions, threads=args.threads,
                            chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS, **kw)
            summary = job.run_local(plan, force=args.force, progress=progress)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(f"{source.describe()}")
        for line in summary.lines():
            print(line)
    return 0
