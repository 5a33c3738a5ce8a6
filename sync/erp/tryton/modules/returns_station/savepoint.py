"""Savepoints inside the one transaction Tryton gives an RPC call."""

from trytond.transaction import Transaction


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
