"""The ERP's clock, for stations: ``returns.station.clock.now()`` answers the server's time in UTC
(ISO 8601), so a station can ask the ERP something read-only and later tell how far its own clock
is off. No table, no side effect; like every station-facing call, for station users only."""

import datetime as dt

from trytond.model import Model
from trytond.rpc import RPC

from .access import check_station_caller


class Clock(Model):
    "Station Clock"

    __name__ = "returns.station.clock"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({"now": RPC(readonly=True)})

    @classmethod
    def now(cls):
        check_station_caller("returns.station.clock.now")
        return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
