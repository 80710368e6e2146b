"""Alias module: ``from mintlane.compat.ApaasTokenBuilder import ApaasTokenBuilder``."""
from mintlane.compat.apaas_token_builder import ApaasTokenBuilder, EducationTokenBuilder  # noqa: F401
