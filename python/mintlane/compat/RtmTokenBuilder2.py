"""Drop-in for the python3 reference ``RtmTokenBuilder2`` (007)."""
from __future__ import annotations

from mintlane.compat.AccessToken2 import AccessToken, Permissions, ServiceRtm, ServiceRtm2


class RtmTokenBuilder:
    @staticmethod
    def build_token(app_id, app_certificate, user_id, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        rtm = ServiceRtm(user_id)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, expire)
        token.add_service(rtm)
        return token.build()

    @staticmethod
    def build_token_with_permissions(app_id, app_certificate, user_id, permissions, expire=0):
        token = AccessToken(app_id, app_certificate, expire=expire)
        rtm2 = ServiceRtm2(user_id, permissions if isinstance(permissions, Permissions) else _as_permissions(permissions))
        rtm2.add_privilege(ServiceRtm2.kPrivilegeLogin, expire)
        token.add_service(rtm2)
        return token.build()


def _as_permissions(entries) -> Permissions:
    p = Permissions()
    for rt, pt, res in entries or ():
        p.add(rt, pt, res)
    return p
