"""``RtmTokenBuilder`` of PyPI ``agora-token-builder`` (006; the account goes in the channel slot)."""
from __future__ import annotations

from mintlane.compat.agora_token_builder.AccessToken import AccessToken, kRtmLogin

Role_Rtm_User = 1


class RtmTokenBuilder:
    @staticmethod
    def buildToken(appId, appCertificate, userAccount, role, privilegeExpiredTs):
        token = AccessToken(appId, appCertificate, userAccount, "")
        token.addPrivilege(kRtmLogin, privilegeExpiredTs)
        return token.build()
