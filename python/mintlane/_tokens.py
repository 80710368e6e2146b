"""decode() and verify(): every field of a 006 or 007 token, and why a token fails."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from mintlane import _core


@dataclass(frozen=True)
class DecodedToken:
    """All fields of a token. 007: services, relative expire; 006: absolute ts and privileges."""

    version: str
    app_id: str
    salt: int
    signature: bytes
    issue_ts: Optional[int] = None          # 007
    expire: Optional[int] = None            # 007, seconds after issue_ts
    services: List[_core.Service] = field(default_factory=list)  # 007, in wire order
    services_declared: Optional[int] = None  # 007: the count in the header
    unknown_service_type: Optional[int] = None  # 007: parsing stopped at this type
    trailing_bytes: int = 0                 # 007: signed bytes after the last service
    signing_info: bytes = b""               # 007: the raw signed bytes
    ts: Optional[int] = None                # 006: absolute token expiry
    privileges: Dict[int, int] = field(default_factory=dict)  # 006: absolute timestamps
    crc_channel: Optional[int] = None       # 006
    crc_uid: Optional[int] = None           # 006

    @property
    def expires_at(self) -> int:
        """Unix time at which the token expires."""
        if self.version == "006":
            return int(self.ts or 0)
        return int(self.issue_ts or 0) + int(self.expire or 0)

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"version": self.version, "app_id": self.app_id, "salt": self.salt,
                             "signature": self.signature.hex(), "expires_at": self.expires_at}
        if self.version == "007":
            d.update(issue_ts=self.issue_ts, expire=self.expire, services=[s.to_dict() for s in self.services],
                     services_declared=self.services_declared, unknown_service_type=self.unknown_service_type,
                     trailing_bytes=self.trailing_bytes)
        else:
            d.update(ts=self.ts, privileges={str(k): v for k, v in self.privileges.items()},
                     crc_channel=self.crc_channel, crc_uid=self.crc_uid)
        return d


def decode(token: str) -> DecodedToken:
    """Decodes a "007" or "006" token without checking its signature.

    Raises :class:`mintlane.DecodeError` (a ValueError) saying where and why a malformed
    token fails; ``TypeError`` for a non-str argument.
    """
    if not isinstance(token, str):
        raise TypeError(f"token: expected str, got {type(token).__name__}")
    if token.startswith("006"):
        d = _core._decode_006(token)
        return DecodedToken(version="006", app_id=d["app_id"], salt=d["salt"], signature=d["signature"],
                            ts=d["ts"], privileges=dict(d["privileges"]), crc_channel=d["crc_channel"],
                            crc_uid=d["crc_uid"])
    d = _core._decode_007(token)
    return DecodedToken(version="007", app_id=d["app_id"], salt=d["salt"], signature=d["signature"],
                        issue_ts=d["issue_ts"], expire=d["expire"], services=list(d["services"]),
                        services_declared=d["services_declared"], unknown_service_type=d["unknown_service_type"],
                        trailing_bytes=d["trailing_bytes"], signing_info=d["signing_info"])


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` plus a machine-readable ``status`` and a human ``reason`` (never the certificate)."""

    ok: bool
    status: str
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def verify(token: str, app_certificate: str, *, now: Optional[int] = None, channel: Optional[str] = None,
           uid: Optional[int] = None, account: Optional[str] = None,
           privilege: Optional[str] = None) -> VerifyResult:
    """Checks a token's signature (constant time, over the raw signed bytes) and, when given,
    its expiry at ``now``, its channel (a token channel ending in ``*`` matches by prefix), uid or
    account ("" in the token matches any), and a privilege (``"join_channel"``,
    ``"publish_audio"``, ``"rtm.login"``, ...).

    Statuses: ok, malformed, bad_certificate, bad_app_id, bad_signature, expired,
    privilege_expired, wrong_channel, wrong_uid, wrong_account, missing_privilege.
    """
    if not isinstance(token, str):
        raise TypeError(f"token: expected str, got {type(token).__name__}")
    ok, status, reason = _core._verify(token, app_certificate, now=now, channel=channel, uid=uid,
                                       account=account, privilege=privilege)
    return VerifyResult(ok, status, reason)
