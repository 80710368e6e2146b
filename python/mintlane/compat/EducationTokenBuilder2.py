"""Alias module: ``from mintlane.compat.EducationTokenBuilder2 import EducationTokenBuilder``."""
from mintlane.compat.apaas_token_builder import ApaasTokenBuilder, EducationTokenBuilder  # noqa: F401
