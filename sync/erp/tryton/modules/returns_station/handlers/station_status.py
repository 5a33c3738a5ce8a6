"""``station_status``: a station reports its outbox counts, refusals by code, app version and clock.

Payload: ``outbox`` ({state: count}), ``refusals`` ({code: count} counted at the station since its
previous status), ``app_version``, ``clock_offset_s`` (the station's clock minus the ERP's, as the
station measured it against ``returns.station.clock.now``; null when it could not ask). The ERP
keeps the latest status per station (``returns.station.status``) and every status's refusals
(``returns.station.status.refusal``): the dispatcher applies an operation id once, so a re-sent
status counts nothing twice. A status older than the one held (a late re-send) adds its refusals
and changes nothing else. Without ``clock_offset_s`` (an older station) the offset is the
operation's ``created_at`` against the ERP's clock on arrival.
"""

import datetime as dt
import json

from trytond.pool import Pool

from ..figures_data import parse_station_time


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Status = pool.get("returns.station.status")
    station = op.get("station") or "?"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sent = parse_station_time(op.get("created_at"))
    refusals = {str(code): int(n) for code, n in (payload.get("refusals") or {}).items() if int(n) > 0}
    if refusals:
        pool.get("returns.station.status.refusal").create(
            [
                {"station": station, "code": code, "count": n, "reported_at": sent, "operation_id": op["id"]}
                for code, n in sorted(refusals.items())
            ]
        )
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
    if "clock_offset_s" in payload:
        measured = payload["clock_offset_s"]
        if measured is not None:
            status.clock_offset = round(float(measured), 3)
    else:
        status.clock_offset = round((sent - now).total_seconds(), 3) if sent else None
    status.app_version = str(payload.get("app_version") or "")
    status.outbox = json.dumps(payload.get("outbox") or {}, sort_keys=True)
    status.refusals = json.dumps(refusals, sort_keys=True)
    status.save()
    return {"station": station, "status_id": status.id}
