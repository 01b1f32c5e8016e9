import pytest
from dobj import ExecutionError

pytestmark = pytest.mark.dobj("../bank.js")


def test_a_transfer_moves_money_and_the_audit_balances(dobj):
    bank = dobj.get("BANK", "main")
    bank.open("ann", 100)
    bank.open("bob", 0)
    bank.transfer("ann", "bob", 30)
    assert (bank.balance("ann"), bank.balance("bob")) == (70, 30)
    assert bank.audit()["ok"] is True


def test_a_batch_with_one_bad_transfer_changes_nothing(dobj):
    bank = dobj.get("BANK", "main")
    bank.open("ann", 100)
    bank.open("bob", 0)
    with pytest.raises(ExecutionError, match="insufficient funds"):
        bank.transferAll([["ann", "bob", 60], ["ann", "bob", 60]])
    assert (bank.balance("ann"), bank.balance("bob")) == (100, 0)
