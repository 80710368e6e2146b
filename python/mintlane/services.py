"""Service records for the general builder ``Minter.token([...])`` (TOKEN_FORMAT.md §2.4).

    >>> from mintlane import services as sv
    >>> m.token([sv.rtc("lobby", uid=42, join_channel=3600), sv.rtm("alice", login=3600)], expire=3600)
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence, Tuple

from mintlane._core import Service

RTC, RTM, STREAMING, FPA, CHAT, FCDN, APAAS, RTM2, CONVOAI, STT = range(1, 11)

# RTM2 permission block names (§2.5)
MESSAGE_CHANNELS, STREAM_CHANNELS, GROUP_CHANNELS, SERVER_GROUPS, USERS = range(5)
READ, WRITE = 0, 1


def _uid(uid: Optional[int], account: Optional[str]) -> str:
    if account is not None:
        if uid is not None:
            raise TypeError("give uid= or account=, not both")
        return account
    if uid is None or uid == 0:
        return ""
    return str(uid)


def _privs(**named: Optional[int]) -> Dict[int, int]:
    ids = {"join_channel": 1, "publish_audio": 2, "publish_video": 3, "publish_data": 4}
    return {ids[k]: v for k, v in named.items() if v is not None}


def rtc(channel: str, uid: Optional[int] = None, *, account: Optional[str] = None,
        join_channel: Optional[int] = None, publish_audio: Optional[int] = None,
        publish_video: Optional[int] = None, publish_data: Optional[int] = None) -> Service:
    """RTC service; privilege values are seconds after issue_ts (0 = no separate limit)."""
    return Service(RTC, channel, _uid(uid, account),
                   privileges=_privs(join_channel=join_channel, publish_audio=publish_audio,
                                     publish_video=publish_video, publish_data=publish_data))


def rtm(user_id: str, *, login: int = 0) -> Service:
    return Service(RTM, user_id, privileges={1: login})


def streaming(channel: str, account: str = "", *, publish_mix_stream: Optional[int] = None,
              publish_raw_stream: Optional[int] = None) -> Service:
    p = {k: v for k, v in ((1, publish_mix_stream), (2, publish_raw_stream)) if v is not None}
    return Service(STREAMING, channel, account, privileges=p)


def fpa(*, login: int = 0) -> Service:
    return Service(FPA, privileges={1: login})


def chat(user_id: str = "", *, user: Optional[int] = None, app: Optional[int] = None) -> Service:
    p = {k: v for k, v in ((1, user), (2, app)) if v is not None}
    return Service(CHAT, user_id, privileges=p)


def fcdn(channel: str, account: str = "", *, publish: Optional[int] = None, play: Optional[int] = None) -> Service:
    p = {k: v for k, v in ((1, publish), (2, play)) if v is not None}
    return Service(FCDN, channel, account, privileges=p)


def apaas(room_uuid: str = "", user_uuid: str = "", role: int = -1, *, room_user: Optional[int] = None,
          user: Optional[int] = None, app: Optional[int] = None) -> Service:
    p = {k: v for k, v in ((1, room_user), (2, user), (3, app)) if v is not None}
    return Service(APAAS, room_uuid, user_uuid, privileges=p, role=role)


def rtm2(user_id: str, *, login: int = 0,
         permissions: Iterable[Tuple[int, int, Sequence[str]]] = ()) -> Service:
    return Service(RTM2, user_id, privileges={1: login}, permissions=list(permissions))


def convoai() -> Service:
    return Service(CONVOAI)


def stt() -> Service:
    return Service(STT)
