#!/usr/bin/env bash
# run.sh - the main job: set everything up, then mint tokens for a sample event and print the
# summary. Uses $APP_ID / $APP_CERTIFICATE when set, otherwise clearly labelled demo credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/mintlane demo "$@"
