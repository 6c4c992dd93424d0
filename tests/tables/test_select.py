import pytest

from autoreid.errors import UserError
from autoreid.select import choose

CANDIDATES = {
    "baseline-run1": {"mAP": 0.50, "rank1": 0.70}, "baseline-run2": {"mAP": 0.55, "rank1": 0.60},
    "baseline_reid-run1": {"mAP": 0.61, "rank1": 0.65}, "baseline_reid-run3": {"mAP": 0.58, "rank1": 0.80},
    "retrieval_reid-run1": {"mAP": 0.60, "rank1": 0.70},
}


def test_best_map_and_best_rank1():
    assert choose(CANDIDATES, "best_map") == {"AutoReID": "baseline_reid-run1",
                                              "Baseline": "baseline-run2"}
    assert choose(CANDIDATES, "best_rank1") == {"AutoReID": "baseline_reid-run3",
                                                "Baseline": "baseline-run1"}


def test_paper_rule_and_errors():
    assert choose(CANDIDATES, "paper") == {"AutoReID": "baseline_reid-run3",
                                           "Baseline": "baseline-run1"}
    with pytest.raises(UserError, match="unknown rule 'best_vibes'"):
        choose(CANDIDATES, "best_vibes")
    with pytest.raises(UserError, match="needs run"):
        choose({"baseline-run1": CANDIDATES["baseline-run1"]}, "paper")
    with pytest.raises(UserError, match="no 'baseline' search"):
        choose({"retrieval_reid-run1": CANDIDATES["retrieval_reid-run1"]}, "best_map")


def test_best_map_reid_never_picks_a_baseline_run_as_auto_reid():
    winning_baseline = {**CANDIDATES, "baseline-run4": {"mAP": 0.90, "rank1": 0.90}}
    assert choose(winning_baseline, "best_map") == {"AutoReID": "baseline-run4",
                                                    "Baseline": "baseline-run4"}
    reid = {"baseline_reid", "retrieval_reid"}
    assert choose(winning_baseline, "best_map_reid", reid) == {"AutoReID": "baseline_reid-run1",
                                                               "Baseline": "baseline-run4"}
    with pytest.raises(UserError, match="no run searched in the ReID space"):
        choose(winning_baseline, "best_map_reid", set())


def test_published_takes_the_released_cells_and_reads_no_search(tmp_path):
    import yaml

    from autoreid.experiments import Paths
    from autoreid.select import note, select
    from autoreid.space import genotypes
    from autoreid.tables import table4
    from helpers import ROOT

    params = yaml.safe_load((ROOT / "params" / "paper.yaml").read_text())
    params["results"] = str(tmp_path)
    assert params["select"]["rule"] == "published"
    record = select(params, Paths(str(tmp_path)).selection().rsplit("/", 1)[0])  # reads nothing
    assert record["AutoReID"] == {"arch": "AutoReID", "cell": "BASELINE_REID_SEARCH_SPACE",
                                  "genotype": "BASELINE_REID_SEARCH_SPACE"}
    assert record["Baseline"]["cell"] == "BASELINE"
    for name, cell in (("AutoReID", "BASELINE_REID_SEARCH_SPACE"), ("Baseline", "BASELINE")):
        saved = genotypes.load(Paths(str(tmp_path)).selected(name))
        assert (saved.normal, saved.reduce) == (genotypes.PUBLISHED[cell].normal,
                                                genotypes.PUBLISHED[cell].reduce)
    assert note(record).startswith("Auto-ReID = the released BASELINE_REID_SEARCH_SPACE cell, "
                                   "Baseline = the released BASELINE cell (selection rule `published`")
    # Table 4's plain Baseline and Auto-ReID rows: the released cells trained from scratch
    declared = table4.inputs(params)
    assert f"{tmp_path}/evaluate/market1501/scratch/AutoReID/seed0/metrics.json" in declared
    assert f"{tmp_path}/evaluate/market1501/scratch/Baseline/seed0/metrics.json" in declared
    assert not [p for p in declared if "-run" in p]
