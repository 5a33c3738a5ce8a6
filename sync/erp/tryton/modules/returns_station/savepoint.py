"""Savepoints inside the one transaction Tryton gives an RPC call."""

from trytond.transaction import Transaction


def begin_transaction(cursor):
    """Make sure the call's transaction is open before its first savepoint.

    SQLite (the embedded ERP) opens a transaction only before a write: a SAVEPOINT outside one
    starts a transaction of its own that its RELEASE commits, so each operation's effect would
    commit without its marker (found by bench/day.py). PostgreSQL is always in a transaction here.
    """
    if getattr(Transaction().connection, "in_transaction", True) is False:
        cursor.execute("BEGIN IMMEDIATE")


def open_savepoint(cursor, name):
    cursor.execute(f"SAVEPOINT {name}")


def release(cursor, name):
    cursor.execute(f"RELEASE SAVEPOINT {name}")


def rollback_to(cursor, name):
    """Undo everything since savepoint ``name`` and forget what the caches read inside it."""
    cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
    cursor.execute(f"RELEASE SAVEPOINT {name}")
    # Records read or written inside the savepoint may be cached: forget them.
    for cache in Transaction().cache.values():
        cache.clear()
