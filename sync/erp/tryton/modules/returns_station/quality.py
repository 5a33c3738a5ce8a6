"""What a station's inspection records on Tryton's ``quality.inspection`` (handlers/inspect_item.py)."""

from trytond.model import fields
from trytond.pool import PoolMeta


class Inspection(metaclass=PoolMeta):
    __name__ = "quality.inspection"

    station_operation = fields.Char("Station Operation", readonly=True)
    station_grade = fields.Char("Grade", readonly=True)
    station_checklist = fields.Text("Checklist", readonly=True)
    station_disposition = fields.Char("Disposition", readonly=True)
    station_rule = fields.Char("Rule", readonly=True)
    station_rules_version = fields.Char("Rules Version", readonly=True)
    station_refund = fields.Text("Refund", readonly=True)
    station_note = fields.Text("Note", readonly=True)
    # What the ERP's own rules decided (rules_check.py), with the version it checked with, and
    # why it held the unit when the station's decision differed (empty when they agree).
    station_erp_rules_version = fields.Char("Rules Version Checked", readonly=True)
    station_erp_decision = fields.Text("ERP Decision", readonly=True)
    station_erp_check = fields.Text("ERP Override", readonly=True)
