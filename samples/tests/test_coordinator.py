import pytest

pytestmark = pytest.mark.dobj("../coordinator.js")


def test_votes_cast_at_stations_add_up_in_the_results(dobj):
    election = dobj.get("COORDINATOR", "mayor")
    election.open(["north", "south"])
    for station, candidate in [("north", "kim"), ("north", "lee"), ("south", "kim")]:
        election.vote(station, candidate)
    results = election.results()
    assert results["total"] == {"kim": 2, "lee": 1}
    assert results["byStation"]["north"] == {"kim": 1, "lee": 1}
    assert dobj.get("STATION", "mayor:south").counts() == {"kim": 1}
