"""Shared fixtures live in tests/fixtures/, one module per real part they start."""

import importlib.util

pytest_plugins = [
    name
    for name in ("tests.fixtures.erp", "tests.fixtures.browser", "tests.fixtures.store")
    if importlib.util.find_spec(name) is not None
]
