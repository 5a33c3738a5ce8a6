"""Shared fixtures live in tests/fixtures/, one module per real part they start."""

import importlib.util
import os

pytest_plugins = [
    name
    for name in ("tests.fixtures.erp", "tests.fixtures.browser", "tests.fixtures.store")
    if importlib.util.find_spec(name) is not None
]

# scrypt's cost is a setting (sync.common.pins): tests hash and check PINs at a low cost so they
# stay fast; the station and the ERP server the tests start inherit it. Production keeps 2**14.
os.environ.setdefault("STATION_PIN_SCRYPT_N", "1024")
os.environ.setdefault("TRYTOND_RETURNS_STATION__PIN_SCRYPT_N", "1024")
