"""Drop-in for the python3 reference ``ChatTokenBuilder2`` (007)."""
from __future__ import annotations

from mintlane.compat.AccessToken2 import AccessToken, ServiceChat


class ChatTokenBuilder:
    @staticmethod
    def build_user_token(app_id, app_certificate, user_id, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        chat = ServiceChat(user_id)
        chat.add_privilege(ServiceChat.kPrivilegeUser, expire)
        token.add_service(chat)
        return token.build()

    @staticmethod
    def build_app_token(app_id, app_certificate, expire):
        token = AccessToken(app_id, app_certificate, expire=expire)
        chat = ServiceChat()
        chat.add_privilege(ServiceChat.kPrivilegeApp, expire)
        token.add_service(chat)
        return token.build()
