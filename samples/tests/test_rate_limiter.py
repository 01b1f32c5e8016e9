import pytest

pytestmark = pytest.mark.dobj("../rate-limiter.js")


def test_the_bucket_empties_then_refills_one_token_a_second(dobj):
    limiter = dobj.get("RATE_LIMITER", "client-1")
    verdicts = [limiter.take()["allowed"] for _ in range(6)]
    assert verdicts == [True] * 5 + [False]
    dobj.clock.advance("1s")
    assert limiter.tokens() == 1
    dobj.clock.advance("10s")
    assert limiter.tokens() == 5
