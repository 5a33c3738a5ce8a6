"""Alerts that act: Tryton ``quality.alert`` records opened by the figures, one per condition.

Evaluated after each applied batch (figures_data.Operation.apply_batch) and by the idempotent RPC
``model.returns.station.figures.evaluate_alerts(options, context)``. Each alert carries a key
(``station_key``): while an alert with that key is not resolved, the condition opens no other; a
resolved one lets it open again after the return-rate window has passed.

Conditions (thresholds in ``returns.station.figures.configuration``):
- ``return_rate:<SKU>`` — over the last ``alert_days`` days, a SKU's units returned / units sold is
  above ``alert_return_rate`` with at least ``alert_min_units`` returned (origin: the product);
- ``quarantine:<SKU>`` — units of a SKU in quarantine for more than ``alert_quarantine_days`` days;
- ``exposure`` — value refunded for returns not yet received above ``alert_exposure``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .figures import compute

OPEN_STATES = ("open", "processing", "deferred")


class Alert(metaclass=PoolMeta):
    __name__ = "quality.alert"

    station_key = fields.Char("Station Key", readonly=True, help="The condition that opened this alert.")

    @classmethod
    def _get_origins(cls):
        return super()._get_origins() + ["product.product", "stock.shipment.out.return", "company.company"]

    @classmethod
    def station_open_alerts(cls):
        """Open station alerts, oldest first: ``[{"key", "number", "title", "state", "opened"}]``."""
        with Transaction().set_context(_check_access=False):
            alerts = cls.search(
                [("station_key", "!=", None), ("state", "in", OPEN_STATES)], order=[("id", "ASC")]
            )
            return [
                {
                    "key": a.station_key,
                    "number": a.number,
                    "title": a.title or "",
                    "state": a.state,
                    "opened": a.create_date.strftime("%Y-%m-%dT%H:%M:%SZ") if a.create_date else None,
                }
                for a in alerts
            ]

    @classmethod
    def station_evaluate(cls, options=None):
        """Open an alert for each condition that holds and has none open; the keys opened."""
        options = options or {}
        pool = Pool()
        Config = pool.get("returns.station.figures.configuration")
        Company = pool.get("company.company")
        Product = pool.get("product.product")
        with Transaction().set_context(_check_access=False, active_test=False):
            config = Config(1)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            as_of = options.get("as_of") or now.strftime("%Y-%m-%dT%H:%M:%S")
            days = int(config.alert_days or 14)
            today = dt.date.fromisoformat(as_of[:10])
            figures = compute(
                {
                    "from": (today - dt.timedelta(days=days - 1)).isoformat(),
                    "to": today.isoformat(),
                    "as_of": as_of,
                }
            )
            company = Transaction().context.get("company") or Company.search([], limit=1)[0].id
            products = {p.code: p for p in Product.search([])}
            wanted = []
            threshold = float(config.alert_return_rate or 0)
            for row in figures["reasons"]["return_rate"]:
                if row["rate"] is None or row["rate"] <= threshold:
                    continue
                if row["returned"] < (config.alert_min_units or 0) or row["sku"] not in products:
                    continue
                wanted.append(
                    (
                        f"return_rate:{row['sku']}",
                        str(products[row["sku"]]),
                        f"Return rate of {row['sku']}: {row['rate']:.0%} over {days} days",
                        f"{row['returned']:g} units returned, {row['sold']:g} sold in the {days} days to"
                        f" {today}. Reasons: {_reasons_of(figures, row['sku'])}.",
                    )
                )
            for sku, oldest, units in _old_quarantine(figures, config):
                if sku in products:
                    wanted.append(
                        (
                            f"quarantine:{sku}",
                            str(products[sku]),
                            f"{units} unit(s) of {sku} in quarantine for over {oldest} days",
                            "Decide: refurbish, return to vendor or dispose.",
                        )
                    )
            exposure = figures["exposure"]
            if config.alert_exposure is not None and Decimal(str(exposure["value"])) > config.alert_exposure:
                wanted.append(
                    (
                        "exposure",
                        f"company.company,{company}",
                        f"Refunded before receipt: {exposure['value']:.2f} on {exposure['returns']} returns",
                        f"Above the threshold of {config.alert_exposure}; oldest refund"
                        f" {exposure['oldest_days']} days ago.",
                    )
                )
            opened = []
            existing = cls.search([("station_key", "in", [w[0] for w in wanted])]) if wanted else []
            recent = now - dt.timedelta(days=days)
            blocked = {
                a.station_key
                for a in existing
                if a.state in OPEN_STATES or (a.write_date or a.create_date or now) > recent
            }
            to_create = []
            for key, origin, title, description in wanted:
                if key in blocked:
                    continue
                blocked.add(key)
                to_create.append(
                    {
                        "company": company,
                        "origin": origin,
                        "title": title[:200],
                        "description": description,
                        "station_key": key,
                    }
                )
                opened.append(key)
            if to_create:
                cls.create(to_create)
            return opened


def _reasons_of(figures, sku) -> str:
    reasons = figures["reasons"]["by_sku_reason"].get(sku, {})
    return ", ".join(f"{reason} {units:g}" for reason, units in sorted(reasons.items())) or "none recorded"


def _old_quarantine(figures, config):
    """(SKU, oldest days, units) of the quarantine held longer than the configured days."""
    limit = int(config.alert_quarantine_days or 7)
    return [
        (row["sku"], row["oldest_days"], row["units"])
        for row in figures["backlog"]["quarantine_by_sku"]
        if row["oldest_days"] is not None and row["oldest_days"] > limit
    ]
