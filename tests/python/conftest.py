"""Shared fixtures: vectors, credentials and a kernel fixture that reruns tests per dispatch path."""
from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
VECTORS = pathlib.Path(os.environ.get("MINTLANE_VECTORS_DIR", HERE.parent / "vectors"))

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def load(name: str):
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def gen007():
    return load("generated_007.json")["vectors"]


@pytest.fixture(scope="session")
def gen006():
    return load("generated_006.json")["vectors"]


@pytest.fixture(scope="session")
def known():
    return load("reference_known_answers.json")


@pytest.fixture(scope="session")
def parse_cases():
    return load("parse_cases.json")


def _kernel_params(kind):
    from mintlane import _core
    return _core._supported_kernels(kind)


@pytest.fixture(params=_kernel_params("base64"))
def base64_kernel(request):
    from mintlane import _core
    previous = _core._force_kernel("base64", request.param)
    yield request.param
    _core._force_kernel("base64", previous)


@pytest.fixture(params=_kernel_params("sign"))
def sign_kernel(request):
    from mintlane import _core
    previous = _core._force_kernel("sign", request.param)
    yield request.param
    _core._force_kernel("sign", previous)
