"""The people who work at stations: badge, roles and a salted PIN hash (never the PIN)."""

from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields

from sync.common import vocabulary

ROLES = list(vocabulary.ROLES.items())  # sync.common.vocabulary


class Person(DeactivableMixin, ModelSQL, ModelView):
    "Station Person"

    __name__ = "returns.station.person"
    _rec_name = "name"

    badge = fields.Char("Badge", required=True, help="What the badge's barcode holds, e.g. U-RECV-1.")
    name = fields.Char("Name", required=True)
    roles = fields.MultiSelection(ROLES, "Roles")
    pin_hash = fields.Char(
        "PIN Hash", required=True, help="scrypt$n$r$p$salt$hash (app.workflows.pins); never the PIN itself."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("badge_unique", Unique(t, t.badge), "returns_station.msg_person_badge_unique"),
        ]
        cls._order = [("badge", "ASC")]
