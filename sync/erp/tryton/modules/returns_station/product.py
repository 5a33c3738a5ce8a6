"""What a station needs to know about a product: its family and how units are tracked."""

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from sync.common import families

FAMILIES = [(None, ""), *((name, spec.label) for name, spec in families.FAMILIES.items())]
TRACKING = [
    ("none", "None"),
    ("lot", "Lot and expiry"),
    ("serial", "Serial number (one lot per unit)"),
]


class Template(metaclass=PoolMeta):
    __name__ = "product.template"

    station_family = fields.Selection(FAMILIES, "Station Family")
    station_tracking = fields.Selection(TRACKING, "Station Tracking", required=True)

    @classmethod
    def default_station_tracking(cls):
        return "none"


class Product(metaclass=PoolMeta):
    __name__ = "product.product"

    station_family = fields.Function(
        fields.Selection(FAMILIES, "Station Family"), "get_template_field", searcher="search_template_field"
    )
    station_tracking = fields.Function(
        fields.Selection(TRACKING, "Station Tracking"), "get_template_field", searcher="search_template_field"
    )
    station_category = fields.Function(fields.Char("Station Category"), "get_station_category")
    station_unit_value = fields.Function(
        fields.Numeric("Station Unit Value", digits=(12, 4)), "get_station_unit_value"
    )

    def get_template_field(self, name):
        return getattr(self.template, name)

    @classmethod
    def search_template_field(cls, name, clause):
        return [("template." + clause[0], *clause[1:])]

    def get_station_category(self, name):
        categories = self.template.categories
        return categories[0].name if categories else None

    def get_station_unit_value(self, name):
        # The company's cost price, else the list price: what one unit is worth to the business.
        # Both are per company: without one in the context, use the user's (an RPC call has none).
        context = Transaction().context
        company = context.get("company")
        if company is None:
            user = Pool().get("res.user")(Transaction().user)
            company = user.company.id if getattr(user, "company", None) else None
        with Transaction().set_context(company=company):
            product = self.__class__(self.id)
            return product.cost_price or product.list_price
