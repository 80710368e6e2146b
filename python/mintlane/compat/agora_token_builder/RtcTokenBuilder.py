"""``RtcTokenBuilder`` of PyPI ``agora-token-builder`` (006; privilegeExpiredTs is absolute)."""
from __future__ import annotations

from mintlane.compat.agora_token_builder.AccessToken import (AccessToken, kJoinChannel, kPublishAudioStream,
                                                              kPublishDataStream, kPublishVideoStream)

Role_Attendee = 0  # deprecated, same as publisher
Role_Publisher = 1
Role_Subscriber = 2
Role_Admin = 101  # deprecated, same as publisher


class RtcTokenBuilder:
    @staticmethod
    def buildTokenWithUid(appId, appCertificate, channelName, uid, role, privilegeExpiredTs):
        return RtcTokenBuilder.buildTokenWithAccount(appId, appCertificate, channelName, uid, role, privilegeExpiredTs)

    @staticmethod
    def buildTokenWithAccount(appId, appCertificate, channelName, account, role, privilegeExpiredTs):
        token = AccessToken(appId, appCertificate, channelName, account)
        token.addPrivilege(kJoinChannel, privilegeExpiredTs)
        if role in (Role_Attendee, Role_Admin, Role_Publisher):
            token.addPrivilege(kPublishVideoStream, privilegeExpiredTs)
            token.addPrivilege(kPublishAudioStream, privilegeExpiredTs)
            token.addPrivilege(kPublishDataStream, privilegeExpiredTs)
        return token.build()
