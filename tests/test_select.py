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
