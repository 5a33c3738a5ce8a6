"""What each station said about itself (``station_status`` operations): the supervisors' view of
every station's health and clock, and the figures' ``stations`` section.

``returns.station.status`` keeps each station's latest status; ``returns.station.status.refusal``
keeps the refusals each status reported (counted at the station since its previous status), one row
per operation and code, so a window's count (wrong items stopped by scan) is a sum that an operation
re-sent adds nothing to: its marker says it was applied already."""

from sql.aggregate import Sum
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.transaction import Transaction


class StationStatus(ModelSQL, ModelView):
    "Station Status"

    __name__ = "returns.station.status"
    _rec_name = "station"

    station = fields.Char("Station", required=True, readonly=True)
    last_seen = fields.DateTime("Last Seen", readonly=True, help="ERP clock, when the status arrived.")
    station_clock = fields.Char("Station Clock", readonly=True, help="The station's clock when it sent it.")
    clock_offset = fields.Float("Clock Offset (s)", readonly=True, help="Station clock minus ERP clock.")
    app_version = fields.Char("App Version", readonly=True)
    outbox = fields.Text("Outbox", readonly=True, help="Operations by state (JSON).")
    refusals = fields.Text("Refusals", readonly=True, help="Scans refused at the station, by code (JSON).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("station_unique", Unique(t, t.station), "One status per station."),
        ]
        cls._order = [("station", "ASC")]


class StationRefusalCount(ModelSQL, ModelView):
    "Station Refusal Count"

    __name__ = "returns.station.status.refusal"

    station = fields.Char("Station", required=True, readonly=True)
    code = fields.Char(
        "Refusal", required=True, readonly=True, help="e.g. wrong_item: a wrong item stopped by scan."
    )
    count = fields.Integer("Count", required=True, readonly=True)
    reported_at = fields.DateTime(
        "Reported At", readonly=True, help="Station clock (UTC) of the status that reported them."
    )
    operation_id = fields.Char(
        "Operation", readonly=True, help="The station_status operation that reported them."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [("reported_at", "DESC"), ("id", "DESC")]


def refusals_by_station(pool, start, end, station=None) -> dict[str, dict[str, int]]:
    """{station: {code: count}} of the refusals the stations reported with a status whose station
    clock falls in [start, end) (every station, or only ``station``)."""
    Refusal = pool.get("returns.station.status.refusal")
    table = Refusal.__table__()
    where = (table.reported_at >= start) & (table.reported_at < end)
    if station:
        where &= table.station == station
    cursor = Transaction().connection.cursor()
    cursor.execute(
        *table.select(
            table.station, table.code, Sum(table.count), where=where, group_by=[table.station, table.code]
        )
    )
    found: dict[str, dict[str, int]] = {}
    for name, code, count in cursor:
        found.setdefault(name, {})[code] = int(count or 0)
    return found
