"""Sign-in checks for stations: ``returns.station.signin.check(badge, pin)`` and ``.unlock(badge, by)``.

A station asks the ERP to check a PIN whenever it can reach it. The ERP counts wrong PINs per badge
across every station (``returns.station.pin_try``, by time with growing delays:
sync.common.pins.locked_for), so guessing at one station and then another never starts the count
again. A right PIN answers the person and a *verifier* for the calling station: a fresh scrypt hash
of the PIN with its own salt, valid ``[returns_station] verifier_days`` days (default 14), that lets
that station sign the person in offline. The ERP's own hash never leaves it.

Answers: ``{"status": "ok", "person": {...}, "verifier": ..., "expires_at": ...}``,
``{"status": "refused"}`` (a wrong PIN, an unknown or inactive badge: the same answer) or
``{"status": "locked", "wait_s": seconds}``.
"""

import datetime as dt

from trytond import config
from trytond.model import Index, Model, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from sync.common import pins

from .access import check_station_caller
from .person import scrypt_n
from .trust import require_person

OUTCOMES = [
    (pins.REFUSED, "Wrong PIN"),
    ("signed in", "Signed in"),
    ("unlocked", "Unlocked"),
    ("locked", "Tried while locked"),
]
_DUMMY = pins.hash_pin("0", salt=b"\0" * 16, n=pins.DEFAULT_SCRYPT_N)


def verifier_days():
    return max(1, config.getint("returns_station", "verifier_days", default=pins.VERIFIER_DAYS))


class PinTry(ModelSQL, ModelView):
    "Station PIN Try"

    __name__ = "returns.station.pin_try"

    badge = fields.Char("Badge", required=True, readonly=True)
    station = fields.Char("Station", readonly=True, help="The ERP login of the station that asked.")
    outcome = fields.Selection(OUTCOMES, "Outcome", required=True, readonly=True)
    by = fields.Char("By", readonly=True, help="The supervisor who unlocked the badge.")
    at = fields.DateTime("At", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.badge, Index.Equality()), (t.id, Index.Range())))
        cls._order = [("id", "DESC")]


class SignIn(Model):
    "Station Sign-in"

    __name__ = "returns.station.signin"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update(
            {
                "check": RPC(readonly=False, check_access=False),
                "unlock": RPC(readonly=False, check_access=False),
            }
        )

    @classmethod
    def check(cls, badge, pin):
        check_station_caller("signin.check")
        badge, pin = str(badge or "").strip(), str(pin or "")
        with Transaction().set_context(_check_access=False, active_test=False):
            Person = Pool().get("returns.station.person")
            found = Person.search([("badge", "=", badge)], limit=1) if badge else []
            person = found[0] if found else None
            now = _now()
            if person is not None:
                wait = locked_for(badge, now)
                if wait is not None:
                    _record(badge, "locked", now)
                    return {"status": "locked", "wait_s": int(wait.total_seconds()) + 1}
            if person is None or not person.pin_hash:
                pins.verify_pin(pin, _DUMMY)  # an unknown badge takes as long as a wrong PIN
                return {"status": "refused"}
            if not pins.verify_pin(pin, person.pin_hash) or not person.active:
                _record(badge, pins.REFUSED, now)
                return {"status": "refused"}
            _record(badge, "signed in", now)
            expires = now + dt.timedelta(days=verifier_days())
            return {
                "status": "ok",
                "person": {
                    "badge": person.badge,
                    "name": person.name,
                    "roles": sorted(person.roles or []),
                    "active": True,
                    "pin_version": person.pin_version or 0,
                    "write_date": _stamp(person),
                },
                "verifier": pins.hash_pin(pin, n=scrypt_n()),
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }

    @classmethod
    def unlock(cls, badge, by):
        """Lift ``badge``'s lock at every station; ``by`` (an active supervisor) is recorded."""
        check_station_caller("signin.unlock")
        with Transaction().set_context(_check_access=False):
            require_person(by, ("supervisor",), "an unlock", doing="unlock badges")
            now = _now()
            was_locked = locked_for(badge, now) is not None
            _record(badge, "unlocked", now, by=by)
            return {"was_locked": was_locked}


def locked_for(badge, now):
    """How much longer ``badge`` is locked in the ERP (None: not locked)."""
    PinTry = Pool().get("returns.station.pin_try")
    since = now - pins.MAX_PIN_LOCKOUT
    tries = PinTry.search_read(
        [("badge", "=", badge), ("at", ">=", since)],
        order=[("id", "DESC")],
        limit=1000,
        fields_names=["outcome", "at"],
    )
    return pins.locked_for(((t["outcome"], t["at"].replace(tzinfo=dt.UTC)) for t in tries), now)


def _record(badge, outcome, now, by=None):
    PinTry = Pool().get("returns.station.pin_try")
    User = Pool().get("res.user")
    station = User(Transaction().user).login if Transaction().user else "root"
    PinTry.create(
        [{"badge": badge, "station": station, "outcome": outcome, "by": by, "at": now.replace(tzinfo=None)}]
    )


def _now():
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _stamp(person):
    stamps = [s for s in (person.write_date, person.create_date) if s is not None]
    return max(stamps).strftime("%Y-%m-%d %H:%M:%S.%f") if stamps else ""
