"""mintlane: fast, trustworthy Agora access tokens.

    >>> import mintlane
    >>> m = mintlane.Minter(app_id, app_certificate)
    >>> m.rtc("lobby", uid=42, role="publisher", expire=3600)
    '007eJx...'
    >>> batch = m.rtc_batch(channel="lobby", uids=range(1, 100_001))
    >>> mintlane.verify(batch[0], app_certificate, channel="lobby", uid=1).ok
    True
"""
from __future__ import annotations

from mintlane._core import (
    DecodeError,
    InvalidAccountError,
    InvalidArgumentError,
    InvalidChannelError,
    InvalidCredentialsError,
    InvalidExpireError,
    InvalidRoleError,
    InvalidUidError,
    MintlaneError,
    Service,
    TokenBatch,
    __version__,
)
from mintlane import _redact

_redact.install()  # before anything can call the extension with a certificate

from mintlane._minter import Minter
from mintlane._tokens import DecodedToken, VerifyResult, decode, verify
from mintlane import services

ROLE_PUBLISHER = 1
ROLE_SUBSCRIBER = 2

__all__ = [
    "Minter",
    "TokenBatch",
    "Service",
    "DecodedToken",
    "VerifyResult",
    "decode",
    "verify",
    "services",
    "MintlaneError",
    "InvalidArgumentError",
    "InvalidCredentialsError",
    "InvalidChannelError",
    "InvalidUidError",
    "InvalidAccountError",
    "InvalidExpireError",
    "InvalidRoleError",
    "DecodeError",
    "ROLE_PUBLISHER",
    "ROLE_SUBSCRIBER",
    "__version__",
]
