"""Drop-in for the python3 reference ``apaas_token_builder`` / ``education_token_builder`` (007)."""
from __future__ import annotations

import hashlib

from mintlane.compat.AccessToken2 import AccessToken, ServiceApaas, ServiceChat, ServiceRtm


class ApaasTokenBuilder:
    @staticmethod
    def build_room_user_token(app_id, app_certificate, room_uuid, user_uuid, role, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        chat_user_id = hashlib.md5(user_uuid.encode("utf-8")).hexdigest()
        apaas = ServiceApaas(room_uuid, user_uuid, role)
        apaas.add_privilege(ServiceApaas.kPrivilegeRoomUser, expire)
        token.add_service(apaas)
        rtm = ServiceRtm(user_uuid)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, expire)
        token.add_service(rtm)
        chat = ServiceChat(chat_user_id)
        chat.add_privilege(ServiceChat.kPrivilegeUser, expire)
        token.add_service(chat)
        return token.build()

    @staticmethod
    def build_user_token(app_id, app_certificate, user_uuid, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        apaas = ServiceApaas(user_uuid=user_uuid)
        apaas.add_privilege(ServiceApaas.kPrivilegeUser, expire)
        token.add_service(apaas)
        return token.build()

    @staticmethod
    def build_app_token(app_id, app_certificate, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        apaas = ServiceApaas()
        apaas.add_privilege(ServiceApaas.kPrivilegeApp, expire)
        token.add_service(apaas)
        return token.build()


EducationTokenBuilder = ApaasTokenBuilder
