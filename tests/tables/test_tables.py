"""The tables' registry (autoreid.tables): the params keys each table's job depends on, and the
complexity files the tables print, per head."""
import pytest

from autoreid import tables
from autoreid.config import load_params


@pytest.mark.parametrize("name", ["1", 2, "6"])
def test_a_paper_tables_params_are_its_section_and_the_interval_settings(name):
    assert tables.keys(name) == [f"table{name}", "bootstrap", "seeds"]


def test_the_claims_tables_params_are_the_tables_it_compares_and_the_selection_rule():
    assert tables.keys("claims") == ["table1", "table3", "table4", "select.rule", "bootstrap", "seeds"]
    params = load_params("params/default.yaml")
    for key in tables.keys("claims"):  # each names a key of the profile
        node = params
        for part in key.split("."):
            node = node[part]


def test_the_complexities_the_tables_print_per_head():
    """reID head: every network of Table 1 (ResNets, published cells, searched runs, random cells)
    and the selected cells; PCB head: Table 4's networks."""
    params = load_params("params/default.yaml")
    t1 = params["table1"]
    runs = [f"{v}-run{r}" for v in t1["variants"] for r in range(1, t1["runs"] + 1)]
    randoms = [f"random_{s}-run{r}" for s in ("standard", "reid") for r in range(1, 3)]
    assert tables.complexities(params) == {
        "reid": sorted(t1["resnets"] + t1["published"] + runs + randoms + ["AutoReID", "Baseline"]),
        "pcb": ["Baseline", "DARTS_V2", "GDAS_V1"]}
    params["table4"]["archs"] = ["resnet50"]
    assert tables.complexities(params)["pcb"] == ["resnet50"]


def test_table4_declares_the_selected_cells_own_trainings_where_they_stand_as_themselves():
    """Rule `published`: Table 4's Baseline and Auto-ReID rows read the cells trained under their
    names, and no searched run; under a rule that picks a run, every searched run is declared."""
    from autoreid.tables import table4

    params = load_params("params/default.yaml")
    searched = [f for f in table4.inputs(params) if "/scratch/" in f and "-run" in f]
    assert len(searched) == 2 * 12  # metrics and details of the 12 searched runs
    params["select"]["rule"] = "published"
    declared = table4.inputs(params)
    for name in ("AutoReID", "Baseline"):
        assert f"results/tiny/evaluate/market1501/scratch/{name}/seed0/metrics.json" in declared
    assert not [f for f in declared if "/scratch/" in f and "-run" in f]
