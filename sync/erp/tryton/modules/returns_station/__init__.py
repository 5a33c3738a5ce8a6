"""Tryton module ``returns_station``: what Returns Station needs from the ERP that Tryton lacks.

Where every field of ``sync.reference`` lives in the ERP (model.field; read them with
``model.<model>.search_read`` as the station's ERP user, whose preferences carry the company):

Product  -> ``product.product``
    id            product.product.id
    code          product.product.code (the SKU, e.g. "APP-TEE-M-BLK"; template.code, no suffix)
    name          product.product.name
    family        product.product.station_family (function of product.template.station_family)
    category      product.product.station_category (name of the template's first product.category)
    barcodes      product.identifier.code where product.identifier.product = id and type = "ean"
                  (GTIN-13 or UPC-A; also reachable as product.product.identifiers)
    unit_value    product.product.station_unit_value (cost price, else list price; Numeric; per
                  company: the context's "company", else the user's company)
    lot_tracked   product.product.station_tracking == "lot"      (health: lot + expiry)
    serial_tracked product.product.station_tracking == "serial"  (electronics: one lot per unit)
    write_date    max(product.product.write_date, product.template.write_date)

Lot      -> ``stock.lot``
    id, number, product (-> product.product id), expiration_date (stock_lot_sled, a date or None),
    recalled (stock.lot.recalled, this module), write_date

Return   -> ``stock.shipment.out.return`` (customer return)
    id, number    stock.shipment.out.return.id / .number ("RET-1001" in the demo)
    rma           .reference            (e.g. "RMA-000123", printed as Code 128)
    tracking      .tracking_number      (this module; carrier tracking number, Code 128 on the parcel)
    order         .returned_sale.number (this module; Many2One sale.sale)
    customer      .customer.rec_name    (party.party)
    reason        .return_reason        (this module; a Selection key, see stock.RETURN_REASONS)
    state         .state                (draft / received / done / cancelled)
    lines         .incoming_moves (stock.move, customer -> warehouse input zone):
                  move_id = stock.move.id, product_id = .product, quantity = .quantity,
                  lot = .lot.number (stock.lot; the lot sold for health, the serial for electronics)
    write_date    .write_date

Shipment -> ``stock.shipment.out`` (order to pack)
    id, number, state (.number "OUT-1101": what the pick list's Code 128 holds; the demo's are
                  "assigned")
    order         .station_order (this module; the sale number of its outgoing moves' sale lines)
    customer      .customer.rec_name
    service_class .service_class / due_at .due_at (figures_data.py; from the sale's
                  station_service_class / station_due_at, service_level.py)
    lines         .inventory_moves (stock.move, storage zone -> output zone): move_id, product,
                  quantity, lot = .lot.number when the order requires a lot
    write_date    .write_date

Location -> ``stock.location``
    id, code, name, write_date
    state         .inventory_state (this module). The demo warehouse "WH":
                  input zone "IN" -> "received", storage zone "STO" -> "sellable",
                  "QUAR" Quarantine -> "quarantine", "REFURB" Refurbishment -> "refurbish",
                  "RTV" Return to Vendor -> "vendor_return" (these three are storage locations
                  INSIDE the storage zone: Tryton lets a return's inventory moves go only to the
                  storage zone's children or to a waste location; so Tryton's own warehouse
                  quantity counts them, a station counts only "sellable" as sellable),
                  "SCRAP" Scrap -> "disposed" (a lost_found location, the warehouse's waste
                  location). Others (customer, supplier, output...): None.

Person   -> ``returns.station.person`` (this module)
    badge, name, roles (MultiSelection of receiver/inspector/packer/supervisor), active,
    pin_version, write_date. The pull never sends ``pin_hash``: stations check PINs with
    ``returns.station.signin.check`` (signin.py) and keep a verifier per person who signed in
    there. Inactive people are hidden from searches unless the context says
    {"active_test": False} (the demo has one: U-GONE-1).

Quality: ``quality.control`` records are attached to the operation
``stock.shipment.out.return:do`` for the product categories that need inspection (see the demo
notes below). Tryton then refuses the return's ``do`` button until a ``quality.inspection``
(origin "stock.shipment.out.return,ID", control = that control) exists and is passed or failed.
``receive`` is not controlled, so receiving a return never waits for an inspection.

The demo dataset (sync/erp/tryton/demo.py) is described in demo.py's docstring: the RMAs that
will not match their box and how, the lot-tracked shipment, the expired and short-dated lots.

Where things are in this module:

    operation.py   ``returns.station.operation``: the exactly-once marker and the dispatcher
                   (RPC ``apply_batch``: one savepoint per operation) and RPC ``pull``
    handlers/      one module per operation type; ``handlers.HANDLERS`` maps (type, version) to
                   the handler that applies it (a new type: a new file and one line there)
    pull.py        the reference pull (``sync.reference`` shapes changed since each cursor)
    lookups.py     products, lots, returns and locations by the ids and names stations send
    service_level.py the sale's service class and due time, carried to its outgoing shipment
    sale_search.py ``returns.station.sale_search.find``: sales for an unannounced return (masked)
    tote.py        sort to tote: the sort location, totes as stock.package on an internal shipment
    packing.py     the pack algorithm (confirm_pack, and decide_approval for a held short pack)
    approval.py    ``returns.station.approval``, a Workflow whose transitions are data
    evidence.py    ``returns.station.evidence``: RPC ``gather`` (an evidence pack's records) and ``attach``
    access.py, access.xml  who may call what: the groups "Returns Station" (stations' ERP users:
                   the station-facing RPC methods only) and "Returns Supervisor"
    rule_book.py   ``returns.station.rule_book``: the disposition rules, versioned (RPC ``publish``,
                   ``show``); the version an inspection is checked with (``rules_for``)
    signin.py      ``returns.station.signin``: RPC ``check`` (a PIN, counting wrong ones per badge
                   across stations, answering a verifier) and ``unlock``
    trust.py       what the ERP checks on every operation whatever its payload says (the badge
                   and its role; the station its login speaks for; the payload fingerprint kept on
                   the marker)
    station_user.py the station id each station user speaks for (``res.user.returns_station_id``)
                   and RPC ``returns.station.identity.speaks_for``
    person.py, product.py, stock.py, quality.py: fields this module adds to Tryton's models

Registration: every class is registered by :func:`register` below.
"""

from trytond.pool import Pool

from . import (
    access,
    alerts,
    approval,
    clock,
    evidence,
    figures,
    figures_data,
    operation,
    person,
    product,
    quality,
    rule_book,
    sale_search,
    service_level,
    signin,
    station_status,
    station_user,
    stock,
    tote,
)


def register() -> None:
    Pool.register(
        person.Person,
        product.Template,
        product.Product,
        stock.Location,
        stock.Lot,
        stock.ShipmentOut,
        stock.ShipmentOutReturn,
        stock.Move,
        quality.Inspection,
        operation.Operation,
        approval.Approval,
        clock.Clock,
        evidence.Evidence,
        figures_data.Sale,
        figures_data.ShipmentOutReturn,
        figures_data.Move,
        figures_data.ShipmentOut,
        figures_data.FiguresConfiguration,
        figures_data.Operation,
        figures.Figures,
        alerts.Alert,
        station_status.StationStatus,
        station_status.StationRefusalCount,
        station_user.User,
        station_user.Identity,
        service_level.Sale,
        sale_search.SaleSearch,
        rule_book.RuleBook,
        rule_book.RulesConfiguration,
        signin.PinTry,
        signin.SignIn,
        tote.Move,
        tote.Package,
        module="returns_station",
        type_="model",
    )
    Pool.register(
        # Rules on users and groups know the current user (a station user sees only itself).
        access.Rule,
        module="returns_station",
        type_="model",
    )
