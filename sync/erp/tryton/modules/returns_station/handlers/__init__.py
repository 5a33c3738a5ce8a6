"""One module per station operation type; ``HANDLERS`` says which applies each (type, version).

A handler is ``apply(op, photo) -> refs``: ``op`` is the station's operation (``id``, ``type``,
``version``, ``user``, ``station``, ``created_at``, ``payload``), ``photo`` the base64 bytes sent
beside it (``upload_photo`` only), ``refs`` what the ERP made (JSON, kept on the marker and
returned to the station). It raises ``StationRefusal`` / ``StationConflict`` (exceptions.py) to
say no; the dispatcher (operation.py) runs it in its own savepoint and writes the marker.

A new operation type, or a new version of one: a new module here and one line in ``HANDLERS``.
"""

from ..exceptions import StationRefusal
from . import (
    blind_receipt,
    close_tote,
    confirm_pack,
    decide_approval,
    inspect_item,
    open_return,
    receive_return,
    request_approval,
    sort_to_tote,
    station_status,
    upload_photo,
)

HANDLERS = {
    ("receive_return", 1): receive_return.apply,
    ("upload_photo", 1): upload_photo.apply,
    ("inspect_item", 1): inspect_item.apply,
    ("request_approval", 1): request_approval.apply,
    ("decide_approval", 1): decide_approval.apply,
    ("confirm_pack", 1): confirm_pack.apply,
    ("open_return", 1): open_return.apply,
    ("blind_receipt", 1): blind_receipt.apply,
    ("station_status", 1): station_status.apply,
    ("sort_to_tote", 1): sort_to_tote.apply,
    ("close_tote", 1): close_tote.apply,
}


def handler_for(kind, version):
    """The handler of ``kind`` at ``version``, else a refusal the station can show as it is."""
    handler = HANDLERS.get((kind, version))
    if handler is not None:
        return handler
    known = sorted(v for (k, v) in HANDLERS if k == kind)
    if not known:
        raise StationRefusal(f"unknown operation type {kind!r}")
    if isinstance(version, int) and version > known[-1]:
        raise StationRefusal(
            f"{kind} version {version} is newer than this ERP module knows (up to {known[-1]})"
        )
    raise StationRefusal(
        f"{kind} version {version!r} is not one this ERP module knows ({', '.join(map(str, known))})"
    )
