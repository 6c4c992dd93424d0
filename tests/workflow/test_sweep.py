"""The sweep's reading of `dvc exp show --json`: one point per experiment, named as DVC names it."""
from autoreid.sweep import _collect, points

SHA = "27fb5fd0c1e2a3b4c5d6e7f8091a2b3c4d5e6f70"


def exp(rev, lam, mAP, name=None, status="Success", children=()):
    return {"rev": rev, "name": name, "experiments": [{"revs": list(children)}] if children else None,
            "data": {"rev": rev, "status": status,
                     "params": {"p.yaml": {"data": {"search": {"lam": lam}}}},
                     "metrics": {"m.json": {"data": {"mAP": mAP}}}}}


def test_points_are_named_and_sorted_and_failed_runs_left_out():
    shown = [exp("workspace", 0.5, 0.54),
             exp(SHA, 0.5, 0.50, children=[exp(SHA.replace("2", "9"), 0.9, 0.61, name="finer-roux"),
                                            exp(SHA.replace("2", "8"), 0.1, 0.30),
                                            exp(SHA.replace("2", "7"), 0.3, 0.99, status="Failed")])]
    found = []
    _collect(shown, found)
    assert [e["name"] for e in found] == ["workspace", "27fb5fd", "finer-roux", "87fb5fd"]
    assert points(found, "p.yaml:search.lam", "m.json:mAP") == [
        (0.1, 0.30, "87fb5fd"), (0.5, 0.54, "workspace"), (0.9, 0.61, "finer-roux")]
