"""Drop-in for the python3 reference ``education_token_builder``."""
from mintlane.compat.apaas_token_builder import ApaasTokenBuilder, EducationTokenBuilder  # noqa: F401
