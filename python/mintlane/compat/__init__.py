"""Drop-in replacements for the reference token builders: change the import line, nothing else.

=================================  ==========================================================
reference import                   mintlane import
=================================  ==========================================================
``from RtcTokenBuilder2 import *`` ``from mintlane.compat.RtcTokenBuilder2 import *``
``RtmTokenBuilder2``               ``mintlane.compat.RtmTokenBuilder2``
``ChatTokenBuilder2``              ``mintlane.compat.ChatTokenBuilder2``
``EducationTokenBuilder2`` /       ``mintlane.compat.EducationTokenBuilder2`` /
``education_token_builder``        ``mintlane.compat.education_token_builder``
``apaas_token_builder``            ``mintlane.compat.ApaasTokenBuilder`` / ``apaas_token_builder``
``fpa_token_builder``              ``mintlane.compat.FpaTokenBuilder`` / ``fpa_token_builder``
``AccessToken2``                   ``mintlane.compat.AccessToken2``
``agora_token_builder`` (PyPI,006) ``mintlane.compat.agora_token_builder``
=================================  ==========================================================

The 007 modules take expiries in seconds from now and, like the python3 reference, return ""
when the app id or certificate is not 32 hex characters (with a RuntimeWarning naming the
field). By default they compress with zlib level 6 ("exact"), so their strings equal the
reference's byte for byte; ``set_compression("fast")`` trades that for speed (the tokens stay
equally valid). The 006 module takes absolute Unix timestamps, exactly like the PyPI package.
"""
from __future__ import annotations

_compression = "exact"


def set_compression(mode: str) -> None:
    """"exact" (default: reference-identical strings), "isal" or "fast"."""
    global _compression
    if mode not in ("exact", "isal", "fast"):
        raise ValueError(f"compression: unknown mode {mode!r} (use 'exact', 'isal' or 'fast')")
    _compression = mode


def get_compression() -> str:
    return _compression
