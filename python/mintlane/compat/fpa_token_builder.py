"""Drop-in for the python3 reference ``fpa_token_builder`` (expire fixed at 24 h, login 0)."""
from __future__ import annotations

from mintlane.compat.AccessToken2 import AccessToken, ServiceFpa


class FpaTokenBuilder:
    @staticmethod
    def build_token(app_id, app_certificate):
        token = AccessToken(app_id, app_certificate, expire=24 * 3600)
        fpa = ServiceFpa()
        fpa.add_privilege(ServiceFpa.kPrivilegeLogin, 0)
        token.add_service(fpa)
        return token.build()
