import pytest


@pytest.mark.dobj("../counter.js")
def test_each_counter_counts_on_its_own(dobj):
    a, b = dobj.get("COUNTER", "a"), dobj.get("COUNTER", "b")
    a.increment(2)
    assert a.increment(3) == 5
    assert b.increment() == 1
    assert dict(a.storage) == {"count": 5}
