"""Alias module: ``from mintlane.compat.FpaTokenBuilder import FpaTokenBuilder``."""
from mintlane.compat.fpa_token_builder import FpaTokenBuilder  # noqa: F401
