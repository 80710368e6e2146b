#!/usr/bin/env bash
# setup.sh - everything mintlane needs on a fresh Debian 12 machine: system packages (apt), a
# virtualenv in .venv with the build and test dependencies, and the package itself built from
# this checkout. Idempotent: a second run skips what is already there.
#   scripts/setup.sh           runtime + build deps, then `pip install .`
#   scripts/setup.sh --test    also test-only deps (chromium, wrk, clang, peers' toolchains)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

APT_PACKAGES=(build-essential cmake ninja-build pkg-config libssl-dev libisal-dev zlib1g-dev libboost1.81-dev)
APT_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev wrk clang libclang-rt-14-dev chromium)

missing=()
want=("${APT_PACKAGES[@]}")
(( WITH_TEST )) && want+=("${APT_TEST_PACKAGES[@]}")
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( WITH_TEST )); then
  # The interop peers: Go >= 1.21 (the machine image ships one in /usr/local/go) and Node/npm.
  [[ -x /usr/local/go/bin/go ]] && export PATH=$PATH:/usr/local/go/bin
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup: installing nodejs and npm (interop peer: npm agora-token)"
    $( [[ $(id -u) -ne 0 ]] && echo sudo ) apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if ! command -v go >/dev/null; then
    echo "setup: error: Go >= 1.21 is needed for the interop suite (go-tokenbuilder peer); install it from" \
         "https://go.dev/dl or a backports golang package and put it on PATH" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
VPY=$ROOT/.venv/bin/python
stamp=.venv/.deps-$( (cat pyproject.toml; echo "$WITH_TEST") | sha256sum | cut -c1-16)
if [[ ! -f $stamp ]]; then
  echo "setup: installing Python build dependencies"
  $VPY -m pip install -q -U pip
  $VPY -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
  if (( WITH_TEST )); then
    $VPY -m pip install -q "pytest>=7" "hypothesis>=6" numpy tqdm "dask[distributed]" uvicorn starlette httpx mypy \
      "agora-token-builder==1.0.0" pytest-timeout
  else
    $VPY -m pip install -q tqdm
  fi
  touch "$stamp"
fi

echo "setup: building mintlane (C++ engine + Python extension)"
CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) $VPY -m pip install -q --no-build-isolation --no-deps . 
echo "setup: ready ($($ROOT/.venv/bin/mintlane --version))"
