"""What each station last said about itself (``station_status`` operations): the supervisors' view of
every station's health and clock, and the figures' ``stations`` section."""

from trytond.model import ModelSQL, ModelView, Unique, fields


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
