"""Random storage operations against a plain Python model (the read cache must stay exact)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dobj

BUNDLE = """
class Model {
  constructor(state) { this.s = state.storage; }
  apply(ops) {
    const out = [];
    for (const [op, key, value] of ops) {
      if (op === "put") this.s.put(key, value);
      else if (op === "get") out.push(this.s.get(key) ?? null);
      else if (op === "delete") out.push(this.s.delete(key));
      else if (op === "list") out.push(this.s.list({ prefix: key }));
      else if (op === "deleteAll") this.s.deleteAll();
      else if (op === "txnFail") {
        try { this.s.transaction(() => { this.s.put(key, value); this.s.delete("a"); throw new Error("x"); }); }
        catch (e) {}
      }
    }
    return out;
  }
}
exports.objects = { Model };
"""

keys = st.sampled_from(["a", "b", "a%", "a_b", "ab", "A", "\\", "é", "k" * 40])
values = st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=8), st.booleans(), st.none(),
                   st.lists(st.integers(0, 9), max_size=3))
ops = st.lists(st.one_of(
    st.tuples(st.just("put"), keys, values),
    st.tuples(st.just("get"), keys, st.none()),
    st.tuples(st.just("delete"), keys, st.none()),
    st.tuples(st.just("list"), st.sampled_from(["", "a", "a%", "A"]), st.none()),
    st.tuples(st.just("deleteAll"), st.none(), st.none()),
    st.tuples(st.just("txnFail"), keys, values),
), max_size=25)


def model_apply(model: dict, batch) -> list:
    out = []
    for op, key, value in batch:
        if op == "put":
            model[key] = value
        elif op == "get":
            out.append(model.get(key))
        elif op == "delete":
            out.append(key in model)
            model.pop(key, None)
        elif op == "list":
            out.append({k: model[k] for k in sorted(model, key=lambda k: k.encode()) if k.startswith(key)})
        elif op == "deleteAll":
            model.clear()
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(ops, min_size=1, max_size=4))
def test_storage_matches_a_model_across_reopen(bundle, tmp_path_factory, batches):
    path = bundle(BUNDLE, "model.js")
    data = tmp_path_factory.mktemp("data")
    model: dict = {}
    for i, batch in enumerate(batches):
        with dobj.Runtime.load(path, data=data) as rt:
            obj = rt.get("MODEL", "m")
            expected = model_apply(model, batch)
            got = obj.apply([list(op) for op in batch])
            assert json.dumps(got, sort_keys=False) == json.dumps(expected, sort_keys=False)
            assert dict(obj.storage) == model
