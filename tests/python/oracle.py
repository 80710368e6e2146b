"""An independent pure-Python AccessToken2/006 packer and signer written from TOKEN_FORMAT.md,
used as the test oracle for the engine (stdlib only: struct, hmac, hashlib, zlib, base64)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import zlib
from typing import Iterable, List, Sequence, Tuple

FIELDS = {1: 2, 2: 1, 3: 2, 4: 0, 5: 1, 6: 2, 7: 2, 8: 1, 9: 0, 10: 0}


def pstr(b) -> bytes:
    if isinstance(b, str):
        b = b.encode("utf-8")
    return struct.pack("<H", len(b)) + b


def pack_service(stype: int, privileges: dict, fields: Sequence[str] = (), role: int = -1,
                 permissions: Iterable[Tuple[int, int, Sequence[str]]] = ()) -> bytes:
    out = struct.pack("<HH", stype, len(privileges))
    for k in sorted(privileges):
        out += struct.pack("<HI", k, privileges[k])
    for f in fields:
        out += pstr(f)
    if stype == 7:
        out += struct.pack("<h", role)
    if stype == 8:
        groups: dict = {}
        for rt, pt, res in permissions:
            groups.setdefault(rt, {})[pt] = list(res)
        out += struct.pack("<H", len(groups))
        for rt in sorted(groups):
            out += struct.pack("<HH", rt, len(groups[rt]))
            for pt in sorted(groups[rt]):
                out += struct.pack("<HH", pt, len(groups[rt][pt]))
                for r in groups[rt][pt]:
                    out += pstr(r)
    return out


def signing_info(app_id: str, issue_ts: int, expire: int, salt: int, services: List[Tuple[int, bytes]]) -> bytes:
    ordered = sorted(services, key=lambda s: s[0])  # stable
    return pstr(app_id) + struct.pack("<IIIH", issue_ts, expire, salt, len(ordered)) + b"".join(b for _, b in ordered)


def sign(cert: str, issue_ts: int, salt: int, info: bytes) -> bytes:
    k1 = hmac.new(struct.pack("<I", issue_ts), cert.encode("ascii"), hashlib.sha256).digest()
    k2 = hmac.new(struct.pack("<I", salt), k1, hashlib.sha256).digest()
    return hmac.new(k2, info, hashlib.sha256).digest()


def payload(app_id: str, cert: str, issue_ts: int, expire: int, salt: int, services) -> bytes:
    info = signing_info(app_id, issue_ts, expire, salt, services)
    return pstr(sign(cert, issue_ts, salt, info)) + info


def token_payload(token: str) -> bytes:
    """Inflates a 007 token with the standard library (the independent decoder)."""
    assert token.startswith("007"), token[:8]
    return zlib.decompress(base64.b64decode(token[3:], validate=True))


def uid_str(uid: int) -> str:
    return "" if uid == 0 else str(uid)


def token_006(app_id: str, cert: str, channel: str, uid: str, salt: int, ts: int, privileges: dict) -> str:
    m = struct.pack("<IIH", salt, ts, len(privileges))
    for k in sorted(privileges):
        m += struct.pack("<HI", k, privileges[k])
    sig = hmac.new(cert.encode(), app_id.encode() + channel.encode() + uid.encode() + m, hashlib.sha256).digest()
    content = pstr(sig) + struct.pack("<II", zlib.crc32(channel.encode()), zlib.crc32(uid.encode())) + pstr(m)
    return "006" + app_id + base64.b64encode(content).decode()
