"""sync/common: the vocabulary agrees with itself and with the ERP module's selections, and PIN hashes
stored before the move verify."""

from sync.common.families import FAMILIES
from sync.common.pins import verify_pin
from sync.common.vocabulary import DISPOSITION_STATES, DISPOSITIONS, INVENTORY_STATES, RETURN_REASONS, ROLES

# Made by app/workflows/pins.py before it moved here: people's hashes in ERPs and stores look so.
STORED_BEFORE = (
    "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
    "cea4f1390f7e25d3e56e52eacd3a602cc3365139a2960ffded25685db19eb9ff"
)


def test_every_disposition_leads_to_a_known_inventory_state():
    assert set(DISPOSITION_STATES) == set(DISPOSITIONS)
    assert set(DISPOSITION_STATES.values()) <= set(INVENTORY_STATES)


def test_a_pin_hash_stored_before_the_move_still_verifies():
    assert verify_pin("2468", STORED_BEFORE)
    assert not verify_pin("2469", STORED_BEFORE)


def test_the_erp_modules_selections_use_the_shared_vocabulary():
    from sync.erp.tryton.modules.returns_station import lookups, person, product, stock

    def keys(selection):
        return [key for key, _ in selection if key is not None]

    assert keys(stock.INVENTORY_STATES) == list(INVENTORY_STATES)
    assert keys(stock.RETURN_REASONS) == list(RETURN_REASONS)
    assert keys(person.ROLES) == list(ROLES)
    assert keys(product.FAMILIES) == list(FAMILIES)
    assert lookups.DISPOSITION_STATES == DISPOSITION_STATES
