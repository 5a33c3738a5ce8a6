"""Sale search for unannounced returns: ``returns.station.sale_search.find(query)``.

A parcel arrives that no return announced: the receiver searches by the order number (SO-… or the
customer's WEB-… reference), the customer's email or name, or a serial number sold. Read-only; the
customer's name and email leave the ERP masked ("Alma J.", "a***@example.com"), enough for the
receiver to tell two sales apart and no more.

Each answer is ``{"sales": [...], "more": bool}``, newest sale first, at most ``LIMIT``; a sale is
``{"sale_id", "number", "reference", "date", "customer", "email", "lines"}`` and each line one
delivered move: ``{"sold_move_id", "product_id", "product", "code", "quantity", "returned",
"returnable", "lot"}`` (``returned``: what returns that are not cancelled already take back).
"""

from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .access import check_station_caller

LIMIT = 20
MIN_NAME = 3  # a name search needs this many characters (fewer would list half the customers)


def mask_name(name):
    """``"Alma Jansen"`` -> ``"Alma J."``; one word stays as it is."""
    parts = (name or "").split()
    if len(parts) < 2:
        return name or ""
    return f"{parts[0]} {parts[-1][0]}."


def mask_email(email):
    """``"alma.jansen@example.com"`` -> ``"a***@example.com"``."""
    if not email or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def delivered_moves(sale):
    """The sale's moves that reached the customer (done, into a customer location)."""
    return [
        move
        for line in sale.lines
        for move in getattr(line, "moves", ()) or ()
        if move.state == "done" and move.to_location.type == "customer"
    ]


def returned_quantity(move):
    """How much of the delivered ``move`` returns (not cancelled) already take back."""
    Move = Pool().get("stock.move")
    taken = Move.search(
        [
            ("origin", "=", str(move)),
            ("state", "!=", "cancelled"),
            ("shipment", "like", "stock.shipment.out.return,%"),
        ]
    )
    return sum(m.quantity for m in taken)


class SaleSearch(Model):
    "Station Sale Search"

    __name__ = "returns.station.sale_search"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({"find": RPC(readonly=True, check_access=False)})

    @classmethod
    def find(cls, query):
        # A station-facing method (access.py): it checks its caller, then reads sales, parties and
        # moves as the module and answers only the masked summary.
        check_station_caller("sale_search.find")
        with Transaction().set_context(_check_access=False):
            return cls._search(query)

    @classmethod
    def _search(cls, query):
        query = (query or "").strip()
        if not query:
            return {"sales": [], "more": False}
        pool = Pool()
        Sale = pool.get("sale.sale")
        Party = pool.get("party.party")
        Mechanism = pool.get("party.contact_mechanism")
        Lot = pool.get("stock.lot")
        Move = pool.get("stock.move")
        with Transaction().set_context(active_test=False):
            ids = {
                s.id for s in Sale.search(["OR", ("number", "ilike", query), ("reference", "ilike", query)])
            }
            parties = set()
            if "@" in query:
                parties |= {
                    m.party.id for m in Mechanism.search([("type", "=", "email"), ("value", "ilike", query)])
                }
            elif len(query) >= MIN_NAME:
                parties |= {p.id for p in Party.search([("name", "ilike", f"%{query}%")])}
            if parties:
                ids |= {s.id for s in Sale.search([("party", "in", list(parties))])}
            lots = Lot.search([("number", "=", query)])
            if lots:
                for move in Move.search(
                    [("lot", "in", [lot.id for lot in lots]), ("origin", "like", "sale.line,%")]
                ):
                    ids.add(move.origin.sale.id)
        sales = [s for s in Sale.browse(sorted(ids)) if s.state in ("processing", "done")]
        sales.sort(key=lambda s: (s.sale_date or s.create_date.date(), s.id), reverse=True)
        return {"sales": [cls._describe(s) for s in sales[:LIMIT]], "more": len(sales) > LIMIT}

    @staticmethod
    def _describe(sale):
        party = sale.party
        email = next((m.value for m in party.contact_mechanisms if m.type == "email"), None)
        lines = []
        for move in delivered_moves(sale):
            returned = returned_quantity(move)
            lines.append(
                {
                    "sold_move_id": move.id,
                    "product_id": move.product.id,
                    "product": move.product.rec_name,
                    "code": move.product.code,
                    "quantity": move.quantity,
                    "returned": returned,
                    "returnable": max(move.quantity - returned, 0),
                    "lot": move.lot.number if move.lot else None,
                }
            )
        return {
            "sale_id": sale.id,
            "number": sale.number,
            "reference": sale.reference,
            "date": sale.sale_date.isoformat() if sale.sale_date else None,
            "customer": mask_name(party.name),
            "email": mask_email(email),
            "lines": lines,
        }
