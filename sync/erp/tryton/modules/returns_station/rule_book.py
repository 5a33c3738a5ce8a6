"""The disposition rules held in the ERP: versioned, one current, pulled by every station.

``returns.station.rule_book`` keeps every rules file ever published (``version``, ``text``,
``sha256``, who published it and when, and when a newer one superseded it); exactly one has no
``superseded_at``: the current one. Install seeds it with the packaged
``sync/common/default_rules.toml``. A supervisor (group "Returns Supervisor") or an administrator
publishes a new version through RPC ``publish(text)`` (``station erp rules publish FILE``); a file
the parser refuses is refused with its line and reason, and a version already published is refused
too (a version names one text for good). Stations receive the current one in the pull
(pull.py ``_pull_rules``) and decide with it.

The ERP re-evaluates every inspection with :func:`rules_for` (handlers/inspect_item.py): the
version the station names while it is current or was superseded less than the grace period ago
(``returns.station.rules.configuration.grace_days``, default 7), else the current one.
"""

import datetime as dt
import hashlib

from sql.aggregate import Count
from trytond.model import ModelSingleton, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from sync.common.rules import DEFAULT_RULES_PATH, RulesError, parse_rules

from .access import SUPERVISOR_GROUP, in_group
from .exceptions import StationRefusal

DEFAULT_GRACE_DAYS = 7


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # Tryton stamps records in UTC


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RuleBook(ModelSQL, ModelView):
    "Station Disposition Rules"

    __name__ = "returns.station.rule_book"
    _rec_name = "version"

    version = fields.Char("Version", required=True, readonly=True)
    text = fields.Text("Rules (TOML)", required=True, readonly=True)
    sha256 = fields.Char("SHA-256", required=True, readonly=True)
    published_by = fields.Char("Published By", readonly=True)
    published_at = fields.DateTime("Published At", required=True, readonly=True)
    superseded_at = fields.DateTime(
        "Superseded At", readonly=True, help="When a newer version was published (empty: the current one)."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("version_unique", Unique(t, t.version), "Each rules version is published once."),
        ]
        cls._order = [("published_at", "DESC"), ("id", "DESC")]
        cls.__rpc__.update(
            {
                "publish": RPC(readonly=False, check_access=False),
                "show": RPC(readonly=True, check_access=False),
            }
        )

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        # Seeded at install with the packaged rules, so the ERP decides from its first operation.
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Count(table.id)))
        if cursor.fetchone()[0]:
            return
        text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
        rules = parse_rules(text, source=str(DEFAULT_RULES_PATH))
        now = _now()
        cursor.execute(
            *table.insert(
                [
                    table.version,
                    table.text,
                    table.sha256,
                    table.published_by,
                    table.published_at,
                    table.create_uid,
                    table.create_date,
                ],
                [[rules.version, text, sha256(text), "packaged default", now, 0, now]],
            )
        )

    @classmethod
    def current(cls):
        """The rules version in force (the one no newer version superseded)."""
        found = cls.search([("superseded_at", "=", None)], limit=1)
        if not found:  # only if someone emptied the table: the packaged rules
            found = cls.search([], limit=1)
        return found[0] if found else None

    def to_reference(self):
        """What a station pulls: ``sync.reference.Rules``."""
        changed = self.write_date or self.create_date
        return {
            "version": self.version,
            "text": self.text,
            "sha256": self.sha256,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(timespec="seconds") if self.published_at else None,
            "write_date": changed.strftime("%Y-%m-%d %H:%M:%S.%f") if changed else "",
        }

    @classmethod
    def check_publisher(cls, method):
        User = Pool().get("res.user")
        if Transaction().user == 0 or User.is_administrator() or in_group(SUPERVISOR_GROUP):
            return
        raise AccessError(
            f'You are not allowed to call {method}: only users of the group "Returns Supervisor" '
            "(or an administrator) publish disposition rules"
        )

    @classmethod
    def publish(cls, text):
        """Make ``text`` the rules in force; returns the new version's reference record.

        Raises StationRefusal (a UserError) with the parser's line and reason for an invalid file,
        and for a version that was already published."""
        cls.check_publisher("returns.station.rule_book.publish")
        try:
            rules = parse_rules(text, source="the rules file")
        except RulesError as exc:
            raise StationRefusal(f"rules not published: {exc}") from None
        with Transaction().set_context(_check_access=False):
            same = cls.search([("version", "=", rules.version)], limit=1)
            if same:
                raise StationRefusal(
                    f"rules not published: version {rules.version} was already published on "
                    f"{same[0].published_at:%Y-%m-%d %H:%M} UTC; give the new file a new version"
                )
            User = Pool().get("res.user")
            user = User(Transaction().user)
            now = _now()
            superseded = cls.search([("superseded_at", "=", None)])
            if superseded:
                cls.write(superseded, {"superseded_at": now})
            (book,) = cls.create(
                [
                    {
                        "version": rules.version,
                        "text": text,
                        "sha256": sha256(text),
                        "published_by": user.login if Transaction().user else "root",
                        "published_at": now,
                    }
                ]
            )
            return book.to_reference()

    @classmethod
    def show(cls):
        """The current rules version (reference shape) and the versions still within the grace
        period: what ``station erp rules show`` prints."""
        cls.check_publisher("returns.station.rule_book.show")
        with Transaction().set_context(_check_access=False):
            current = cls.current()
            grace = grace_days()
            since = _now() - dt.timedelta(days=grace)
            recent = cls.search([("superseded_at", ">", since)])
            return {
                "current": current.to_reference() if current else None,
                "grace_days": grace,
                "accepted": [b.version for b in recent],
            }


class RulesConfiguration(ModelSingleton, ModelSQL, ModelView):
    "Returns Station Rules Configuration"

    __name__ = "returns.station.rules.configuration"

    grace_days = fields.Integer(
        "Grace Period (days)",
        help="An inspection decided with a rules version superseded less than this long ago is "
        "checked with that version (a station that was offline during a publish is not overruled).",
    )

    @staticmethod
    def default_grace_days():
        return DEFAULT_GRACE_DAYS


def grace_days():
    Configuration = Pool().get("returns.station.rules.configuration")
    value = Configuration(1).grace_days
    return DEFAULT_GRACE_DAYS if value is None else max(0, int(value))


_PARSED = {}  # sha256 -> RuleSet: a version's text never changes, so parse it once per process


def _parsed(book):
    rules = _PARSED.get(book.sha256)
    if rules is None:
        rules = _PARSED[book.sha256] = parse_rules(book.text, source=f"rules {book.version}")
    return rules


def rules_for(version):
    """``(RuleSet, why)``: the rules the ERP checks an inspection with. The version the station
    names when it is current or was superseded less than the grace period ago; else the current
    one, ``why`` saying so in a supervisor's words (None when the station's version was used)."""
    RuleBook = Pool().get("returns.station.rule_book")
    with Transaction().set_context(_check_access=False):
        current = RuleBook.current()
        if current is None:  # an emptied table: the packaged rules
            text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
            return parse_rules(text, source=str(DEFAULT_RULES_PATH)), None
        if not version or version == current.version:
            return _parsed(current), None
        named = RuleBook.search([("version", "=", version)], limit=1)
        if not named:
            return _parsed(current), f"the ERP holds no rules version {version}"
        grace = grace_days()
        superseded = named[0].superseded_at
        if superseded is not None and _now() - superseded <= dt.timedelta(days=grace):
            return _parsed(named[0]), None
        when = f" on {superseded:%Y-%m-%d}" if superseded else ""
        return _parsed(current), (
            f"rules version {version} was superseded{when} by {current.version}, more than {grace} days ago"
        )
