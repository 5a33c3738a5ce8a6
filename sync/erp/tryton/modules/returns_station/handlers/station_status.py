"""``station_status``: a station reports its outbox counts, refusals by code, app version and clock.

Payload: ``outbox`` ({state: count}), ``refusals`` ({code: count} since the last status),
``app_version``. The ERP keeps the latest per station (``returns.station.status``), with the
station's clock offset from the ERP's (the operation's ``created_at`` against the ERP's now). A
status older than the one held (a late re-send) changes nothing.
"""

import datetime as dt
import json

from trytond.pool import Pool

from ..figures_data import parse_station_time


def apply(op, photo):
    payload = op["payload"]
    Status = Pool().get("returns.station.status")
    station = op.get("station") or "?"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sent = parse_station_time(op.get("created_at"))
    found = Status.search([("station", "=", station)], limit=1)
    if found:
        status = found[0]
        held = parse_station_time(status.station_clock)
        if held and sent and held > sent:
            return {"station": station, "kept": "newer status already held"}
    else:
        status = Status(station=station)
    status.last_seen = now
    status.station_clock = op.get("created_at")
    status.clock_offset = round((sent - now).total_seconds(), 3) if sent else None
    status.app_version = str(payload.get("app_version") or "")
    status.outbox = json.dumps(payload.get("outbox") or {}, sort_keys=True)
    status.refusals = json.dumps(payload.get("refusals") or {}, sort_keys=True)
    status.save()
    return {"station": station, "status_id": status.id}
