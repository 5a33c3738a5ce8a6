"""Who may call the module: station users call its station-facing RPC methods, and nothing else.

Rights are data (access.xml): the group "Returns Station" for the ERP users that stations log in
as, "Returns Supervisor" for people who manage people and approvals in the ERP. The module's own
models are closed to every other non-administrator user; a PIN hash is readable by nobody.

A station user holds no right on any model: the station-facing methods (operation.py's
``apply_batch`` and ``pull``) are published with ``RPC(check_access=False)`` and act as the module,
after :func:`check_station_caller` made sure the caller is a station user (or an administrator).
A station-facing method added elsewhere does the same: ``RPC(..., check_access=False)`` and a call
to :func:`check_station_caller` first.
"""

from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

STATION_GROUP = "group_station"
SUPERVISOR_GROUP = "group_supervisor"


def in_group(xml_id: str) -> bool:
    """Whether the transaction's user is in this module's group ``xml_id``."""
    pool = Pool()
    User = pool.get("res.user")
    ModelData = pool.get("ir.model.data")
    return ModelData.get_id("returns_station", xml_id) in User.get_groups()


def check_station_caller(method: str) -> None:
    """Raise AccessError unless the caller is a station user or an administrator (or the root)."""
    User = Pool().get("res.user")
    if Transaction().user == 0 or User.is_administrator() or in_group(STATION_GROUP):
        return
    # "You are not allowed to" starts Tryton's own access errors: the connector knows it.
    raise AccessError(
        f'You are not allowed to call {method}: only users of the group "Returns Station" may',
        "Create the station's ERP user with `station erp add-station NAME`.",
    )


class Rule(metaclass=PoolMeta):
    """Gives rules on users and groups the current user's id (res/ir.py does it for a few others)."""

    __name__ = "ir.rule"

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in {"res.user", "res.group"}:
            context["user_id"] = Transaction().user
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if model_names & {"res.user", "res.group"}:
            key = (*key, Transaction().user)
        return key
