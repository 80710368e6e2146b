"""The 006 ``AccessToken`` class of PyPI ``agora-token-builder``, on mintlane's engine."""
from __future__ import annotations

import secrets
import time
from typing import Dict

from mintlane import _core

kJoinChannel = 1
kPublishAudioStream = 2
kPublishVideoStream = 3
kPublishDataStream = 4
kRtmLogin = 1000

VERSION_LENGTH = 3
APP_ID_LENGTH = 32


def getVersion() -> str:
    return "006"


class AccessToken:
    def __init__(self, appID: str = "", appCertificate: str = "", channelName: str = "", uid=""):
        self.appID = appID
        self.appCertificate = appCertificate
        self.channelName = channelName
        self.ts = int(time.time()) + 24 * 3600
        self.salt = secrets.randbelow(99999999) + 1
        self.messages: Dict[int, int] = {}
        self.uidStr = "" if uid == 0 else str(uid)

    def addPrivilege(self, privilege: int, expireTimestamp: int) -> None:
        self.messages[privilege] = expireTimestamp

    def fromString(self, originToken: str) -> bool:
        try:
            d = _core._decode_006(originToken)
        except (ValueError, TypeError):
            return False
        self.appID = d["app_id"]
        self.salt, self.ts, self.messages = d["salt"], d["ts"], dict(d["privileges"])
        return True

    def build(self) -> str:
        return _core.encode_006(self.appID, self.appCertificate, self.channelName, self.uidStr,
                                sorted(self.messages.items()), ts=self.ts, salt=self.salt)
