"""Interop suite: mintlane against the official implementations, in both directions, on every run.

Peers (see PROTOCOL.md and README.md in this directory):

* ``go``   - AgoraIO-Community/go-tokenbuilder v1.3.0 ("GoTB"), service types 1, 2, 4, 5, 7.
* ``node`` - npm agora-token 2.0.6, service types 1..10 and legacy 006.
* ``pypi`` - PyPI agora-token-builder 1.0.0 (legacy 006), imported in-process.

For every seeded random case (thousands per service type and peer):

1. mintlane -> peer: mintlane mints (rotating the compression mode and every sign / base64 /
   sha256 dispatch path the CPU supports, single and batch builders); the peer parses with the
   official code: every field equals the case's model, the signature is valid (and invalid with
   the certificate in another letter case, for a sample), and the peer's inflated payload equals
   mintlane's own decoded payload byte for byte.
2. peer -> mintlane: the peer mints the same inputs with the same salt and issue_ts through its
   official builder; mintlane decodes it (identical fields) and verifies it (channel / uid /
   account checked too), and the peer's payload equals mintlane's payload byte for byte.

Known deviations of a peer are asserted explicitly, never skipped:

* node D6/D7: the APaaS/Education room-user builder drops the roomUser privilege and, like the
  ServiceApaas constructor everywhere, turns role 0 into -1; its parser reads the role unsigned.
  The npm payload must equal exactly what the deviation predicts (built with mintlane's general
  builder) and must differ from mintlane's.
* go D3: one service per type (the last one added wins, packed in type order).
* go D5: any service type other than 1, 2, 4, 5, 7 makes GoTB's parser panic, and the raw
  builder has no such service.

Without a toolchain or package the tests fail with the install hint when
MINTLANE_REQUIRE_INTEROP=1 (CI), and are skipped with the hint otherwise.
MINTLANE_INTEROP_SCALE (default 1) scales the case counts for quick local runs; the per-type
minimum counts are only enforced at scale >= 1.
"""

from __future__ import annotations

import array
import base64
import collections
import contextlib
import hashlib
import importlib
import itertools
import json
import os
import random
import string
import sys
import threading
import time
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

import mintlane  # noqa: E402
from mintlane import _core  # noqa: E402
from mintlane._core import Service  # noqa: E402

REQUIRE = os.environ.get("MINTLANE_REQUIRE_INTEROP") == "1"
SCALE = float(os.environ.get("MINTLANE_INTEROP_SCALE", "1"))
TARGET = 2000  # cases per service type, peer and direction (at scale 1)
SUMMARY_PATH = peers.BUILD_DIR / "interop_summary.json"

AGORA_CHARS = string.ascii_lowercase + string.ascii_uppercase + string.digits + " !#$%&()+-:;<=.>?@[]^_{}|~,"
assert len(set(AGORA_CHARS)) == 89
CHANNEL_CHARS = AGORA_CHARS + "*"
NAMES = {1: "rtc", 2: "rtm", 3: "streaming", 4: "fpa", 5: "chat", 6: "fcdn", 7: "apaas", 8: "rtm2", 9: "convoai", 10: "stt"}
KNOWN_PRIVS = {1: [1, 2, 3, 4], 2: [1], 3: [1, 2], 4: [1], 5: [1, 2], 6: [1, 2], 7: [1, 2, 3], 8: [1], 9: [1], 10: [1]}
GO_TYPES = (1, 2, 4, 5, 7)
NODE_TYPES = tuple(range(1, 11))
COMPRESSIONS = ("fast", "isal", "exact")
KINDS = ("sign", "base64", "sha256")
U32 = 2**32 - 1
# The C++ / python3 references compress with vanilla zlib; "exact" must give their strings. (Go's
# compress/flate and Node's bundled Chromium zlib give other bytes for the same payload: D2.)
VANILLA_ZLIB = zlib.ZLIB_RUNTIME_VERSION.startswith(("1.2.", "1.3")) and "ng" not in zlib.ZLIB_RUNTIME_VERSION

# (peer, direction, service type or label) -> count; filled by the fixtures, checked by test_case_counts
COUNTS: "collections.Counter[Tuple[str, str, Any]]" = collections.Counter()
PATHS: "collections.Counter[Tuple[str, str]]" = collections.Counter()
TIMINGS: Dict[str, Dict[str, Any]] = {}


def n_of(x: int) -> int:
    return max(1, int(round(x * SCALE)))


def seed_of(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode())


# ============================================================== random inputs

UNICODE_RANGES = [
    (0xA1, 0xFF), (0x100, 0x17F), (0x391, 0x3C9), (0x400, 0x4FF), (0x5D0, 0x5EA), (0x620, 0x64A),
    (0x905, 0x939), (0x3041, 0x3096), (0x30A1, 0x30FA), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
    (0xFF01, 0xFF5E), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x20000, 0x2A6DF),
]


class Gen:
    """Seeded generator of inputs over the whole documented ranges, with the edges over-weighted."""

    UID_EDGES = [0, 1, 2, 9, 10, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 2, U32]
    SALT_EDGES = [0, 1, 2, 99999998, 99999999, 100000000, 2**31 - 1, 2**31, U32 - 1, U32]
    TS_EDGES = [0, 1, 1111111, 2**31 - 1, 2**31, U32 - 86400, U32 - 1, U32]
    EXPIRE_EDGES = [1, 2, 59, 60, 600, 3600, 86399, 86400]
    ROLE_EDGES = [-32768, -32767, -2, -1, 0, 1, 2, 3, 255, 256, 32767]

    def __init__(self, seed: int, creds: Sequence[Tuple[str, str]]):
        self.r = random.Random(seed)
        self.creds = creds

    def coin(self, p: float = 0.5) -> bool:
        return self.r.random() < p

    def length(self, lo: int, hi: int) -> int:
        x = self.r.random()
        if x < 0.06:
            return lo
        if x < 0.16:
            return hi
        if x < 0.45:
            return self.r.randint(lo, min(hi, lo + 15))
        return self.r.randint(lo, hi)

    def channel(self) -> str:
        n = self.length(1, 64)
        s = "".join(self.r.choices(CHANNEL_CHARS, k=n))
        if self.coin(0.05):
            s = s[:-1] + "*"
        return s

    def ascii_text(self, hi: int, lo: int = 1) -> str:
        if self.coin(0.08):  # digit-only accounts ("0", "42", "0042"): strings, never the uid rule
            return self.r.choice(["0", "00", "1", str(self.r.randint(0, U32)), "0" + str(self.r.randint(1, 999))])[:hi]
        return "".join(self.r.choices(AGORA_CHARS, k=self.length(lo, hi)))

    def utf8_text(self, hi: int, lo: int = 1) -> str:
        """Valid UTF-8 of lo..hi bytes with at least one non-ASCII character (1- to 4-byte sequences)."""
        budget = max(self.length(lo, hi), 2)
        out: List[str] = []
        used = 0
        while used < budget:
            if out and self.coin(0.4):
                ch = self.r.choice(AGORA_CHARS)
            else:
                a, b = self.r.choice(UNICODE_RANGES)
                ch = chr(self.r.randint(a, b))
            n = len(ch.encode())
            if used + n > budget:
                if any(ord(c) > 127 for c in out):
                    out.append("".join(self.r.choices(AGORA_CHARS, k=budget - used)))  # fill to the exact budget
                    break
                continue
            out.append(ch)
            used += n
        s = "".join(out)
        if not any(ord(c) > 127 for c in s):  # budget too small for the drawn characters: force one
            s = "\u00e9" + s[2:]
        assert lo <= len(s.encode()) <= max(hi, 2), (s, hi)
        return s

    def account(self, hi: int = 255, utf8: Optional[bool] = None) -> str:
        if utf8 is None:
            utf8 = self.coin(0.3)
        return self.utf8_text(hi) if utf8 else self.ascii_text(hi)

    def uid(self) -> int:
        x = self.r.random()
        if x < 0.15:
            return self.r.choice(self.UID_EDGES)
        if x < 0.35:
            return self.r.randint(1, 100000)
        return self.r.randint(0, U32)

    def salt(self) -> int:
        x = self.r.random()
        if x < 0.08:
            return self.r.choice(self.SALT_EDGES)
        if x < 0.55:
            return self.r.randint(0, U32)
        return self.r.randint(1, 99999999)

    def salt_in(self, lo: int, hi: int) -> int:
        x = self.r.random()
        if x < 0.1:
            return self.r.choice([lo, lo + 1, hi - 1, hi])
        return self.r.randint(lo, hi)

    def ts(self) -> int:
        if self.coin(0.05):
            return self.r.choice(self.TS_EDGES)
        return self.r.randint(1_400_000_000, 2_300_000_000)

    def expire(self) -> int:
        if self.coin(0.1):
            return self.r.choice(self.EXPIRE_EDGES)
        return self.r.randint(1, 86400)

    def priv_expire(self) -> int:
        return 0 if self.coin(0.1) else self.expire()

    def role(self) -> int:
        return self.r.choice((1, 2))

    def role_arg(self, role: int):
        """How mintlane's role is passed: 1/2 or "publisher"/"subscriber" (any case)."""
        if self.coin(0.5):
            return role
        name = "publisher" if role == 1 else "subscriber"
        return self.r.choice([name, name.upper(), name.capitalize()])

    def apaas_role(self) -> int:
        if self.coin(0.5):
            return self.r.choice(self.ROLE_EDGES)
        return self.r.randint(-32768, 32767)

    def cred(self) -> Tuple[str, str]:
        return self.r.choice(self.creds)

    def permissions(self, utf8: bool) -> List[list]:
        perms = []
        for _ in range(self.r.choice([0, 1, 1, 2, 2, 3, 4, 6])):
            if perms and self.coin(0.12):
                rt, pt = perms[self.r.randrange(len(perms))][:2]  # same pair again: replaces the list
            else:
                rt, pt = self.r.randint(0, 4), self.r.randint(0, 1)
            res = []
            for _ in range(self.r.choice([0, 1, 1, 2, 3, 5])):
                if self.coin(0.1):
                    res.append("*")
                elif utf8 and self.coin(0.4):
                    res.append(self.utf8_text(64))
                else:
                    res.append(self.ascii_text(64))
            perms.append([rt, pt, res])
        return perms


def make_creds() -> List[Tuple[str, str]]:
    r = random.Random(seed_of("creds"))
    out = [("970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"),
           ("0123456789abcdef0123456789ABCDEF", "fedcba9876543210FEDCBA9876543210")]
    for _ in range(10):
        out.append(tuple("".join(r.choice("0123456789abcdefABCDEF") for _ in range(32)) for _ in range(2)))
    return out


CREDS = make_creds()


# ============================================================== service model

def priv_list(d: Dict[int, int]) -> List[List[int]]:
    return [[k, d[k]] for k in sorted(d)]


def uid_str(v) -> str:
    if isinstance(v, int):
        return "" if v == 0 else str(v)
    return v


def rs(t: int, privileges: Optional[Dict[int, int]] = None, **fields) -> Dict[str, Any]:
    """A service in the peers' `raw` format (insertion order, numbers kept as given)."""
    s: Dict[str, Any] = {"type": t, "privileges": [[k, v] for k, v in (privileges or {}).items()]}
    s.update(fields)
    return s


def rtc_privs(role: int, pe: int) -> Dict[int, int]:
    return {1: pe, 2: pe, 3: pe, 4: pe} if role == 1 else {1: pe}


def rtc4(join: int, audio: int, video: int, data: int, publish: bool = True) -> Dict[int, int]:
    return {1: join, 2: audio, 3: video, 4: data} if publish else {1: join}


def norm(s: Dict[str, Any]) -> Dict[str, Any]:
    """Raw service -> the fields a parser reports (peer JSON / vectors §1.1)."""
    t = s["type"]
    privs: Dict[int, int] = {}
    for k, v in s.get("privileges", []):
        privs[k] = v
    o: Dict[str, Any] = {"type": t, "name": NAMES[t], "privileges": priv_list(privs)}
    if t == 1:
        o["channel_name"] = s.get("channel_name", "")
        o["uid"] = uid_str(s.get("uid", ""))
    elif t in (3, 6):
        o["channel_name"] = s.get("channel_name", "")
        o["account"] = uid_str(s.get("account", ""))
    elif t in (2, 5):
        o["user_id"] = s.get("user_id", "")
    elif t == 7:
        o["room_uuid"] = s.get("room_uuid", "")
        o["user_uuid"] = s.get("user_uuid", "")
        o["role"] = s.get("role", -1)
    elif t == 8:
        o["user_id"] = s.get("user_id", "")
        d: Dict[int, Dict[int, list]] = {}
        for rt, pt, res in s.get("permissions", []):
            d.setdefault(rt, {})[pt] = list(res)
        o["permissions"] = [[rt, [[pt, d[rt][pt]] for pt in sorted(d[rt])]] for rt in sorted(d)]
    return o


def wire(specs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Services as written: stable-sorted by type, duplicates kept (TOKEN_FORMAT §2.6)."""
    return sorted((norm(s) for s in specs), key=lambda o: o["type"])


def gotb_view(services: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """GoTB keeps one service per type (the last one wins), in type order (D3)."""
    by_type: Dict[int, Dict[str, Any]] = {}
    for s in services:
        by_type[s["type"]] = s
    return [by_type[t] for t in sorted(by_type)]


def gotb_collapse(specs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What GoTB's AddService keeps of an insertion-order list: the last service of each type."""
    by_type: Dict[int, Dict[str, Any]] = {}
    for s in specs:
        by_type[s["type"]] = s
    return [by_type[t] for t in sorted(by_type)]


def node_view(services: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """npm agora-token's parser reads the APaaS i16 role unsigned (D7)."""
    out = []
    for s in services:
        if s["type"] == 7:
            s = dict(s, role=s["role"] & 0xFFFF)
        out.append(s)
    return out


def node_constructed(specs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """npm's ServiceApaas constructor: `role || -1` turns role 0 into -1 (D7)."""
    out = []
    for s in specs:
        if s["type"] == 7 and s.get("role", -1) == 0:
            s = dict(s, role=-1)
        out.append(s)
    return out


def to_ml(s: Dict[str, Any]) -> Service:
    t = s["type"]
    privs: Dict[int, int] = {}
    for k, v in s.get("privileges", []):
        privs[k] = v
    if t == 1:
        return Service(1, s.get("channel_name", ""), uid_str(s.get("uid", "")), privileges=privs)
    if t in (3, 6):
        return Service(t, s.get("channel_name", ""), uid_str(s.get("account", "")), privileges=privs)
    if t in (2, 5):
        return Service(t, s.get("user_id", ""), privileges=privs)
    if t == 7:
        return Service(7, s.get("room_uuid", ""), s.get("user_uuid", ""), privileges=privs, role=s.get("role", -1))
    if t == 8:
        return Service(8, s.get("user_id", ""), privileges=privs,
                       permissions=[(rt, pt, list(res)) for rt, pt, res in s.get("permissions", [])])
    return Service(t, privileges=privs)


def ml_json(s: Service) -> Dict[str, Any]:
    """mintlane's decoded Service in the peers' JSON shape."""
    t = s.type
    o: Dict[str, Any] = {"type": t, "name": s.name, "privileges": priv_list(dict(s.privileges))}
    if t == 1:
        o["channel_name"], o["uid"] = s.channel_name, s.uid
    elif t in (3, 6):
        o["channel_name"], o["account"] = s.channel_name, s.account
    elif t in (2, 5):
        o["user_id"] = s.user_id
    elif t == 7:
        o["room_uuid"], o["user_uuid"], o["role"] = s.room_uuid, s.user_uuid, s.role
    elif t == 8:
        o["user_id"] = s.user_id
        perms: List[list] = []
        for rt, pt, res in s.permissions:
            if not perms or perms[-1][0] != rt:
                perms.append([rt, []])
            perms[-1][1].append([pt, list(res)])
        o["permissions"] = perms
    return o


def inflate_token(tok: str) -> bytes:
    return zlib.decompress(base64.b64decode(tok[3:], validate=True))


def ml_payload(tok: str) -> Tuple[Any, bytes]:
    d = mintlane.decode(tok)
    return d, len(d.signature).to_bytes(2, "little") + d.signature + d.signing_info


def md5_hex(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def short(x: Any, n: int = 600) -> str:
    s = json.dumps(x, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[:n] + "..."


# ============================================================== cases and mint units

@dataclass
class Case:
    fam: str
    app_id: str
    cert: str
    salt: int
    ts: int
    expire: int
    specs: List[Dict[str, Any]]                   # what mintlane's token holds (insertion order)
    peer_req: Optional[Dict[str, Any]] = None     # {"builder", "args"} for the peer's mint
    peer_specs: Optional[List[Dict[str, Any]]] = None  # what the peer's token holds, when it deviates
    deviation: Optional[str] = None               # label of the asserted known deviation
    peer_error: Optional[str] = None              # the peer's mint must fail with this substring
    verify_kw: Dict[str, Any] = field(default_factory=dict)
    token: Optional[str] = None
    path: str = ""
    comp: str = ""
    mint_error: Optional[str] = None


@dataclass
class Unit:
    """Cases minted by one mintlane call (a single builder call or one batch call)."""
    cases: List[Case]
    fn: Callable[[Any, str], Sequence[str]]
    path: str
    threads: int = 1


def one(case: Case, path: str, fn: Callable[[Any, str], str]) -> Unit:
    return Unit([case], lambda m, comp: [fn(m, comp)], path)


def general(c: Case, m, comp: str) -> str:
    """mintlane's general builder (Minter.token) or the low-level encoder, alternating by salt."""
    svcs = [to_ml(s) for s in c.specs]
    if c.salt % 2 == 0 and 1 <= c.expire <= 86400:
        return m.token(svcs, expire=c.expire, salt=c.salt, issue_ts=c.ts)
    return _core.encode_007(c.app_id, c.cert, svcs, issue_ts=c.ts, expire=c.expire, salt=c.salt, compression=comp)


def general_unit(c: Case, path: str = "general") -> Unit:
    return Unit([c], lambda m, comp, c=c: [general(c, m, comp)], path)


def combos() -> List[Tuple[str, Dict[str, str]]]:
    ks = {k: _core._supported_kernels(k) for k in KINDS}
    out = []
    for sign, b64, sha in itertools.product(ks["sign"], ks["base64"], ks["sha256"]):
        for comp in COMPRESSIONS:
            out.append((comp, {"sign": sign, "base64": b64, "sha256": sha}))
    # interleave so that consecutive units differ in every dimension
    r = random.Random(seed_of("combos"))
    r.shuffle(out)
    return out


class Kernels:
    """Forces dispatch paths and restores the original ones."""

    def __init__(self):
        self.original = {k: _core._active_kernels()[k] for k in KINDS}
        self.current = dict(self.original)

    def set(self, want: Dict[str, str]) -> None:
        for k, v in want.items():
            if self.current[k] != v:
                _core._force_kernel(k, v)
                self.current[k] = v

    def restore(self) -> None:
        self.set(self.original)


class MinterPool:
    def __init__(self):
        self._m: Dict[Tuple[str, str, str, int], Any] = {}

    def get(self, app_id: str, cert: str, comp: str, threads: int):
        key = (app_id, cert, comp, threads)
        m = self._m.get(key)
        if m is None:
            m = self._m[key] = mintlane.Minter(app_id, cert, compression=comp, threads=threads)
        return m


def mint_units(units: List[Unit], label: str) -> List[Case]:
    cmb = combos()
    kern = Kernels()
    pool = MinterPool()
    try:
        for j, u in enumerate(units):
            comp, ks = cmb[j % len(cmb)]
            kern.set(ks)
            c0 = u.cases[0]
            m = pool.get(c0.app_id, c0.cert, comp, u.threads)
            path = f"{u.path} [{comp} sign={ks['sign']} b64={ks['base64']} sha={ks['sha256']} t={u.threads}]"
            PATHS[(label, u.path)] += len(u.cases)
            PATHS[(label, f"compression={comp}")] += len(u.cases)
            for k in KINDS:
                PATHS[(label, f"{k}={ks[k]}")] += len(u.cases)
            try:
                toks = list(u.fn(m, comp))
                assert len(toks) == len(u.cases), f"{len(toks)} tokens for {len(u.cases)} cases"
            except Exception as e:  # a mintlane refusal of a valid input is a failure, reported per case
                for c in u.cases:
                    c.path, c.mint_error = path, f"{type(e).__name__}: {e}"
                continue
            for c, t in zip(u.cases, toks):
                c.token, c.path, c.comp = t, path, comp
    finally:
        kern.restore()
    return [c for u in units for c in u.cases]


# ============================================================== families (007)
# Each family returns Units whose cases carry the model (specs), the peer request and the
# verify arguments. `peer` is "node" or "go" and selects the peer's builder.


def _rtc_peer_req(peer: str, g: Gen, kind: str, ch: str, user, role: int, e: int, pe: int, specs) -> Dict[str, Any]:
    if peer == "node":
        if kind == "uid":
            return {"builder": "rtc.build_token_with_uid",
                    "args": {"channel_name": ch, "uid": user, "role": role, "token_expire": e, "privilege_expire": pe}}
        return {"builder": "rtc.build_token_with_user_account",
                "args": {"channel_name": ch, "user_account": user, "role": role, "token_expire": e, "privilege_expire": pe}}
    if pe != e:  # GoTB's RTC builders have one expire: use its official low-level API
        return {"builder": "raw", "args": {"expire": e, "services_in_insertion_order": specs}}
    if g.coin(0.75):
        if kind == "uid":
            return {"builder": "gotb.rtc.build_token_with_uid", "args": {"channel_name": ch, "uid": user, "role": role, "expire": e}}
        return {"builder": "gotb.rtc.build_token_with_account", "args": {"channel_name": ch, "account": user, "role": role, "expire": e}}
    if kind == "uid":
        return {"builder": "rtc.build_token_with_uid",
                "args": {"channel_name": ch, "uid": user, "role": role, "token_expire": e, "privilege_expire": pe}}
    return {"builder": "rtc.build_token_with_user_account",
            "args": {"channel_name": ch, "user_account": user, "role": role, "token_expire": e, "privilege_expire": pe}}


def raw_req(c_specs, e) -> Dict[str, Any]:
    return {"builder": "raw", "args": {"expire": e, "services_in_insertion_order": c_specs}}


def fam_rtc(g: Gen, n: int, peer: str, kind: str) -> List[Unit]:
    """RTC by uid (kind "uid") or by account ("account"): Minter.rtc / rtc_batch / general builder."""
    units: List[Unit] = []
    made = 0
    fam = f"rtc_{kind}"
    while made < n:
        app, cert = g.cred()
        role, e = g.role(), g.expire()
        pe = e if (peer == "go" and g.coin(0.7)) or g.coin(0.3) else g.priv_expire()
        batch = g.coin(0.15)
        k = g.r.randint(2, 12) if batch else 1
        ts = g.ts()
        one_channel = g.channel() if batch and g.coin(0.3) else None
        utf8 = kind == "account" and not batch and g.coin(0.4)
        if kind == "uid" and batch and g.coin(0.25):
            start = g.r.randint(0, U32 - k + 1) if g.coin(0.7) else g.r.choice([0, U32 - k + 1])
            users = list(range(start, start + k))
        else:
            users = [g.uid() if kind == "uid" else g.account(255, utf8) for _ in range(k)]
        cases = []
        for i in range(k):
            ch = one_channel or g.channel()
            specs = [rs(1, rtc_privs(role, pe), channel_name=ch, uid=users[i])]
            c = Case(fam, app, cert, g.salt(), ts, e, specs,
                     verify_kw={"channel": ch, ("uid" if kind == "uid" else "account"): users[i]})
            c.peer_req = _rtc_peer_req(peer, g, kind, ch, users[i], role, e, pe, specs)
            cases.append(c)
        made += k
        if batch:
            ra = g.role_arg(role)
            pe_arg = None if pe == e and g.coin(0.5) else pe
            kw: Dict[str, Any] = {"role": ra, "expire": e, "privilege_expire": pe_arg,
                                  "salts": [c.salt for c in cases], "issue_ts": ts}
            if one_channel:
                kw["channel"] = one_channel
            else:
                kw["channels"] = [c.specs[0]["channel_name"] for c in cases]
            if kind == "uid":
                if users == list(range(users[0], users[0] + k)):
                    kw["uids"], path = range(users[0], users[0] + k), "Minter.rtc_batch(uids=range)"
                elif g.coin(0.3):
                    kw["uids"], path = array.array("Q", users), "Minter.rtc_batch(uids=buffer)"
                else:
                    kw["uids"], path = users, "Minter.rtc_batch(uids=list)"
            else:
                kw["accounts"], path = users, "Minter.rtc_batch(accounts=)"
            units.append(Unit(cases, lambda m, comp, kw=kw: m.rtc_batch(**kw).tolist(), path, threads=g.r.choice([1, 2])))
        else:
            c = cases[0]
            if utf8:
                units.append(general_unit(c, "general(rtc utf8 account)"))
                continue
            ra = g.role_arg(role)
            pe_arg = None if pe == e and g.coin(0.5) else pe
            if kind == "uid":
                fn = lambda m, comp, c=c, ra=ra, pe_arg=pe_arg: m.rtc(
                    c.specs[0]["channel_name"], c.specs[0]["uid"], role=ra, expire=c.expire,
                    privilege_expire=pe_arg, salt=c.salt, issue_ts=c.ts)
            else:
                fn = lambda m, comp, c=c, ra=ra, pe_arg=pe_arg: m.rtc(
                    c.specs[0]["channel_name"], account=c.specs[0]["uid"], role=ra, expire=c.expire,
                    privilege_expire=pe_arg, salt=c.salt, issue_ts=c.ts)
            units.append(one(c, "Minter.rtc", fn))
    return units


def fam_rtc_priv(g: Gen, n: int, peer: str) -> List[Unit]:
    """RTC with one expiry per privilege: Minter.rtc_with_privileges / its batch / general builder."""
    units: List[Unit] = []
    made = 0
    while made < n:
        app, cert = g.cred()
        e = g.expire()
        pr = [g.priv_expire() if g.coin(0.8) else None for _ in range(4)]  # None: mintlane default = expire
        vals = [e if p is None else p for p in pr]
        by_uid = g.coin(0.5)
        batch = g.coin(0.15)
        k = g.r.randint(2, 10) if batch else 1
        ts = g.ts()
        utf8 = not by_uid and not batch and g.coin(0.4)
        cases = []
        for _ in range(k):
            ch = g.channel()
            user = g.uid() if by_uid else g.account(255, utf8)
            specs = [rs(1, rtc4(*vals), channel_name=ch, uid=user)]
            c = Case("rtc_priv", app, cert, g.salt(), ts, e, specs,
                     verify_kw={"channel": ch, ("uid" if by_uid else "account"): user})
            if peer == "node":
                a = {"channel_name": ch, "token_expire": e, "join_channel_privilege_expire": vals[0],
                     "pub_audio_privilege_expire": vals[1], "pub_video_privilege_expire": vals[2],
                     "pub_data_stream_privilege_expire": vals[3]}
                if by_uid:
                    c.peer_req = {"builder": "rtc.build_token_with_uid_and_privilege", "args": dict(a, uid=user)}
                else:
                    c.peer_req = {"builder": "rtc.build_token_with_user_account_and_privilege", "args": dict(a, user_account=user)}
            else:
                c.peer_req = raw_req(specs, e)
            cases.append(c)
        made += k
        pkw = dict(join_channel=pr[0], publish_audio=pr[1], publish_video=pr[2], publish_data=pr[3])
        if batch:
            kw = dict(pkw, channels=[c.specs[0]["channel_name"] for c in cases], expire=e,
                      salts=[c.salt for c in cases], issue_ts=ts)
            kw["uids" if by_uid else "accounts"] = [c.specs[0]["uid"] for c in cases]
            units.append(Unit(cases, lambda m, comp, kw=kw: m.rtc_with_privileges_batch(**kw).tolist(),
                              "Minter.rtc_with_privileges_batch", threads=g.r.choice([1, 2])))
        else:
            c = cases[0]
            if utf8:
                units.append(general_unit(c, "general(rtc privileges utf8)"))
                continue
            ukw = {"uid": c.specs[0]["uid"]} if by_uid else {"account": c.specs[0]["uid"]}
            units.append(one(c, "Minter.rtc_with_privileges", lambda m, comp, c=c, ukw=ukw, pkw=pkw: m.rtc_with_privileges(
                c.specs[0]["channel_name"], **ukw, expire=c.expire, salt=c.salt, issue_ts=c.ts, **pkw)))
    return units


def fam_rtc_rtm(g: Gen, n: int, peer: str) -> List[Unit]:
    """RTC + RTM for one account: Minter.rtc_rtm / rtc_rtm_batch / general builder."""
    units: List[Unit] = []
    made = 0
    while made < n:
        app, cert = g.cred()
        role, e = g.role(), g.expire()
        pe = e if g.coin(0.3) else g.priv_expire()
        batch = g.coin(0.15)
        k = g.r.randint(2, 10) if batch else 1
        ts = g.ts()
        utf8 = not batch and g.coin(0.4)
        cases = []
        for _ in range(k):
            ch, acc = g.channel(), g.account(255, utf8)
            specs = [rs(1, rtc_privs(role, pe), channel_name=ch, uid=acc), rs(2, {1: e}, user_id=acc)]
            c = Case("rtc_rtm", app, cert, g.salt(), ts, e, specs, verify_kw={"channel": ch, "account": acc})
            if peer == "node":
                c.peer_req = {"builder": "rtc.build_token_with_rtm", "args": {
                    "channel_name": ch, "user_account": acc, "role": role, "token_expire": e, "privilege_expire": pe}}
            else:
                c.peer_req = raw_req(specs, e)
            cases.append(c)
        made += k
        ra = g.role_arg(role)
        pe_arg = None if pe == e and g.coin(0.5) else pe
        if batch:
            kw = dict(channels=[c.specs[0]["channel_name"] for c in cases], accounts=[c.specs[0]["uid"] for c in cases],
                      role=ra, expire=e, privilege_expire=pe_arg, salts=[c.salt for c in cases], issue_ts=ts)
            units.append(Unit(cases, lambda m, comp, kw=kw: m.rtc_rtm_batch(**kw).tolist(), "Minter.rtc_rtm_batch",
                              threads=g.r.choice([1, 2])))
        elif utf8:
            units.append(general_unit(cases[0], "general(rtc+rtm utf8)"))
        else:
            c = cases[0]
            units.append(one(c, "Minter.rtc_rtm", lambda m, comp, c=c, ra=ra, pe_arg=pe_arg: m.rtc_rtm(
                c.specs[0]["channel_name"], c.specs[0]["uid"], role=ra, expire=c.expire, privilege_expire=pe_arg,
                salt=c.salt, issue_ts=c.ts)))
    return units


def fam_rtc_rtm2(g: Gen, n: int, peer: str, agent: Optional[int] = None) -> List[Unit]:
    """RTC + RTM (login = rtm expire), optionally + a bare ConvoAI (9) / STT (10) record:
    Minter.rtc_rtm2 / Minter.convoai / Minter.stt / the agent batches / general builder."""
    units: List[Unit] = []
    made = 0
    fam = {None: "rtc_rtm2", 9: "convoai", 10: "stt"}[agent]
    while made < n:
        app, cert = g.cred()
        role, e = g.role(), g.expire()
        re_ = e if g.coin(0.25) else g.expire()
        batch = agent is not None and g.coin(0.15)
        pr = [None] * 4 if batch else [g.priv_expire() if g.coin(0.8) else None for _ in range(4)]
        vals = [e if p is None else p for p in pr]
        k = g.r.randint(2, 10) if batch else 1
        ts = g.ts()
        utf8 = not batch and g.coin(0.35)
        rtm_user = g.account(255, utf8)
        rtm_arg = None if re_ == e and g.coin(0.5) else re_
        cases = []
        for _ in range(k):
            ch = g.channel()
            if batch:
                acct: Any = g.account(255, False)
            else:
                acct = g.uid() if g.coin(0.4) else ("" if g.coin(0.05) else g.account(255, utf8))
            specs = [rs(1, rtc4(*vals, publish=role == 1), channel_name=ch, uid=acct), rs(2, {1: re_}, user_id=rtm_user)]
            if agent:
                specs.append(rs(agent))
            vkw: Dict[str, Any] = {"channel": ch}
            if isinstance(acct, int):
                vkw["uid"] = acct
            elif acct:
                vkw["account"] = acct
            c = Case(fam, app, cert, g.salt(), ts, e, specs, verify_kw=vkw)
            if peer == "node":
                c.peer_req = {"builder": {None: "rtc.build_token_with_rtm2", 9: "convoai.build_token", 10: "stt.build_token"}[agent],
                              "args": {"channel_name": ch, "rtc_account": acct, "rtc_role": role, "rtc_token_expire": e,
                                       "join_channel_privilege_expire": vals[0], "pub_audio_privilege_expire": vals[1],
                                       "pub_video_privilege_expire": vals[2], "pub_data_stream_privilege_expire": vals[3],
                                       "rtm_user_id": rtm_user, "rtm_token_expire": re_}}
            elif agent is None:
                c.peer_req = raw_req(specs, e)
            else:
                c.peer_req = dict(raw_req(specs, e))
                c.peer_error = "not-applicable"  # GoTB has no type 9/10 (D5)
            cases.append(c)
        made += k
        ra = g.role_arg(role)
        if batch:
            kw = dict(channels=[c.specs[0]["channel_name"] for c in cases], rtc_accounts=[c.specs[0]["uid"] for c in cases],
                      rtm_user_id=rtm_user, role=ra, rtc_expire=e, rtm_expire=rtm_arg, salts=[c.salt for c in cases],
                      issue_ts=ts)
            meth = "convoai_batch" if agent == 9 else "stt_batch"
            units.append(Unit(cases, lambda m, comp, kw=kw, meth=meth: getattr(m, meth)(**kw).tolist(), f"Minter.{meth}",
                              threads=g.r.choice([1, 2])))
            continue
        c = cases[0]
        if utf8:
            units.append(general_unit(c, f"general({fam} utf8)"))
            continue
        meth = {None: "rtc_rtm2", 9: "convoai", 10: "stt"}[agent]
        pkw = dict(join_channel=pr[0], publish_audio=pr[1], publish_video=pr[2], publish_data=pr[3])
        units.append(one(c, f"Minter.{meth}", lambda m, comp, c=c, ra=ra, pkw=pkw, meth=meth, rtm_arg=rtm_arg: getattr(m, meth)(
            c.specs[0]["channel_name"], c.specs[0]["uid"], c.specs[1]["user_id"], role=ra, rtc_expire=c.expire,
            rtm_expire=rtm_arg, salt=c.salt, issue_ts=c.ts, **pkw)))
    return units


def fam_user(g: Gen, n: int, peer: str, what: str) -> List[Unit]:
    """One-user services: RTM login (what="rtm") or Chat user ("chat")."""
    units: List[Unit] = []
    made = 0
    t = 2 if what == "rtm" else 5
    while made < n:
        app, cert = g.cred()
        e = g.expire()
        batch = g.coin(0.15)
        k = g.r.randint(2, 12) if batch else 1
        ts = g.ts()
        utf8 = not batch and g.coin(0.3)
        cases = []
        for _ in range(k):
            u = g.account(64, utf8)
            specs = [rs(t, {1: e}, user_id=u)]
            c = Case(what, app, cert, g.salt(), ts, e, specs)
            if peer == "node":
                c.peer_req = {"builder": "rtm.build_token" if what == "rtm" else "chat.build_user_token",
                              "args": {"user_id": u, "expire": e}}
            else:
                name = g.r.choice(["gotb.rtm.build_token", "rtm.build_token"] if what == "rtm"
                                  else ["gotb.chat.build_user_token", "chat.build_user_token"])
                c.peer_req = {"builder": name, "args": {"user_id": u, "expire": e}}
            cases.append(c)
        made += k
        meth = "rtm" if what == "rtm" else "chat_user"
        if batch:
            kw = dict(user_ids=[c.specs[0]["user_id"] for c in cases], expire=e, salts=[c.salt for c in cases], issue_ts=ts)
            units.append(Unit(cases, lambda m, comp, kw=kw, meth=meth: getattr(m, meth + "_batch")(**kw).tolist(),
                              f"Minter.{meth}_batch", threads=g.r.choice([1, 2])))
        elif utf8:
            units.append(general_unit(cases[0], f"general({what} utf8)"))
        else:
            c = cases[0]
            units.append(one(c, f"Minter.{meth}", lambda m, comp, c=c, meth=meth: getattr(m, meth)(
                c.specs[0]["user_id"], expire=c.expire, salt=c.salt, issue_ts=c.ts)))
    return units


def fam_no_input(g: Gen, n: int, peer: str, what: str) -> List[Unit]:
    """Builders without a per-token input: chat app, APaaS app, FPA."""
    units: List[Unit] = []
    made = 0
    while made < n:
        app, cert = g.cred()
        e = 86400 if what == "fpa" else g.expire()
        specs = {"chat_app": [rs(5, {2: e}, user_id="")], "apaas_app": [rs(7, {3: e}, room_uuid="", user_uuid="", role=-1)],
                 "fpa": [rs(4, {1: 0})]}[what]
        batch = g.coin(0.15)
        k = g.r.randint(2, 12) if batch else 1
        ts = g.ts()
        cases = []
        for _ in range(k):
            c = Case(what, app, cert, g.salt(), ts, e, [dict(s) for s in specs])
            if peer == "node":
                if what == "apaas_app":
                    c.peer_req = {"builder": g.r.choice(["apaas.build_app_token", "education.build_app_token"]), "args": {"expire": e}}
                elif what == "chat_app":
                    c.peer_req = {"builder": "chat.build_app_token", "args": {"expire": e}}
                else:
                    c.peer_req = {"builder": "fpa.build_token", "args": {}}
            elif what == "chat_app":
                c.peer_req = {"builder": g.r.choice(["gotb.chat.build_app_token", "chat.build_app_token"]), "args": {"expire": e}}
            else:
                c.peer_req = raw_req(c.specs, e)
            cases.append(c)
        made += k
        meth = {"chat_app": "chat_app", "apaas_app": g.r.choice(["apaas_app", "education_app"]), "fpa": "fpa"}[what]
        if batch:
            bm = {"chat_app": "chat_app_batch", "apaas_app": "apaas_app_batch", "fpa": "fpa_batch"}[what]
            kw: Dict[str, Any] = dict(count=k, salts=[c.salt for c in cases], issue_ts=ts)
            if what != "fpa":
                kw["expire"] = e
            units.append(Unit(cases, lambda m, comp, kw=kw, bm=bm: getattr(m, bm)(**kw).tolist(), f"Minter.{bm}",
                              threads=g.r.choice([1, 2])))
        else:
            c = cases[0]
            if what == "fpa":
                fn = lambda m, comp, c=c: m.fpa(salt=c.salt, issue_ts=c.ts)
            else:
                fn = lambda m, comp, c=c, meth=meth: getattr(m, meth)(expire=c.expire, salt=c.salt, issue_ts=c.ts)
            units.append(one(c, f"Minter.{meth}", fn))
    return units


def fam_apaas(g: Gen, n: int, peer: str, what: str) -> List[Unit]:
    """APaaS/Education room-user (RTM + Chat(md5) + APaaS) and user tokens."""
    units: List[Unit] = []
    made = 0
    while made < n:
        app, cert = g.cred()
        e = g.expire()
        role = g.apaas_role()
        batch = g.coin(0.15)
        k = g.r.randint(2, 10) if batch else 1
        ts = g.ts()
        utf8 = (not batch) and g.coin(0.35)  # the single builders accept UTF-8 uuids
        room = g.account(255, utf8 and g.coin(0.5))
        cases = []
        node_edu = g.coin(0.5)
        for _ in range(k):
            user = g.account(255, utf8)
            if what == "room_user":
                specs = [rs(7, {1: e}, room_uuid=room, user_uuid=user, role=role), rs(2, {1: e}, user_id=user),
                         rs(5, {1: e}, user_id=md5_hex(user))]
            else:
                specs = [rs(7, {2: e}, room_uuid="", user_uuid=user, role=-1)]
            c = Case(f"apaas_{what}", app, cert, g.salt(), ts, e, specs)
            if peer == "node":
                pref = "education" if node_edu else "apaas"
                if what == "room_user":
                    c.peer_req = {"builder": f"{pref}.build_room_user_token",
                                  "args": {"room_uuid": room, "user_uuid": user, "role": role, "expire": e}}
                    # D6/D7: npm never adds roomUser and its constructor maps role 0 to -1
                    c.peer_specs = node_constructed([dict(specs[0], privileges=[]), specs[1], specs[2]])
                    c.deviation = "node D6/D7 room-user"
                else:
                    c.peer_req = {"builder": f"{pref}.build_user_token", "args": {"user_uuid": user, "expire": e}}
            else:
                c.peer_req = raw_req(specs, e)
            cases.append(c)
        made += k
        if batch:
            if what == "room_user":
                kw = dict(room_uuid=room, user_uuids=[c.specs[0]["user_uuid"] for c in cases], role=role, expire=e,
                          salts=[c.salt for c in cases], issue_ts=ts)
                bm = "apaas_room_user_batch"
            else:
                kw = dict(user_uuids=[c.specs[0]["user_uuid"] for c in cases], expire=e, salts=[c.salt for c in cases],
                          issue_ts=ts)
                bm = "apaas_user_batch"
            units.append(Unit(cases, lambda m, comp, kw=kw, bm=bm: getattr(m, bm)(**kw).tolist(), f"Minter.{bm}",
                              threads=g.r.choice([1, 2])))
        else:
            c = cases[0]
            pre = g.r.choice(["apaas", "education"])
            if what == "room_user":
                units.append(one(c, f"Minter.{pre}_room_user", lambda m, comp, c=c, pre=pre: getattr(m, pre + "_room_user")(
                    c.specs[0]["room_uuid"], c.specs[0]["user_uuid"], c.specs[0]["role"], expire=c.expire, salt=c.salt,
                    issue_ts=c.ts)))
            else:
                units.append(one(c, f"Minter.{pre}_user", lambda m, comp, c=c, pre=pre: getattr(m, pre + "_user")(
                    c.specs[0]["user_uuid"], expire=c.expire, salt=c.salt, issue_ts=c.ts)))
    return units


def fam_rtm2(g: Gen, n: int, peer: str) -> List[Unit]:
    """RTM2 with permissions: Minter.rtm2 / general builder (UTF-8 user ids)."""
    units: List[Unit] = []
    for _ in range(n):
        app, cert = g.cred()
        e = g.expire()
        utf8 = g.coin(0.3)
        user = g.account(64, utf8)
        perms = g.permissions(utf8 or g.coin(0.3))
        specs = [rs(8, {1: e}, user_id=user, permissions=perms)]
        c = Case("rtm2", app, cert, g.salt(), g.ts(), e, specs)
        if peer == "node":
            c.peer_req = {"builder": "rtm.build_token_with_permissions", "args": {"user_id": user, "permissions": perms, "expire": e}}
        else:
            c.peer_req, c.peer_error = raw_req(specs, e), "not-applicable"
        if utf8:
            units.append(general_unit(c, "general(rtm2 utf8 user)"))
        else:
            units.append(one(c, "Minter.rtm2", lambda m, comp, c=c: m.rtm2(
                c.specs[0]["user_id"], [tuple(p) for p in c.specs[0]["permissions"]], expire=c.expire, salt=c.salt,
                issue_ts=c.ts)))
    return units


def random_service(g: Gen, t: int) -> Dict[str, Any]:
    """A random service record of type t for the general builder / raw builders."""
    ids = list(KNOWN_PRIVS[t])
    chosen = [i for i in ids if g.coin(0.6)]
    if g.coin(0.05):
        chosen.append(g.r.choice([0, 5, 100, 1000, 65535]))  # a privilege id the service does not define
    privs = {i: (g.priv_expire() if g.coin(0.97) else g.r.choice([U32, 2**31, 86401])) for i in chosen}
    utf8 = g.coin(0.3)
    hi = 2048 if g.coin(0.03) else 255  # past the documented limits: plain bytes on the wire for everyone
    if t == 1:
        return rs(1, privs, channel_name=g.channel() if g.coin(0.95) else "",
                  uid=g.uid() if g.coin(0.5) else g.account(hi, utf8))
    if t in (3, 6):
        acct: Any = g.uid() if g.coin(0.4) else ("" if g.coin(0.05) else g.account(hi, utf8))
        return rs(t, privs, channel_name=g.channel() if g.coin(0.95) else "", account=acct)
    if t in (2, 5):
        return rs(t, privs, user_id=g.account(255, utf8) if g.coin(0.95) else "")
    if t == 7:
        return rs(7, privs, room_uuid=g.account(255, utf8) if g.coin(0.8) else "",
                  user_uuid=g.account(255, utf8) if g.coin(0.9) else "", role=g.apaas_role())
    if t == 8:
        return rs(8, privs, user_id=g.account(64, utf8), permissions=g.permissions(utf8))
    return rs(t, privs)


def fam_raw(g: Gen, n: int, peer: str, types: Sequence[int], first: Optional[int] = None,
            fam: str = "raw", duplicates: bool = True) -> List[Unit]:
    """Random multi-service tokens through mintlane's general builder / encode_007 and the peer's
    low-level API (`raw`). `first` forces one service of that type into every token."""
    units: List[Unit] = []
    for _ in range(n):
        app, cert = g.cred()
        k = g.r.choice([1, 1, 2, 2, 3, 4]) if first is None else g.r.choice([1, 1, 1, 2, 3])
        if duplicates:
            ts_ = [g.r.choice(types) for _ in range(k)]
        else:
            ts_ = g.r.sample(list(types), min(k, len(types)))
        if first is not None and first not in ts_:
            ts_[g.r.randrange(len(ts_))] = first
        specs = [random_service(g, t) for t in ts_]
        e = g.expire() if g.coin(0.95) else g.r.choice([0, U32, 86401, 2**31])
        c = Case(fam, app, cert, g.salt(), g.ts(), e, specs)
        c.peer_req = raw_req(specs, e)
        if peer == "node":
            cons = node_constructed(specs)
            if cons != specs:
                c.peer_specs, c.deviation = cons, "node D7 ServiceApaas role 0 -> -1"
        elif any(t not in GO_TYPES for t in ts_):
            c.peer_error = "not-applicable"  # D5: GoTB has no such service
        elif len(set(ts_)) != len(ts_):
            c.peer_specs, c.deviation = gotb_collapse(specs), "go D3 one service per type"
        units.append(general_unit(c, "general(raw)" if first is None else f"general({NAMES[first]})"))
    return units


def fam_go_dup(g: Gen, n: int) -> List[Unit]:
    """Duplicate service types: GoTB keeps the last one per type (D3), asserted both ways."""
    units: List[Unit] = []
    for _ in range(n):
        app, cert = g.cred()
        t = g.r.choice(GO_TYPES)
        others = [x for x in GO_TYPES if x != t]
        ts_ = [t, t] + g.r.sample(others, g.r.randint(0, 2))
        if g.coin(0.3):
            ts_.append(t)
        g.r.shuffle(ts_)
        specs = [random_service(g, x) for x in ts_]
        e = g.expire()
        c = Case("go_duplicates", app, cert, g.salt(), g.ts(), e, specs, peer_req=raw_req(specs, e))
        c.peer_specs, c.deviation = gotb_collapse(specs), "go D3 one service per type"
        units.append(general_unit(c, "general(duplicate types)"))
    return units


def fam_go_rtm_stream(g: Gen, n: int) -> List[Unit]:
    """GoTB rtmtokenbuilder.BuildToken with a stream name: RTM + RTC(stream, user) join + publish-data.
    mintlane has no public Python method for this layout: the general builder makes it."""
    units: List[Unit] = []
    for _ in range(n):
        app, cert = g.cred()
        e = g.expire()
        user = g.account(64, g.coin(0.3))
        stream = g.channel()
        specs = [rs(1, {1: e, 4: e}, channel_name=stream, uid=user), rs(2, {1: e}, user_id=user)]
        c = Case("go_rtm_stream", app, cert, g.salt(), g.ts(), e, specs,
                 peer_req={"builder": g.r.choice(["gotb.rtm.build_token", "go_community.rtm.build_token_with_stream"]),
                           "args": {"user_id": user, "expire": e, "stream_name": stream}},
                 verify_kw={"channel": stream, "account": user})
        units.append(general_unit(c, "general(rtm with stream)"))
    return units


NODE_FAMILIES: Dict[str, Callable[[Gen, str], List[Unit]]] = {
    "rtc_uid": lambda g, p: fam_rtc(g, n_of(700), p, "uid"),
    "rtc_account": lambda g, p: fam_rtc(g, n_of(700), p, "account"),
    "rtc_priv": lambda g, p: fam_rtc_priv(g, n_of(400), p),
    "rtc_rtm": lambda g, p: fam_rtc_rtm(g, n_of(400), p),
    "rtc_rtm2": lambda g, p: fam_rtc_rtm2(g, n_of(400), p),
    "convoai": lambda g, p: fam_rtc_rtm2(g, n_of(1900), p, agent=9),
    "stt": lambda g, p: fam_rtc_rtm2(g, n_of(1900), p, agent=10),
    "rtm": lambda g, p: fam_user(g, n_of(800), p, "rtm"),
    "rtm2": lambda g, p: fam_rtm2(g, n_of(1800), p),
    "chat_user": lambda g, p: fam_user(g, n_of(1000), p, "chat"),
    "chat_app": lambda g, p: fam_no_input(g, n_of(500), p, "chat_app"),
    "apaas_room_user": lambda g, p: fam_apaas(g, n_of(800), p, "room_user"),
    "apaas_user": lambda g, p: fam_apaas(g, n_of(600), p, "user"),
    "apaas_app": lambda g, p: fam_no_input(g, n_of(300), p, "apaas_app"),
    "fpa": lambda g, p: fam_no_input(g, n_of(1000), p, "fpa"),
    "fpa_raw": lambda g, p: fam_raw(g, n_of(800), p, NODE_TYPES, first=4, fam="fpa_raw"),
    "streaming": lambda g, p: fam_raw(g, n_of(1700), p, NODE_TYPES, first=3, fam="streaming"),
    "fcdn": lambda g, p: fam_raw(g, n_of(1700), p, NODE_TYPES, first=6, fam="fcdn"),
    "raw": lambda g, p: fam_raw(g, n_of(1500), p, NODE_TYPES),
}

GO_FAMILIES: Dict[str, Callable[[Gen, str], List[Unit]]] = {
    "rtc_uid": lambda g, p: fam_rtc(g, n_of(600), p, "uid"),
    "rtc_account": lambda g, p: fam_rtc(g, n_of(600), p, "account"),
    "rtc_priv": lambda g, p: fam_rtc_priv(g, n_of(250), p),
    "rtc_rtm": lambda g, p: fam_rtc_rtm(g, n_of(250), p),
    "rtc_rtm2": lambda g, p: fam_rtc_rtm2(g, n_of(250), p),
    "rtm": lambda g, p: fam_user(g, n_of(1000), p, "rtm"),
    "rtm_stream": lambda g, p: fam_go_rtm_stream(g, n_of(400)),
    "chat_user": lambda g, p: fam_user(g, n_of(1100), p, "chat"),
    "chat_app": lambda g, p: fam_no_input(g, n_of(500), p, "chat_app"),
    "apaas_room_user": lambda g, p: fam_apaas(g, n_of(800), p, "room_user"),
    "apaas_user": lambda g, p: fam_apaas(g, n_of(700), p, "user"),
    "apaas_app": lambda g, p: fam_no_input(g, n_of(400), p, "apaas_app"),
    "fpa": lambda g, p: fam_no_input(g, n_of(1000), p, "fpa"),
    "fpa_raw": lambda g, p: fam_raw(g, n_of(900), p, GO_TYPES, first=4, fam="fpa_raw", duplicates=False),
    "raw": lambda g, p: fam_raw(g, n_of(1000), p, GO_TYPES, duplicates=False),
    "duplicates": lambda g, p: fam_go_dup(g, n_of(150)),
    # GoTB knows no other type: its parser must panic on mintlane's tokens and its raw builder refuse (D5)
    "unknown_types_rtm2": lambda g, p: fam_rtm2(g, n_of(150), p),
    "unknown_types_convoai": lambda g, p: fam_rtc_rtm2(g, n_of(150), p, agent=9),
    "unknown_types_stt": lambda g, p: fam_rtc_rtm2(g, n_of(150), p, agent=10),
    "unknown_types_streaming": lambda g, p: fam_raw(g, n_of(150), p, NODE_TYPES, first=3, fam="unknown_types_streaming"),
    "unknown_types_fcdn": lambda g, p: fam_raw(g, n_of(150), p, NODE_TYPES, first=6, fam="unknown_types_fcdn"),
    "unknown_types_raw": lambda g, p: fam_raw(g, n_of(200), p, NODE_TYPES, fam="unknown_types_raw"),
}


# ============================================================== running and checking (007)


def wrong_case(cert: str) -> str:
    s = cert.swapcase()
    return s if s != cert else cert[:-1] + ("0" if cert[-1] != "0" else "1")


def check_header(r: Dict[str, Any], c: Case) -> List[str]:
    bad = []
    for k, v in (("app_id", c.app_id), ("issue_ts", c.ts), ("expire", c.expire), ("salt", c.salt)):
        if r.get(k) != v:
            bad.append(f"{k} {r.get(k)!r} != {v!r}")
    return bad


def check_ml_decoded(d, c: Case, specs) -> List[str]:
    bad = []
    for k, v in (("app_id", c.app_id), ("issue_ts", c.ts), ("expire", c.expire), ("salt", c.salt)):
        if getattr(d, k) != v:
            bad.append(f"mintlane decode {k} {getattr(d, k)!r} != {v!r}")
    got = [ml_json(s) for s in d.services]
    if got != wire(specs):
        bad.append(f"mintlane decode services {short(got)} != {short(wire(specs))}")
    if d.services_declared != len(specs) or d.unknown_service_type is not None or d.trailing_bytes:
        bad.append(f"mintlane decode count {d.services_declared}/{d.unknown_service_type}/{d.trailing_bytes}")
    return bad


@dataclass
class RunResult:
    failures: Dict[str, List[str]] = field(default_factory=lambda: collections.defaultdict(list))
    cases: Dict[str, int] = field(default_factory=collections.Counter)
    seconds: float = 0.0


@dataclass
class Prepared:
    peer_name: str
    cases: List[Case]
    reqs: List[Dict[str, Any]]
    plan: List[Tuple[Case, str]]
    seconds: float


def prepare_007(peer_name: str, families: Dict[str, Callable[[Gen, str], List[Unit]]]) -> Prepared:
    """Generates the cases, mints mintlane's tokens and builds the peer's requests."""
    t0 = time.time()
    all_cases: List[Case] = []
    for fam, mk in families.items():
        units = mk(Gen(seed_of(peer_name, fam), CREDS), peer_name)
        for u in units:
            for c in u.cases:
                c.fam = fam
        all_cases += mint_units(units, peer_name)
    reqs: List[Dict[str, Any]] = []
    plan: List[Tuple[Case, str]] = []
    for i, c in enumerate(all_cases):
        if c.token is None:
            continue
        reqs.append({"op": "parse", "token": c.token, "certificate": c.cert})
        plan.append((c, "parse"))
        if i % 20 == 0:
            reqs.append({"op": "parse", "token": c.token, "certificate": wrong_case(c.cert)})
            plan.append((c, "parse-wrong-cert"))
        if c.peer_req is not None:
            reqs.append(dict(c.peer_req, op="mint", app_id=c.app_id, certificate=c.cert, salt=c.salt, issue_ts=c.ts))
            plan.append((c, "mint"))
            PATHS[(peer_name + " builders", c.peer_req["builder"])] += 1
    return Prepared(peer_name, all_cases, reqs, plan, time.time() - t0)


class Sender(threading.Thread):
    """Runs one peer's request_many in the background, so that both peers (separate processes)
    work in parallel with each other and with mintlane's side."""

    def __init__(self, peer, reqs):
        super().__init__(daemon=True)
        self.peer, self.reqs = peer, reqs
        self.resps: Optional[List[Dict[str, Any]]] = None
        self.error: Optional[BaseException] = None
        self.seconds = 0.0
        self.start()

    def run(self):
        t0 = time.time()
        try:
            self.resps = self.peer.request_many(self.reqs, timeout=300)
        except BaseException as e:  # re-raised in the main thread
            self.error = e
        self.seconds = time.time() - t0

    def result(self) -> List[Dict[str, Any]]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.resps is not None
        return self.resps


def check_007(prep: Prepared, resps: List[Dict[str, Any]]) -> RunResult:
    t0 = time.time()
    res = RunResult()
    peer_name, all_cases, plan = prep.peer_name, prep.cases, prep.plan
    assert len(resps) == len(plan)
    kern = Kernels()
    cmb = combos()
    ml_payloads: Dict[int, bytes] = {}
    try:
        for c in all_cases:
            if c.mint_error is not None:
                res.failures[c.fam].append(f"mintlane refused a valid input via {c.path}: {c.mint_error}; specs={short(c.specs)}")
        for j, ((c, what), r) in enumerate(zip(plan, resps)):
            if j % 64 == 0:  # mintlane's decode/verify rotate over the dispatch paths too
                kern.set(cmb[(j // 64) % len(cmb)][1])
            res.cases[c.fam] += what == "parse"
            label = f"[{peer_name} {c.fam} salt={c.salt} ts={c.ts} e={c.expire} via {c.path}]"
            if id(c) not in ml_payloads:
                d, payload = ml_payload(c.token)
                ml_payloads[id(c)] = payload
                bad = check_ml_decoded(d, c, c.specs)
                if inflate_token(c.token) != payload:
                    bad.append("mintlane token does not inflate (vanilla zlib) to its decoded payload")
                if c.comp == "exact" and VANILLA_ZLIB and c.token != "007" + base64.b64encode(zlib.compress(payload)).decode():
                    bad.append("compression 'exact' is not the reference (vanilla zlib level 6) string")
                if bad:
                    res.failures[c.fam].append(f"{label} {bad} specs={short(c.specs)}")
            payload = ml_payloads[id(c)]
            wire_types = [s["type"] for s in wire(c.specs)]
            if what in ("parse", "parse-wrong-cert"):
                unknown = [t for t in wire_types if peer_name == "go" and t not in GO_TYPES]
                if unknown:  # D5: GoTB panics on the first type it does not know
                    want = f"panic: new service failed: unknown service type `{unknown[0]}`"
                    if r.get("ok") or r.get("error") != want:
                        res.failures[c.fam].append(f"{label} expected GoTB panic {want!r}, got {short(r)}")
                    elif what == "parse":
                        for t in set(unknown):
                            COUNTS[(peer_name, "mintlane->peer (asserted panic D5)", t)] += 1
                    continue
                if not r.get("ok"):
                    res.failures[c.fam].append(f"{label} {what} failed: {short(r)} token={c.token} specs={short(c.specs)}")
                    continue
                bad = check_header(r, c)
                exp = wire(c.specs)
                exp = gotb_view(exp) if peer_name == "go" else node_view(exp)
                if r["services"] != exp:
                    bad.append(f"services {short(r['services'])} != {short(exp)}")
                if r.get("service_count") != len(c.specs):
                    bad.append(f"service_count {r.get('service_count')} != {len(c.specs)}")
                if r["payload_hex"] != payload.hex():
                    bad.append("payload differs from mintlane's decoded payload")
                if r["signature_valid"] is not (what == "parse"):
                    bad.append(f"signature_valid {r['signature_valid']} ({what})")
                if bad:
                    res.failures[c.fam].append(f"{label} {what}: {bad} token={c.token} specs={short(c.specs)}")
                elif what == "parse":
                    for t in set(wire_types):
                        COUNTS[(peer_name, "mintlane->peer", t)] += 1
                    if peer_name == "go" and len(exp) != len(c.specs):
                        COUNTS[(peer_name, "deviation", "go D3 one service per type (parse)")] += 1
                    if peer_name == "node" and any(s["type"] == 7 and s["role"] < 0 for s in wire(c.specs)):
                        COUNTS[(peer_name, "deviation", "node D7 parser reads APaaS role unsigned")] += 1
                continue
            # ---- the peer mints the same inputs with the same salt and issue_ts
            if c.peer_error is not None:
                if r.get("ok") or c.peer_error not in r.get("error", ""):
                    res.failures[c.fam].append(f"{label} peer mint should fail with {c.peer_error!r}: {short(r)}")
                else:
                    COUNTS[(peer_name, "deviation", "go D5 raw builder has no type 3/6/8/9/10 (not-applicable)")] += 1
                continue
            if not r.get("ok"):
                res.failures[c.fam].append(f"{label} peer mint failed: {short(r)} req={short(c.peer_req)}")
                continue
            tok = r["token"]
            pspecs = c.peer_specs if c.peer_specs is not None else c.specs
            bad = []
            try:
                d, ppayload = ml_payload(tok)
            except Exception as e:
                res.failures[c.fam].append(f"{label} mintlane cannot decode the peer's token {tok}: {e!r}")
                continue
            bad += check_ml_decoded(d, c, pspecs)
            if ppayload.hex() != r["payload_hex"] or inflate_token(tok) != ppayload:
                bad.append("peer payload_hex != mintlane's decode of the peer token")
            v = mintlane.verify(tok, c.cert, now=c.ts, **c.verify_kw)
            if not v.ok:
                bad.append(f"mintlane.verify: {v.status} {v.reason}")
            vw = mintlane.verify(tok, wrong_case(c.cert), now=c.ts)
            if vw.ok or vw.status != "bad_signature":
                bad.append(f"mintlane.verify with a wrong certificate: {vw}")
            if c.peer_specs is None:
                if r["payload_hex"] != payload.hex():
                    bad.append(f"payload differs from mintlane's: peer {r['payload_hex']} mintlane {payload.hex()}")
            else:
                # known deviation: the peer's payload must be exactly the deviating one, and differ from mintlane's
                dev = _core.encode_007(c.app_id, c.cert, [to_ml(s) for s in c.peer_specs], issue_ts=c.ts,
                                       expire=c.expire, salt=c.salt, compression="exact")
                if r["payload_hex"] != inflate_token(dev).hex():
                    bad.append(f"deviation {c.deviation}: peer payload is not the predicted one")
                if r["payload_hex"] == payload.hex():
                    bad.append(f"deviation {c.deviation}: peer payload unexpectedly equals mintlane's (deviation fixed?)")
            if bad:
                res.failures[c.fam].append(f"{label} peer->mintlane: {bad} req={short(c.peer_req)} token={tok}")
            else:
                for t in set(s["type"] for s in wire(pspecs)):
                    COUNTS[(peer_name, "peer->mintlane", t)] += 1
                if c.deviation:
                    COUNTS[(peer_name, "deviation", c.deviation)] += 1
    finally:
        kern.restore()
    res.seconds = time.time() - t0
    return res


def run_007(peer, peer_name: str, families: Dict[str, Callable[[Gen, str], List[Unit]]]) -> RunResult:
    prep = prepare_007(peer_name, families)
    return check_007(prep, peer.request_many(prep.reqs, timeout=300))


# ============================================================== fixtures


def _start(cls):
    try:
        peers.install_peers(go=cls is peers.GoPeer, node=cls is peers.NodePeer)
        return cls()
    except peers.PeerUnavailable as e:
        msg = f"{cls.__name__} unavailable: {e}"
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def go():
    p = _start(peers.GoPeer)
    yield p
    p.close()


@pytest.fixture(scope="module")
def node():
    p = _start(peers.NodePeer)
    yield p
    p.close()


@pytest.fixture(scope="module")
def pypi():
    try:
        import agora_token_builder  # noqa: F401
        mod = importlib.import_module("agora_token_builder.AccessToken")
        rtc = importlib.import_module("agora_token_builder.RtcTokenBuilder").RtcTokenBuilder
        rtm = importlib.import_module("agora_token_builder.RtmTokenBuilder").RtmTokenBuilder
    except ImportError as e:
        msg = (f"PyPI agora-token-builder is not installed in {sys.executable} ({e}): "
               "run `pip install agora-token-builder==1.0.0` (scripts/setup.sh --test does)")
        if REQUIRE:
            pytest.fail(msg)
        pytest.skip(msg)
    return types.SimpleNamespace(module=mod, Rtc=rtc, Rtm=rtm)


@pytest.fixture(scope="module")
def peer_runs(request):
    """Both peers' 007 runs, overlapped: node's requests are in flight while the Go cases are
    minted, and both peer processes work at the same time. A missing peer is recorded (and
    re-raised by its own fixture) without stopping the other one."""
    started: Dict[str, Any] = {}
    for name in ("node", "go"):
        try:
            started[name] = request.getfixturevalue(name)
        except (pytest.skip.Exception, pytest.fail.Exception) as e:
            started[name] = e
    out: Dict[str, Any] = {}
    senders: Dict[str, Tuple[Prepared, Sender]] = {}
    for name, fams in (("node", NODE_FAMILIES), ("go", GO_FAMILIES)):
        if isinstance(started[name], BaseException):
            out[name] = started[name]
            continue
        prep = prepare_007(name, fams)
        senders[name] = (prep, Sender(started[name], prep.reqs))
    for name, (prep, snd) in senders.items():
        out[name] = check_007(prep, snd.result())
        TIMINGS[name] = {"mintlane_prepare_s": round(prep.seconds, 2), "peer_requests": len(prep.reqs),
                         "peer_wall_s": round(snd.seconds, 2), "check_s": round(out[name].seconds, 2)}
    return out


def _peer_result(peer_runs, name: str) -> RunResult:
    r = peer_runs[name]
    if isinstance(r, BaseException):
        raise r
    return r


@pytest.fixture(scope="module")
def node_results(peer_runs):
    return _peer_result(peer_runs, "node")


@pytest.fixture(scope="module")
def go_results(peer_runs):
    return _peer_result(peer_runs, "go")


def _assert_family(res: RunResult, fam: str):
    assert res.cases[fam] > 0, f"family {fam} produced no cases"
    f = res.failures.get(fam, [])
    assert not f, f"{len(f)} failure(s) out of {res.cases[fam]} cases; first ones:\n" + "\n".join(f[:8])


# ============================================================== tests (007)


def test_peer_versions(go, node):
    gv, nv = go.version(), node.version()
    assert gv["ok"] and gv["version"] == "v1.3.0", gv
    assert nv["ok"] and nv["version"] == "2.0.6", nv


@pytest.mark.parametrize("fam", list(NODE_FAMILIES))
def test_node_007(node_results, fam):
    _assert_family(node_results, fam)


@pytest.mark.parametrize("fam", list(GO_FAMILIES))
def test_go_007(go_results, fam):
    _assert_family(go_results, fam)


# ============================================================== 006


@contextlib.contextmanager
def pinned_006(module, now: int, salt: int, style: str):
    """Pins the clock and the salt source of a 006 AccessToken module for one builder call.
    style "pypi": secrets.SystemRandom().randint(1, 99999999); "compat": secrets.randbelow(99999999) + 1."""
    assert 1 <= salt <= 99999999
    saved = module.time, module.secrets

    def randint(a, b):
        assert (a, b) == (1, 99999999), (a, b)
        return salt

    def randbelow(n):
        assert n == 99999999, n
        return salt - 1

    module.time = types.SimpleNamespace(time=lambda: now + 0.5)
    if style == "pypi":
        module.secrets = types.SimpleNamespace(SystemRandom=lambda: types.SimpleNamespace(randint=randint))
    else:
        module.secrets = types.SimpleNamespace(randbelow=randbelow)
    try:
        yield
    finally:
        module.time, module.secrets = saved


COMPAT_006 = importlib.import_module("mintlane.compat.agora_token_builder.AccessToken")
from mintlane.compat.agora_token_builder import RtcTokenBuilder as CompatRtc006, RtmTokenBuilder as CompatRtm006  # noqa: E402


@dataclass
class Case006:
    kind: str          # "uid", "account", "rtm"
    app_id: str
    cert: str
    salt: int
    now: int
    channel: str       # the channel slot (the account for RTM)
    user: Any          # uid (int) or account (str); "" for RTM
    role: int
    pts: int           # absolute privilege expiry
    ml_token: Optional[str] = None
    ml_path: str = ""

    @property
    def privileges(self) -> List[List[int]]:
        if self.kind == "rtm":
            return [[1000, self.pts]]
        if self.role in (0, 1, 101):
            return [[1, self.pts], [2, self.pts], [3, self.pts], [4, self.pts]]
        return [[1, self.pts]]

    def verify_kw(self) -> Dict[str, Any]:
        if self.kind == "rtm":
            return {"channel": self.channel}
        if self.kind == "uid":
            return {"channel": self.channel, "uid": self.user}
        return {"channel": self.channel, "account": self.user}


def gen_006(g: Gen, n: int, salt_range: Tuple[int, int]) -> List[Case006]:
    out = []
    for i in range(n):
        kind = g.r.choice(["uid", "uid", "account", "account", "rtm"])
        app, cert = g.cred()
        now = g.r.randint(1_400_000_000, 2_300_000_000) if g.coin(0.95) else g.r.choice([0, 1, U32 - 86400])
        e = g.expire()
        pts = now + e if g.coin(0.9) else g.r.choice([0, 1, now, max(now - 1, 0), U32])
        role = g.r.choice([1, 2, 1, 2, 0, 101]) if kind != "rtm" else 1
        if kind == "uid":
            ch, user = g.channel(), g.uid()
        elif kind == "account":
            ch, user = g.channel(), g.account(255)
        else:
            ch, user = g.account(64 if g.coin(0.8) else 255), ""
        out.append(Case006(kind, app, cert, g.salt_in(*salt_range), now, ch, user, role, pts))
    return out


def mint_006_mintlane(cases: List[Case006], peer_name: str) -> None:
    """mintlane's 006 builders: Minter.rtc_006/rtm_006 where the input is inside the modern rules,
    the PyPI-compatible module (pinned clock and salt) otherwise; rotating dispatch paths."""
    kern, cmb, pool = Kernels(), combos(), MinterPool()
    try:
        for j, c in enumerate(cases):
            comp, ks = cmb[j % len(cmb)]
            kern.set(ks)
            modern_ok = (c.role in (1, 2) and 1 <= c.pts - c.now <= 86400 and
                         (c.kind != "account" or all(ch in AGORA_CHARS for ch in c.user)) and
                         (c.kind != "rtm" or (len(c.channel.encode()) <= 64 and all(ch in AGORA_CHARS for ch in c.channel))))
            use_compat = not modern_ok or (1 <= c.salt <= 99999999 and j % 3 == 0)
            if use_compat and 1 <= c.salt <= 99999999:
                with pinned_006(COMPAT_006, c.now, c.salt, "compat"):
                    if c.kind == "uid":
                        c.ml_token = CompatRtc006.buildTokenWithUid(c.app_id, c.cert, c.channel, c.user, c.role, c.pts)
                    elif c.kind == "account":
                        c.ml_token = CompatRtc006.buildTokenWithAccount(c.app_id, c.cert, c.channel, c.user, c.role, c.pts)
                    else:
                        c.ml_token = CompatRtm006.buildToken(c.app_id, c.cert, c.channel, 1, c.pts)
                c.ml_path = "compat.agora_token_builder"
            elif use_compat:  # salt outside PyPI's range: the engine's 006 encoder directly
                c.ml_token = _core.encode_006(c.app_id, c.cert, c.channel, uid_str(c.user), [tuple(p) for p in c.privileges],
                                              ts=c.now + 86400, salt=c.salt)
                c.ml_path = "_core.encode_006"
            else:
                m = pool.get(c.app_id, c.cert, comp, 1)
                if c.kind == "rtm":
                    c.ml_token = m.rtm_006(c.channel, expire=c.pts - c.now, salt=c.salt, now=c.now)
                elif c.kind == "uid":
                    c.ml_token = m.rtc_006(c.channel, c.user, role=c.role, expire=c.pts - c.now, salt=c.salt, now=c.now)
                else:
                    c.ml_token = m.rtc_006(c.channel, account=c.user, role=c.role, expire=c.pts - c.now, salt=c.salt, now=c.now)
                c.ml_path = f"Minter.{'rtm' if c.kind == 'rtm' else 'rtc'}_006"
            PATHS[(peer_name + "-006", c.ml_path)] += 1
    finally:
        kern.restore()


def check_006_in_mintlane(tok: str, c: Case006) -> List[str]:
    bad = []
    d = mintlane.decode(tok)
    if (d.version, d.app_id, d.salt, d.ts) != ("006", c.app_id, c.salt, c.now + 86400):
        bad.append(f"decode header {(d.version, d.app_id, d.salt, d.ts)}")
    if sorted(d.privileges.items()) != [tuple(p) for p in c.privileges]:
        bad.append(f"decode privileges {d.privileges} != {c.privileges}")
    if d.crc_channel != zlib.crc32(c.channel.encode()) or d.crc_uid != zlib.crc32(uid_str(c.user).encode()):
        bad.append("decode CRCs")
    v = mintlane.verify(tok, c.cert, now=c.now, **c.verify_kw())
    if not v.ok and not (v.status in ("expired", "privilege_expired") and c.pts < c.now):
        bad.append(f"verify {v.status}: {v.reason}")
    vw = mintlane.verify(tok, wrong_case(c.cert), now=c.now, **c.verify_kw())
    if vw.ok:
        bad.append("verify accepted a wrong certificate")
    return bad


def test_node_006(node):
    """npm agora-token 006 builders/parser vs mintlane's 006, both directions; strings must be equal."""
    cases = gen_006(Gen(seed_of("node", "006"), CREDS), n_of(2000), (0, U32 - 1))  # npm 006 salt range (D17)
    for c in cases:
        c.now = min(c.now, U32 - 86400)
    mint_006_mintlane(cases, "node")
    reqs = []
    for c in cases:
        if c.kind == "rtm":
            b, a = "legacy_rtm.build_token", {"user_account": c.channel, "role": 1}
        elif c.kind == "uid":
            b, a = "legacy_rtc.build_token_with_uid", {"channel_name": c.channel, "uid": c.user, "role": c.role}
        else:
            b, a = "legacy_rtc.build_token_with_account", {"channel_name": c.channel, "user_account": c.user, "role": c.role}
        a["privilege_expired_ts"] = c.pts
        reqs.append({"op": "mint_006", "builder": b, "app_id": c.app_id, "certificate": c.cert, "args": a,
                     "salt": c.salt, "issue_ts": c.now})
        reqs.append({"op": "parse_006", "token": c.ml_token, "certificate": c.cert, "channel_name": c.channel,
                     "uid": c.user if c.kind != "rtm" else ""})
    resps = node.request_many(reqs, timeout=120)
    failures = []
    for i, c in enumerate(cases):
        rm, rp = resps[2 * i], resps[2 * i + 1]
        label = f"[node 006 {c.kind} via {c.ml_path} salt={c.salt} now={c.now} role={c.role} ch={c.channel!r} user={c.user!r}]"
        if not rm.get("ok"):
            failures.append(f"{label} node mint_006 failed: {rm}")
        else:
            if rm["token"] != c.ml_token:
                failures.append(f"{label} strings differ: node {rm['token']} mintlane {c.ml_token}")
            bad = check_006_in_mintlane(rm["token"], c)
            if bad:
                failures.append(f"{label} node token in mintlane: {bad}")
            else:
                COUNTS[("node", "peer->mintlane", "006")] += 1
        if not rp.get("ok"):
            failures.append(f"{label} node parse_006 failed: {rp}")
            continue
        bad = []
        if (rp["app_id"], rp["salt"], rp["ts"]) != (c.app_id, c.salt, c.now + 86400):
            bad.append(f"header {(rp['app_id'], rp['salt'], rp['ts'])}")
        if rp["privileges"] != c.privileges:
            bad.append(f"privileges {rp['privileges']}")
        if not (rp["signature_valid"] and rp["crc_channel_name_matches"] and rp["crc_uid_matches"]):
            bad.append(f"signature/CRC {rp['signature_valid']} {rp['crc_channel_name_matches']} {rp['crc_uid_matches']}")
        if bad:
            failures.append(f"{label} node parse of mintlane's token: {bad} token={c.ml_token}")
        else:
            COUNTS[("node", "mintlane->peer", "006")] += 1
    assert not failures, f"{len(failures)} failure(s) of {len(cases)}:\n" + "\n".join(failures[:8])


def test_pypi_006(pypi):
    """PyPI agora-token-builder 1.0.0 (006) vs mintlane: equal strings for the same salt and clock;
    its tokens decode and verify in mintlane."""
    cases = gen_006(Gen(seed_of("pypi", "006"), CREDS), n_of(3000), (1, 99999999))  # PyPI salt range
    mint_006_mintlane(cases, "pypi")
    failures = []
    for c in cases:
        label = f"[pypi 006 {c.kind} via {c.ml_path} salt={c.salt} now={c.now} role={c.role} ch={c.channel!r} user={c.user!r}]"
        with pinned_006(pypi.module, c.now, c.salt, "pypi"):
            if c.kind == "uid":
                tok = pypi.Rtc.buildTokenWithUid(c.app_id, c.cert, c.channel, c.user, c.role, c.pts)
            elif c.kind == "account":
                tok = pypi.Rtc.buildTokenWithAccount(c.app_id, c.cert, c.channel, c.user, c.role, c.pts)
            else:
                tok = pypi.Rtm.buildToken(c.app_id, c.cert, c.channel, 1, c.pts)
        if tok != c.ml_token:
            failures.append(f"{label} strings differ: pypi {tok} mintlane {c.ml_token}")
        else:
            COUNTS[("pypi", "mintlane == peer string", "006")] += 1
        bad = check_006_in_mintlane(tok, c)
        if bad:
            failures.append(f"{label} pypi token in mintlane: {bad}")
        else:
            COUNTS[("pypi", "peer->mintlane", "006")] += 1
        # and the package's own parser reads mintlane's token
        at = pypi.module.AccessToken()
        if not at.fromString(c.ml_token) or (at.salt, at.ts, sorted(at.messages.items())) != (
                c.salt, c.now + 86400, [tuple(p) for p in c.privileges]):
            failures.append(f"{label} pypi fromString of mintlane's token: {(at.salt, at.ts, at.messages)}")
        else:
            COUNTS[("pypi", "mintlane->peer", "006")] += 1
    assert not failures, f"{len(failures)} failure(s) of {len(cases)}:\n" + "\n".join(failures[:8])


# ============================================================== coverage summary


def _summary() -> Dict[str, Any]:
    table: Dict[str, Dict[str, Dict[str, int]]] = {}
    for (p, d, t), n in sorted(COUNTS.items(), key=lambda x: (x[0][0], x[0][1], str(x[0][2]))):
        table.setdefault(p, {}).setdefault(d, {})[str(t)] = n
    paths: Dict[str, Dict[str, int]] = {}
    for (p, k), n in sorted(PATHS.items()):
        paths.setdefault(p, {})[k] = n
    return {"scale": SCALE, "counts": table, "mintlane_paths": paths, "timings": TIMINGS}


def test_case_counts(node_results, go_results):
    """Thousands of cases per service type, peer and direction; every dispatch path used."""
    # make sure the 006 tests ran too when the whole module runs
    summary = _summary()
    SUMMARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY_PATH.write_text(json.dumps(summary, indent=1) + "\n")
    print("\ninterop summary:", json.dumps(summary["counts"], indent=1))
    if SCALE < 1:
        return
    short_of = []
    for peer_name, types_ in (("node", NODE_TYPES), ("go", GO_TYPES)):
        for d in ("mintlane->peer", "peer->mintlane"):
            for t in types_:
                if COUNTS[(peer_name, d, t)] < TARGET:
                    short_of.append((peer_name, d, t, COUNTS[(peer_name, d, t)]))
    for t in (3, 6, 8, 9, 10):
        if COUNTS[("go", "mintlane->peer (asserted panic D5)", t)] < 100:
            short_of.append(("go", "panic", t, COUNTS[("go", "mintlane->peer (asserted panic D5)", t)]))
    assert not short_of, short_of
    for k in KINDS:
        for name in _core._supported_kernels(k):
            for p in ("node", "go"):
                assert PATHS[(p, f"{k}={name}")] > 0, (p, k, name)
    for comp in COMPRESSIONS:
        assert PATHS[("node", f"compression={comp}")] > 0 and PATHS[("go", f"compression={comp}")] > 0
