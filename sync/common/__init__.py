"""Code the station and the ERP module both run, so they decide the same.

Pure Python: nothing from ``app``, Tryton, Flet or HTTP (tests/test_layers.py checks this).

- :mod:`sync.common.vocabulary`: grades, dispositions and the inventory states they lead to,
  roles, return reasons.
- :mod:`sync.common.families`: product families and their inspection checklists.
- :mod:`sync.common.rules`: the disposition rules (parsing, validation, evaluation) and the
  packaged default rules file, ``default_rules.toml``.
- :mod:`sync.common.pins`: PIN hashing and verification (salted scrypt).
- :mod:`sync.common.gtin`: one function normalising article numbers to GTIN-14 (backed by biip).
"""
