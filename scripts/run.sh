#!/usr/bin/env bash
# run.sh - the main job: set everything up, then mint a real token pool for a sample event
# (100 channels x 10,000 uids = 1,000,000 RTC tokens, 10 % publishers) into gzip'd JSONL at
# out/sample-event.jsonl.gz and print the summary (count, bytes, tokens/s, sha256). Uses
# $APP_ID / $APP_CERTIFICATE when set, otherwise clearly labelled demo-only credentials.
# Extra arguments go to `mintlane bulk`, e.g. scripts/run.sh --channels 1000 -o out/big.csv
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p out
exec .venv/bin/mintlane bulk --demo --channels 100 --uids-per-channel 10000 --publishers 10% \
  --expire 3600 -o out/sample-event.jsonl.gz "$@"
