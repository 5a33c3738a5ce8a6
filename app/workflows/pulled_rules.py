"""The rules a station decides with: the version published in the ERP, pulled into the store.

The ERP holds the disposition rules (versioned, one current) and sends the current version in the
pull; a station never reads a rules file of its own. Before its first pull a station decides with
the packaged ``sync/common/default_rules.toml`` (the ERP's first version is that same file).
"""

from __future__ import annotations

from typing import Any

from sync.common.rules import RuleBook, RuleSet


class PulledRuleBook(RuleBook):
    """A :class:`RuleBook` that follows the store: each use checks (one small query) whether a
    newer version was pulled and puts it in force. A pulled text this station cannot parse (a
    newer rules format) keeps the last valid rules and sets ``last_error``."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._seen: str | None = None
        self._rules: RuleSet | None = None
        super().__init__()

    @property
    def current(self) -> RuleSet:
        pulled = self._store.rules()
        digest = pulled["sha256"] if pulled else None
        if digest is not None and digest != self._seen:
            self._seen = digest
            self.load_text(pulled["text"], source=f"rules {pulled['version']} from the ERP")
        assert self._rules is not None
        return self._rules

    @current.setter
    def current(self, rules: RuleSet) -> None:
        self._rules = rules
