"""The people who work at stations: badge, roles and a salted PIN hash (never the PIN).

A supervisor (group "Returns Supervisor") or the CLI (``station erp people``) sets a PIN by writing
the write-only field ``pin``: the ERP checks it (digits; a supervisor's has at least 6) and keeps
only its hash, at the scrypt cost of ``[returns_station] pin_scrypt_n``. Nobody reads a hash.
Each new PIN bumps ``pin_version``, so a verifier a station holds for the old PIN stops working.
"""

from trytond import config
from trytond.exceptions import UserError
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from sync.common import pins, vocabulary

ROLES = list(vocabulary.ROLES.items())  # sync.common.vocabulary


def scrypt_n():
    """The ERP's scrypt cost for new hashes ([returns_station] pin_scrypt_n; tests lower it)."""
    return pins.valid_cost(config.getint("returns_station", "pin_scrypt_n", default=pins.DEFAULT_SCRYPT_N))


class Person(DeactivableMixin, ModelSQL, ModelView):
    "Station Person"

    __name__ = "returns.station.person"
    _rec_name = "name"

    badge = fields.Char("Badge", required=True, help="What the badge's barcode holds, e.g. U-RECV-1.")
    name = fields.Char("Name", required=True)
    roles = fields.MultiSelection(ROLES, "Roles")
    pin_hash = fields.Char(
        "PIN Hash", help="scrypt$n$r$p$salt$hash (sync.common.pins); never the PIN itself. Set by New PIN."
    )
    pin = fields.Function(
        fields.Char("New PIN", help="Type a new PIN to set it (digits; a supervisor's at least 6)."),
        "get_pin",
        setter="set_pin",
    )
    pin_version = fields.Integer("PIN Version", readonly=True, help="Bumped by every new PIN.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("badge_unique", Unique(t, t.badge), "returns_station.msg_person_badge_unique"),
        ]
        cls._order = [("badge", "ASC")]
        cls.__rpc__.update({"new_pin": RPC(readonly=False, instantiate=0)})

    @staticmethod
    def default_pin_version():
        return 0

    def get_pin(self, name):
        return None  # write-only

    @classmethod
    def set_pin(cls, people, name, value):
        if not value:
            return
        for person in people:
            problem = pins.pin_problem(value, person.roles or ())
            if problem:
                raise UserError(f"{person.badge} ({person.name}): {problem}")
        # As the module: nobody else may write a hash, not even the supervisor who typed the PIN.
        with Transaction().set_context(_check_access=False):
            for person in people:
                cls.write(
                    [person],
                    {
                        "pin_hash": pins.hash_pin(value, n=scrypt_n()),
                        "pin_version": (person.pin_version or 0) + 1,
                    },
                )

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        for people, values in zip(actions, actions, strict=True):
            if "supervisor" in (values.get("roles") or ()) and not values.get("pin"):
                for person in people:
                    if "supervisor" not in (person.roles or ()):
                        raise UserError(
                            f"{person.badge} ({person.name}) becomes a supervisor: give them a new PIN "
                            f"of at least {pins.MIN_SUPERVISOR_PIN} digits in the same change"
                        )
        super().write(*args)

    @classmethod
    def new_pin(cls, people):
        """Give each of ``people`` a random PIN; answers {badge: PIN}, shown once and never kept."""
        check_manager("returns.station.person.new_pin")
        given = {}
        for person in people:
            pin = pins.new_pin(person.roles or ())
            cls.write([person], {"pin": pin})
            given[person.badge] = pin
        return given


def check_manager(method):
    """Raise unless the caller manages people: an administrator or a "Returns Supervisor"."""
    from .access import SUPERVISOR_GROUP, in_group

    User = Pool().get("res.user")
    if Transaction().user == 0 or User.is_administrator() or in_group(SUPERVISOR_GROUP):
        return
    raise UserError(f'You are not allowed to call {method}: only the group "Returns Supervisor" may')
