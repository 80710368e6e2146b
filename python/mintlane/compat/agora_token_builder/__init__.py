"""Drop-in for PyPI ``agora-token-builder`` 1.0.0 (legacy 006 tokens, absolute Unix timestamps).

``from mintlane.compat.agora_token_builder import RtcTokenBuilder, RtmTokenBuilder`` gives the
same classes, methods and arguments; the tokens are byte-identical to the package's for the
same salt and clock. Unlike the package, an app id or certificate that is not 32 hex characters
raises mintlane.InvalidCredentialsError instead of producing an unusable token.
"""
from mintlane.compat.agora_token_builder.RtcTokenBuilder import RtcTokenBuilder  # noqa: F401
from mintlane.compat.agora_token_builder.RtmTokenBuilder import RtmTokenBuilder  # noqa: F401
