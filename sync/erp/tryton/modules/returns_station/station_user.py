"""Which station each station user speaks for: the ERP ties an operation's ``station`` to its login.

``res.user.returns_station_id`` holds the station id a station's ERP user speaks for
(``station erp add-station NAME`` sets it to NAME, or to ``--station ID``); empty, the user's
login is its station id. The dispatcher refuses an operation whose ``station`` is another
(trust.check_station), so one station cannot report a status or anything else under another
station's name. Administrators (and the root) speak for every station: the setup and the tools
that log in as the ERP's administrator keep working as before.

``returns.station.identity.speaks_for()`` tells a station which station its login speaks for, so a
station whose configured id differs learns it at its first sync, in words an administrator reads,
rather than from a pile of refused operations (sync/engine.py).
"""

from trytond.model import Model, fields
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .access import check_station_caller


class User(metaclass=PoolMeta):
    __name__ = "res.user"

    returns_station_id = fields.Char(
        "Returns Station",
        help="The station id this ERP user speaks for: the ERP applies only operations that carry it. "
        "Empty: the user's login.",
    )


def speaks_for():
    """(login, station id) of the caller; station id None for an administrator or the root (any)."""
    transaction = Transaction()
    if transaction.user == 0:
        return "root", None
    User = Pool().get("res.user")
    if User.is_administrator():
        return User(transaction.user).login, None
    with transaction.set_context(_check_access=False, active_test=False):
        user = User(transaction.user)
        return user.login, (user.returns_station_id or "").strip() or user.login


class Identity(Model):
    "Station Identity"

    __name__ = "returns.station.identity"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({"speaks_for": RPC(readonly=True)})

    @classmethod
    def speaks_for(cls):
        """``{"user": login, "station": id}``: the station id the caller's operations must carry
        (``station`` None: an administrator, who may send any station's)."""
        check_station_caller("returns.station.identity.speaks_for")
        login, station = speaks_for()
        return {"user": login, "station": station}
