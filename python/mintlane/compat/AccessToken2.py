"""Drop-in for the python3 reference ``AccessToken2`` module (low-level 007 API), on mintlane's engine.

Same class, method and constant names; the private attribute names match the reference too, so
tests that pin ``token._AccessToken__salt`` keep working.
"""
from __future__ import annotations

import secrets
import time
import warnings
from typing import Dict, List, Optional

from mintlane import _core
from mintlane.compat import get_compression

VERSION_LENGTH = 3


def get_version() -> str:
    return "007"


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


class Service:
    def __init__(self, service_type: int):
        self.__type = service_type
        self.__privileges: Dict[int, int] = {}

    def add_privilege(self, privilege: int, expire: int) -> None:
        self.__privileges[privilege] = expire

    def service_type(self) -> int:
        return self.__type

    @property
    def privileges(self) -> Dict[int, int]:
        return self.__privileges

    def _fields(self) -> List[str]:
        return []

    def _core_service(self) -> "_core.Service":
        return _core.Service(self.__type, *self._fields(), privileges=dict(self.__privileges))

    def _load(self, s: "_core.Service") -> None:
        self.__privileges = dict(s.privileges)

    def pack(self) -> bytes:
        """The wire bytes of this service record (TOKEN_FORMAT.md §2.3), packed by the engine."""
        info = _core._pack_signing_info("", 0, 0, 0, [self._core_service()])
        return info[16:]  # strip str("") + issue_ts + expire + salt + service count


class ServiceRtc(Service):
    kServiceType = 1
    kPrivilegeJoinChannel = 1
    kPrivilegePublishAudioStream = 2
    kPrivilegePublishVideoStream = 3
    kPrivilegePublishDataStream = 4

    def __init__(self, channel_name: str = "", uid=0):
        super().__init__(ServiceRtc.kServiceType)
        self.__channel_name = _text(channel_name)
        self.__uid = "" if uid == 0 else _text(uid)

    def _fields(self) -> List[str]:
        return [self.__channel_name, self.__uid]

    def _load(self, s):
        super()._load(s)
        self.__channel_name, self.__uid = s.channel_name, s.uid


class ServiceRtm(Service):
    kServiceType = 2
    kPrivilegeLogin = 1

    def __init__(self, user_id: str = ""):
        super().__init__(ServiceRtm.kServiceType)
        self.__user_id = _text(user_id)

    def _fields(self):
        return [self.__user_id]

    def _load(self, s):
        super()._load(s)
        self.__user_id = s.user_id


class ServiceStreaming(Service):
    kServiceType = 3
    kPrivilegePublishMixStream = 1
    kPrivilegePublishRawStream = 2

    def __init__(self, channel_name: str = "", account="") :
        super().__init__(ServiceStreaming.kServiceType)
        self.__channel_name = _text(channel_name)
        self.__account = "" if account == 0 else _text(account)

    def _fields(self):
        return [self.__channel_name, self.__account]

    def _load(self, s):
        super()._load(s)
        self.__channel_name, self.__account = s.channel_name, s.account


class ServiceFpa(Service):
    kServiceType = 4
    kPrivilegeLogin = 1

    def __init__(self):
        super().__init__(ServiceFpa.kServiceType)


class ServiceChat(Service):
    kServiceType = 5
    kPrivilegeUser = 1
    kPrivilegeApp = 2

    def __init__(self, user_id: str = ""):
        super().__init__(ServiceChat.kServiceType)
        self.__user_id = _text(user_id)

    def _fields(self):
        return [self.__user_id]

    def _load(self, s):
        super()._load(s)
        self.__user_id = s.user_id


class ServiceFCdn(Service):
    kServiceType = 6
    kPrivilegePublish = 1
    kPrivilegePlay = 2

    def __init__(self, channel_name: str = "", account=""):
        super().__init__(ServiceFCdn.kServiceType)
        self.__channel_name = _text(channel_name)
        self.__account = "" if account == 0 else _text(account)

    def _fields(self):
        return [self.__channel_name, self.__account]

    def _load(self, s):
        super()._load(s)
        self.__channel_name, self.__account = s.channel_name, s.account


class ServiceApaas(Service):
    kServiceType = 7
    kPrivilegeRoomUser = 1
    kPrivilegeUser = 2
    kPrivilegeApp = 3

    def __init__(self, room_uuid: str = "", user_uuid: str = "", role: int = -1):
        super().__init__(ServiceApaas.kServiceType)
        self.__room_uuid = _text(room_uuid)
        self.__user_uuid = _text(user_uuid)
        self.__role = role

    def _fields(self):
        return [self.__room_uuid, self.__user_uuid]

    def _core_service(self):
        return _core.Service(self.kServiceType, *self._fields(), privileges=dict(self.privileges), role=self.__role)

    def _load(self, s):
        super()._load(s)
        self.__room_uuid, self.__user_uuid, self.__role = s.room_uuid, s.user_uuid, s.role


class Permissions:
    """RTM2 permissions block (use only with Agora's help, as the reference says)."""

    kMessageChannels = 0
    kStreamChannels = 1
    kGroupChannels = 2
    kServerGroups = 3
    kUsers = 4
    kRead = 0
    kWrite = 1

    def __init__(self):
        self.entries: Dict[tuple, List[str]] = {}

    def add(self, resource_type: int, permission_type: int, resources) -> "Permissions":
        self.entries[(resource_type, permission_type)] = [_text(r) for r in resources]
        return self


class ServiceRtm2(Service):
    kServiceType = 8
    kPrivilegeLogin = 1

    def __init__(self, user_id: str = "", permissions: Optional[Permissions] = None):
        super().__init__(ServiceRtm2.kServiceType)
        self.__user_id = _text(user_id)
        self.__permissions = permissions or Permissions()

    def _fields(self):
        return [self.__user_id]

    def _core_service(self):
        perms = [(rt, pt, res) for (rt, pt), res in self.__permissions.entries.items()]
        return _core.Service(self.kServiceType, self.__user_id, privileges=dict(self.privileges), permissions=perms)

    def _load(self, s):
        super()._load(s)
        self.__user_id = s.user_id
        self.__permissions = Permissions()
        for rt, pt, res in s.permissions:
            self.__permissions.add(rt, pt, res)


_SERVICES = {c.kServiceType: c for c in (ServiceRtc, ServiceRtm, ServiceStreaming, ServiceFpa, ServiceChat,
                                         ServiceFCdn, ServiceApaas, ServiceRtm2)}


def _is_uuid(s) -> bool:
    return isinstance(s, str) and len(s) == 32 and all(c in "0123456789abcdefABCDEF" for c in s)


class AccessToken:
    kServices = _SERVICES

    def __init__(self, app_id: str = "", app_certificate: str = "", issue_ts: int = 0, expire: int = 900):
        self.__app_id = app_id
        self.__app_cert = app_certificate
        self.__issue_ts = issue_ts if issue_ts != 0 else int(time.time())
        self.__expire = expire
        self.__salt = secrets.randbelow(99999999) + 1
        self.__service: List[Service] = []

    def add_service(self, service: Service) -> None:
        self.__service.append(service)

    def get_services(self, service_type: Optional[int] = None) -> List[Service]:
        if service_type is None:
            return list(self.__service)
        return [s for s in self.__service if s.service_type() == service_type]

    def build(self) -> str:
        for name, value in (("app_id", self.__app_id), ("app_certificate", self.__app_cert)):
            if not _is_uuid(value):
                warnings.warn(f"AccessToken2.build: {name} is not 32 hex characters; returning '' like the reference",
                              RuntimeWarning, stacklevel=2)
                return ""
        if not self.__service:
            return ""
        return _core.encode_007(self.__app_id, self.__app_cert, [s._core_service() for s in self.__service],
                                issue_ts=self.__issue_ts, expire=self.__expire, salt=self.__salt,
                                compression=get_compression())

    def from_string(self, origin_token: str) -> bool:
        """Parses a token into this object. False for a wrong version prefix; raises ValueError
        (mintlane.DecodeError) for any other malformed input, as the python3 reference does."""
        if not isinstance(origin_token, str) or origin_token[:VERSION_LENGTH] != get_version():
            return False
        d = _core._decode_007(origin_token)
        self.__app_id = d["app_id"]
        self.__issue_ts = d["issue_ts"]
        self.__expire = d["expire"]
        self.__salt = d["salt"]
        self.__service = []
        for s in d["services"]:
            cls = _SERVICES.get(s.type)
            if cls is None:  # types 9/10 exist only in the npm builder; keep them as plain records
                svc = Service(s.type)
                svc._load(s)
            else:
                svc = cls.__new__(cls)
                cls.__init__(svc)
                svc._load(s)
            self.__service.append(svc)
        self.__signature = d["signature"]
        self.__signing_info = d["signing_info"]
        self.__token = origin_token
        return True

    def verify_signature(self, app_certificate: str) -> bool:
        token = getattr(self, "_AccessToken__token", None)
        if token is None:
            return False
        ok, _, _ = _core._verify(token, app_certificate)
        return bool(ok)
