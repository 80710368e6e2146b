"""Drop-in for the python3 reference ``RtcTokenBuilder2`` (007; expiries in seconds from now)."""
from __future__ import annotations

from mintlane.compat.AccessToken2 import AccessToken, ServiceRtc, ServiceRtm

Role_Publisher = 1
Role_Subscriber = 2


class RtcTokenBuilder:
    @staticmethod
    def build_token_with_uid(app_id, app_certificate, channel_name, uid, role, token_expire, privilege_expire=0):
        return RtcTokenBuilder.build_token_with_user_account(app_id, app_certificate, channel_name, uid, role,
                                                             token_expire, privilege_expire)

    @staticmethod
    def build_token_with_user_account(app_id, app_certificate, channel_name, account, role, token_expire,
                                      privilege_expire=0):
        token = AccessToken(app_id, app_certificate, expire=token_expire)
        rtc = ServiceRtc(channel_name, account)
        rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, privilege_expire)
        if role == Role_Publisher:
            rtc.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishDataStream, privilege_expire)
        token.add_service(rtc)
        return token.build()

    @staticmethod
    def build_token_with_uid_and_privilege(app_id, app_certificate, channel_name, uid, token_expire,
                                           join_channel_privilege_expire, pub_audio_privilege_expire,
                                           pub_video_privilege_expire, pub_data_stream_privilege_expire):
        return RtcTokenBuilder.build_token_with_user_account_and_privilege(
            app_id, app_certificate, channel_name, uid, token_expire, join_channel_privilege_expire,
            pub_audio_privilege_expire, pub_video_privilege_expire, pub_data_stream_privilege_expire)

    @staticmethod
    def build_token_with_user_account_and_privilege(app_id, app_certificate, channel_name, account, token_expire,
                                                    join_channel_privilege_expire, pub_audio_privilege_expire,
                                                    pub_video_privilege_expire, pub_data_stream_privilege_expire):
        token = AccessToken(app_id, app_certificate, expire=token_expire)
        rtc = ServiceRtc(channel_name, account)
        rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, join_channel_privilege_expire)
        rtc.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, pub_audio_privilege_expire)
        rtc.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, pub_video_privilege_expire)
        rtc.add_privilege(ServiceRtc.kPrivilegePublishDataStream, pub_data_stream_privilege_expire)
        token.add_service(rtc)
        return token.build()

    @staticmethod
    def build_token_with_rtm(app_id, app_certificate, channel_name, account, role, token_expire, privilege_expire=0):
        token = AccessToken(app_id, app_certificate, expire=token_expire)
        rtc = ServiceRtc(channel_name, account)
        rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, privilege_expire)
        if role == Role_Publisher:
            rtc.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishDataStream, privilege_expire)
        token.add_service(rtc)
        rtm = ServiceRtm(account)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, token_expire)
        token.add_service(rtm)
        return token.build()

    @staticmethod
    def build_token_with_rtm2(app_id, app_certificate, channel_name, rtc_account, rtc_role, rtc_token_expire,
                              join_channel_privilege_expire, pub_audio_privilege_expire, pub_video_privilege_expire,
                              pub_data_stream_privilege_expire, rtm_user_id, rtm_token_expire):
        token = AccessToken(app_id, app_certificate, expire=rtc_token_expire)
        rtc = ServiceRtc(channel_name, rtc_account)
        rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, join_channel_privilege_expire)
        if rtc_role == Role_Publisher:
            rtc.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, pub_audio_privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, pub_video_privilege_expire)
            rtc.add_privilege(ServiceRtc.kPrivilegePublishDataStream, pub_data_stream_privilege_expire)
        token.add_service(rtc)
        rtm = ServiceRtm(rtm_user_id)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, rtm_token_expire)
        token.add_service(rtm)
        return token.build()
