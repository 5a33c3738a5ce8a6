"""``pull(cursors)``: the reference records (``sync.reference`` shapes) changed since each cursor.

Called through ``returns.station.operation.pull`` (operation.py). Each kind is read by its own
``_pull_<kind>(since)``; ``since`` is None on a first pull (everything a station needs: active
returns and shipments, pending approvals, all products...).
"""

import datetime as dt

from trytond.pool import Pool
from trytond.transaction import Transaction

# Records changed this close to "now" are sent again on the next pull: a transaction that started
# earlier may still commit rows with an older write_date (PostgreSQL stamps the transaction start).
CURSOR_MARGIN = dt.timedelta(seconds=5)


def pull(cursors):
    """Reference records changed since ``cursors`` ({kind: "YYYY-MM-DD HH:MM:SS.ffffff"})."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # Tryton stamps records in UTC
    safe = (now - CURSOR_MARGIN).strftime("%Y-%m-%d %H:%M:%S.%f")
    records, new_cursors = {}, {}
    for kind, reader in (
        ("products", _pull_products),
        ("lots", _pull_lots),
        ("returns", _pull_returns),
        ("shipments", _pull_shipments),
        ("locations", _pull_locations),
        ("people", _pull_people),
        ("approvals", _pull_approvals),
        ("rules", _pull_rules),
    ):
        since = _parse_cursor(cursors.get(kind))
        # An incremental pull finds nothing most of the time: search ids only (Tryton's search
        # otherwise builds and reads every stored column of, e.g., a return, for no record).
        with Transaction().set_context(_search_prefetch=since is None):
            rows = reader(since)
        records[kind] = rows
        latest = max((r["write_date"] for r in rows), default=cursors.get(kind) or "")
        if latest and since is not None:
            new_cursors[kind] = min(latest, safe)
        else:
            # A first pull sends everything open whatever its stamp: what changed before "safe"
            # and is not in it (done, cancelled) the station never needs, so the next pull starts
            # from "safe" rather than from the newest open record's stamp (which sent it all again).
            new_cursors[kind] = safe
    return {"records": records, "cursors": new_cursors}


def _changed(since, *paths):
    if since is None:
        return []
    clauses = ["OR"]
    for path in paths:
        prefix = f"{path}." if path else ""
        # Strictly after: the cursor is never later than "now - CURSOR_MARGIN", so every record
        # stamped at or before it was committed and already sent.
        clauses.append((f"{prefix}write_date", ">", since))
        clauses.append((f"{prefix}create_date", ">", since))
    return [clauses]


def _changed_ids(model, since, domain=()):
    """Ids of ``model`` records created or written after ``since`` (one table, no joins)."""
    found = model.search([*domain, ["OR", ("write_date", ">", since), ("create_date", ">", since)]], order=[])
    return [r.id for r in found]


def _pull_products(since):
    # Bulk reads, table by table: per-record attribute access (function and multi-company
    # fields) costs about 10 ms a product, far too slow for 10,000 of them.
    pool = Pool()
    Product = pool.get("product.product")
    Template = pool.get("product.template")
    Identifier = pool.get("product.identifier")
    Category = pool.get("product.category")
    CostPrice = pool.get("product.cost_price")
    ListPrice = pool.get("product.list_price")
    with Transaction().set_context(active_test=since is None):
        if since is None:
            ids = [p.id for p in Product.search([], order=[("id", "ASC")])]
        else:
            changed = set(_changed_ids(Product, since))
            templates = _changed_ids(Template, since)
            if templates:
                changed.update(p.id for p in Product.search([("template", "in", templates)], order=[]))
            changed.update(
                i.product.id
                for i in Identifier.search(
                    ["OR", ("write_date", ">", since), ("create_date", ">", since)], order=[]
                )
                if i.product
            )
            ids = sorted(changed)
    rows = []
    for start in range(0, len(ids), 1000):
        rows.extend(
            _product_rows(
                ids[start : start + 1000], Product, Template, Identifier, Category, CostPrice, ListPrice
            )
        )
    return rows


def _product_rows(ids, Product, Template, Identifier, Category, CostPrice, ListPrice):
    with Transaction().set_context(active_test=False):
        products = Product.read(ids, ["code", "template", "active", "write_date", "create_date"])
        template_ids = sorted({p["template"] for p in products})
        templates = {
            t["id"]: t
            for t in Template.read(
                template_ids,
                ["name", "station_family", "station_tracking", "categories", "write_date", "create_date"],
            )
        }
        category_ids = sorted({c for t in templates.values() for c in t["categories"][:1]})
        categories = {c["id"]: c["name"] for c in Category.read(category_ids, ["name"])}
        identifiers = {}
        for ident in Identifier.search_read(
            [("product", "in", ids)],
            order=[("id", "ASC")],
            fields_names=["product", "code", "type", "write_date", "create_date"],
        ):
            identifiers.setdefault(ident["product"], []).append(ident)
        company = Transaction().context.get("company")
        # With no company in the context (a bare RPC call), any company's price will do.
        by_company = [("company", "in", [company, None])] if company else []
        costs = {
            c["product"]: c["cost_price"]
            for c in CostPrice.search_read(
                [("product", "in", ids), *by_company],
                fields_names=["product", "cost_price"],
            )
            if c["cost_price"] is not None
        }
        lists = {
            lp["template"]: lp["list_price"]
            for lp in ListPrice.search_read(
                [("template", "in", template_ids), *by_company],
                fields_names=["template", "list_price"],
            )
            if lp["list_price"] is not None
        }
    rows = []
    for product in products:
        template = templates[product["template"]]
        own = identifiers.get(product["id"], [])
        stamps = [
            product["write_date"],
            product["create_date"],
            template["write_date"],
            template["create_date"],
        ]
        stamps += [i["write_date"] or i["create_date"] for i in own]
        value = costs.get(product["id"]) or lists.get(template["id"])
        rows.append(
            {
                "id": product["id"],
                "code": product["code"] or "",
                "name": template["name"],
                "family": template["station_family"],
                "category": categories.get(template["categories"][0], "") if template["categories"] else "",
                "barcodes": [i["code"] for i in own if i["type"] in ("ean", "upc", "isbn", None)],
                "unit_value": float(value) if value is not None else 0.0,
                "lot_tracked": template["station_tracking"] == "lot",
                "serial_tracked": template["station_tracking"] == "serial",
                "active": bool(product["active"]),
                "write_date": _stamp(stamps),
            }
        )
    return rows


def _pull_lots(since):
    Lot = Pool().get("stock.lot")
    lots = Lot.search(_changed(since, ""), order=[("id", "ASC")])
    return [
        {
            "id": lot.id,
            "number": lot.number,
            "product_id": lot.product.id,
            "expiration_date": str(lot.expiration_date) if getattr(lot, "expiration_date", None) else None,
            "recalled": bool(lot.recalled),
            "write_date": _stamp([lot.write_date, lot.create_date]),
        }
        for lot in lots
    ]


def _pull_returns(since):
    Return = Pool().get("stock.shipment.out.return")
    domain = _changed(since, "", "moves") if since else [("state", "in", ["draft", "received"])]
    rows = []
    shipments = Return.search(domain, order=[("id", "ASC")])
    moved = _move_stamps(shipments)
    for shipment in shipments:
        moves = [m for m in shipment.incoming_moves if m.state != "cancelled"]
        stamps = [shipment.write_date, shipment.create_date, *moved.get(shipment.id, ())]
        rows.append(
            {
                "id": shipment.id,
                "number": shipment.number or "",
                "rma": shipment.reference or "",
                "tracking": shipment.tracking_number,
                "order": shipment.returned_sale.number if shipment.returned_sale else None,
                "customer": shipment.customer.rec_name if shipment.customer else "",
                "reason": shipment.return_reason or "",
                "state": shipment.state,
                "review": shipment.station_review or None,  # a blind receipt, for a supervisor
                "lines": _move_lines(moves),
                # When its stages began, for the supervisor's queue ages (write_date is any change).
                "created_at": _instant(shipment.create_date),
                "received_at": _instant(shipment.station_received_at),
                "write_date": _stamp(stamps),
            }
        )
    return rows


def _pull_shipments(since):
    Shipment = Pool().get("stock.shipment.out")
    domain = _changed(since, "", "moves") if since else [("state", "in", ["waiting", "assigned", "picked"])]
    rows = []
    shipments = Shipment.search(domain, order=[("id", "ASC")])
    moved = _move_stamps(shipments)
    for shipment in shipments:
        moves = [m for m in shipment.inventory_moves if m.state != "cancelled"]
        stamps = [shipment.write_date, shipment.create_date, *moved.get(shipment.id, ())]
        rows.append(
            {
                "id": shipment.id,
                "number": shipment.number or "",
                "order": shipment.station_order,
                "reference": shipment.station_reference,
                "customer": shipment.customer.rec_name if shipment.customer else "",
                "state": shipment.state,
                "service_class": shipment.service_class or "standard",  # service_level.py
                "due_at": shipment.due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if shipment.due_at else None,
                "created_at": _instant(shipment.create_date),  # waiting to be packed since
                "lines": _move_lines(moves),
                "write_date": _stamp(stamps),
            }
        )
    return rows


def _pull_locations(since):
    Location = Pool().get("stock.location")
    return [
        {
            "id": loc.id,
            "code": loc.code or "",
            "name": loc.name,
            "state": loc.inventory_state or None,
            "write_date": _stamp([loc.write_date, loc.create_date]),
        }
        for loc in Location.search(_changed(since, ""), order=[("id", "ASC")])
    ]


def _pull_people(since):
    Person = Pool().get("returns.station.person")
    with Transaction().set_context(active_test=False):
        people = Person.search(_changed(since, ""), order=[("id", "ASC")])
    return [
        {
            "badge": p.badge,
            "name": p.name,
            "roles": sorted(p.roles or []),
            "pin_version": p.pin_version or 0,  # no PIN hash: stations ask signin.check
            "active": bool(p.active),
            "write_date": _stamp([p.write_date, p.create_date]),
        }
        for p in people
    ]


def _pull_approvals(since):
    Approval = Pool().get("returns.station.approval")
    domain = _changed(since, "") if since else [("state", "=", "pending")]
    rows = []
    for approval in Approval.search(domain, order=[("id", "ASC")]):
        row = approval.to_reference()
        row["write_date"] = _stamp([approval.write_date, approval.create_date])
        rows.append(row)
    return rows


def _pull_rules(since):
    """The disposition rules in force (rule_book.py), when they changed since ``since``."""
    RuleBook = Pool().get("returns.station.rule_book")
    if since is not None and not RuleBook.search(_changed(since, ""), limit=1, order=[]):
        return []  # no version written or published since: the usual answer, from one query
    current = RuleBook.current()
    if current is None:
        return []
    changed = max(d for d in (current.write_date, current.create_date) if d is not None)
    return [current.to_reference()] if since is None or changed > since else []


def _parse_cursor(value):
    if not value:
        return None
    text = str(value).replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _move_stamps(shipments):
    """{shipment id: the write and create stamps of ALL its moves}, in one read.

    A shipment's stamp must cover every move its ``moves.write_date`` domain matches (inventory
    and outgoing moves, cancelled ones too), not only the lines a station sees: else the cursor
    stays behind a move written later (a return's inventory moves at ``do``, an order's outgoing
    moves at ``pack``) and the shipment is sent again at every pull, for ever."""
    if not shipments:
        return {}
    Move = Pool().get("stock.move")
    stamps = {}
    for move in Move.search_read(
        [("shipment", "in", [str(s) for s in shipments])],
        fields_names=["shipment", "write_date", "create_date"],
        order=[],
    ):
        own = stamps.setdefault(int(move["shipment"].split(",")[1]), [])
        own += [d for d in (move["write_date"], move["create_date"]) if d is not None]
    return stamps


def _move_lines(moves):
    """A shipment's moves as reference-data lines (sync.reference ReturnLine / ShipmentLine)."""
    return [
        {
            "move_id": m.id,
            "product_id": m.product.id,
            "quantity": m.quantity,
            "lot": m.lot.number if m.lot else None,
        }
        for m in moves
    ]


def _instant(value):
    """A datetime as UTC ISO text (``YYYY-MM-DDTHH:MM:SSZ``), or None."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _stamp(values):
    stamps = [v for v in values if v is not None]
    if not stamps:
        return ""
    return max(stamps).strftime("%Y-%m-%d %H:%M:%S.%f")
