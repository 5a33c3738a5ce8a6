"""Savepoints inside the one transaction Tryton gives an RPC call."""

from trytond.transaction import Transaction


def open_savepoint(cursor, name):
    # On SQLite a SAVEPOINT outside a transaction starts one, and its RELEASE commits it: an
    # operation's effects would commit before its marker, and a call that fails later leaves them
    # in the ERP without a marker (a re-send then conflicts with itself). Open the transaction first.
    connection = Transaction().connection
    if getattr(connection, "in_transaction", True) is False:
        cursor.execute("BEGIN IMMEDIATE")
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
