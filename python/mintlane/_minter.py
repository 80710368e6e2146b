"""The public Minter: the engine's Minter plus the builders that are thin Python wrappers."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from mintlane import _core
from mintlane._batch import install_batch_methods

Role = Union[str, int]

CONVOAI = 9
STT = 10


class Minter(_core.Minter):
    """Mints Agora access tokens for one app id and certificate.

    ``Minter(app_id, app_certificate, *, compression="fast", threads=None)`` raises
    :class:`mintlane.InvalidCredentialsError` when either is not 32 hex characters. The
    certificate is kept only inside the engine (wiped when the Minter is destroyed) and never
    appears in any message or repr. ``compression`` is ``"fast"`` (fixed-Huffman, default),
    ``"isal"`` (ISA-L igzip) or ``"exact"`` (zlib level 6: byte-identical to the reference
    builders' strings). ``threads`` is the worker count for batches (None/0 = all cores).

    Every builder takes keyword-only ``salt=`` and ``issue_ts=`` overrides for reproducible
    output; expiries are seconds from now (1..86400).
    """

    # Education is the same product as APaaS (TOKEN_FORMAT.md §4.4).
    def education_room_user(self, room_uuid: str, user_uuid: str, role: int, *, expire: int = 3600,
                            salt: Optional[int] = None, issue_ts: Optional[int] = None) -> str:
        """Alias of :meth:`apaas_room_user`."""
        return self.apaas_room_user(room_uuid, user_uuid, role, expire=expire, salt=salt, issue_ts=issue_ts)

    def education_user(self, user_uuid: str, *, expire: int = 3600, salt: Optional[int] = None,
                       issue_ts: Optional[int] = None) -> str:
        """Alias of :meth:`apaas_user`."""
        return self.apaas_user(user_uuid, expire=expire, salt=salt, issue_ts=issue_ts)

    def education_app(self, *, expire: int = 3600, salt: Optional[int] = None,
                      issue_ts: Optional[int] = None) -> str:
        """Alias of :meth:`apaas_app`."""
        return self.apaas_app(expire=expire, salt=salt, issue_ts=issue_ts)

    def convoai(self, channel: str, rtc_account: Union[str, int], rtm_user_id: str, *, role: Role = "publisher",
                rtc_expire: int = 3600, join_channel: Optional[int] = None, publish_audio: Optional[int] = None,
                publish_video: Optional[int] = None, publish_data: Optional[int] = None,
                rtm_expire: Optional[int] = None, salt: Optional[int] = None,
                issue_ts: Optional[int] = None) -> str:
        """ConvoAI agent token: RTC + RTM + a type-9 service (npm ``ConvoAITokenBuilder.buildToken``).

        ``rtc_account`` "" means any uid; privilege expiries default to ``rtc_expire`` and
        ``rtm_expire`` too.
        """
        return self._agent(CONVOAI, channel, rtc_account, rtm_user_id, role=role, rtc_expire=rtc_expire,
                           join_channel=join_channel, publish_audio=publish_audio, publish_video=publish_video,
                           publish_data=publish_data, rtm_expire=rtm_expire, salt=salt, issue_ts=issue_ts)

    def stt(self, channel: str, rtc_account: Union[str, int], rtm_user_id: str, *, role: Role = "publisher",
            rtc_expire: int = 3600, join_channel: Optional[int] = None, publish_audio: Optional[int] = None,
            publish_video: Optional[int] = None, publish_data: Optional[int] = None,
            rtm_expire: Optional[int] = None, salt: Optional[int] = None, issue_ts: Optional[int] = None) -> str:
        """Speech-to-text agent token: RTC + RTM + a type-10 service (npm ``SttTokenBuilder.buildToken``)."""
        return self._agent(STT, channel, rtc_account, rtm_user_id, role=role, rtc_expire=rtc_expire,
                           join_channel=join_channel, publish_audio=publish_audio, publish_video=publish_video,
                           publish_data=publish_data, rtm_expire=rtm_expire, salt=salt, issue_ts=issue_ts)

    def convoai_batch(self, *, rtm_user_id: str, channel: Optional[str] = None,
                      channels: Optional[Sequence[str]] = None, rtc_accounts: Optional[Sequence[str]] = None,
                      role: Role = "publisher", rtc_expire: int = 3600, rtm_expire: Optional[int] = None,
                      count: Optional[int] = None, salts: Optional[Sequence[int]] = None,
                      issue_ts: Optional[int] = None) -> _core.TokenBatch:
        """N ConvoAI tokens (one per channel and/or RTC account)."""
        return self._agent_batch(CONVOAI, channel=channel, channels=channels, rtc_accounts=rtc_accounts,
                                 rtm_user_id=rtm_user_id, role=role, rtc_expire=rtc_expire, rtm_expire=rtm_expire,
                                 count=count, salts=salts, issue_ts=issue_ts)

    def stt_batch(self, *, rtm_user_id: str, channel: Optional[str] = None,
                  channels: Optional[Sequence[str]] = None, rtc_accounts: Optional[Sequence[str]] = None,
                  role: Role = "publisher", rtc_expire: int = 3600, rtm_expire: Optional[int] = None,
                  count: Optional[int] = None, salts: Optional[Sequence[int]] = None,
                  issue_ts: Optional[int] = None) -> _core.TokenBatch:
        """N STT tokens (one per channel and/or RTC account)."""
        return self._agent_batch(STT, channel=channel, channels=channels, rtc_accounts=rtc_accounts,
                                 rtm_user_id=rtm_user_id, role=role, rtc_expire=rtc_expire, rtm_expire=rtm_expire,
                                 count=count, salts=salts, issue_ts=issue_ts)


install_batch_methods()
