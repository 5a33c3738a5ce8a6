"""The disposition rules held in the ERP, published and read over JSON-RPC (``station erp rules``).

The module's ``returns.station.rule_book`` keeps every version; :func:`publish_rules` makes a
rules file the current one (an administrator, or a user of the group "Returns Supervisor"), and
:func:`current_rules` reads what is in force. Stations receive the current version in the pull.
"""

from __future__ import annotations

from typing import Any

from sync.erp.address import ErpAddress
from sync.erp.tryton.rpc import TrytonRPC

MODEL = "model.returns.station.rule_book"


def publish_rules(address: ErpAddress, text: str) -> dict[str, Any]:
    """Publish ``text`` as the rules in force; the new version (``sync.reference.Rules``).

    Raises ErpRejected with the parser's line and reason for an invalid file or a version already
    published; ErpAuthFailed for a user who may not publish; ErpUnavailable when unreachable."""
    rpc = TrytonRPC(address)
    try:
        return rpc.call(f"{MODEL}.publish", text, {})
    finally:
        rpc.close()


def current_rules(address: ErpAddress) -> dict[str, Any]:
    """``{"current": Rules, "grace_days": int, "accepted": [versions still accepted]}``."""
    rpc = TrytonRPC(address)
    try:
        return rpc.call(f"{MODEL}.show", {})
    finally:
        rpc.close()
