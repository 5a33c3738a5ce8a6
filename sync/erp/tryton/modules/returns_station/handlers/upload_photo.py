"""``upload_photo``: a photo's bytes (sent beside the operation, base64) attached in the ERP.

Payload: ``sha256`` of the bytes; ``return_id`` to attach it to (else the company). Later
operations (``inspect_item``) name photos by hash and find them here.
"""

import base64
import hashlib

from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import lookups
from ..exceptions import StationRefusal


def apply(op, photo):
    payload = op["payload"]
    digest = payload["sha256"]
    if photo is None:
        raise StationRefusal(f"photo {digest[:12]}… arrived without its bytes")
    data = base64.b64decode(photo)
    if hashlib.sha256(data).hexdigest() != digest:
        raise StationRefusal(f"photo {digest[:12]}… does not match its hash (damaged on the way)")
    if payload.get("return_id"):
        resource = str(lookups.return_(payload["return_id"]))
    else:
        resource = None
    if resource is None:
        Company = Pool().get("company.company")
        resource = str(Company(Transaction().context.get("company") or Company.search([], limit=1)[0].id))
    attachment = lookups.attach(resource, digest, data)
    return {"attachment_id": attachment.id}
