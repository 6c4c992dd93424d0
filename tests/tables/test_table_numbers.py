"""Every number of Tables 1-6 is the value of the file its row names, after the table's own
scaling (fractions x 100) and rounding (one decimal, two below 1).

Each metrics, complexity and summary file gets values no other file has, so a swapped column, a
missing x100 or a row that reads another network's file all show. Which file a row reads is
written out here from the paper's tables and the documented layout (results/README.md), not taken
from the table code."""
import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from autoreid.cli import main
from autoreid.io import read_json
from helpers import ROOT

METRICS = ("mAP", "rank1", "rank5", "rank10", "mINP")
SELECTION = {"AutoReID": "retrieval_reid-run3", "Baseline": "baseline-run2"}


class World:
    """Fake results: files with distinct values, and a record of what each path holds."""

    def __init__(self, root: Path, seed: int = 0):
        self.root, self.rng, self.values, self.used = root, random.Random(seed), {}, set()
        self.table, self.reads = 0, {}  # the table being written out; table -> files it reads

    def read(self, rel: str) -> None:
        self.reads.setdefault(self.table, set()).add(rel)

    def _fresh(self, low: float, high: float) -> float:
        while True:
            v = round(self.rng.uniform(low, high), 6)
            if v not in self.used:
                self.used.add(v)
                return v

    def write(self, rel: str, payload: dict) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload))
        self.values[rel] = payload

    def metrics(self, rel: str) -> dict:
        """A metrics file and its per-query details (ten queries of five identities, each AP
        the file's mAP: the tables' numbers are the metrics files', the details give the spread)."""
        details = rel.replace(".json", ".details.json")
        self.read(rel), self.read(details)
        if rel not in self.values:
            m = {k: self._fresh(0.02, 0.98) for k in METRICS}
            self.write(rel, m)
            self.write(details, {"path": [f"q{i}.jpg" for i in range(10)], "pid": [1, 2, 3, 4, 5] * 2,
                                 "ap": [m["mAP"]] * 10, "first_hit": [1, 2] * 5,
                                 "inp": [m["mINP"]] * 10})
        return self.values[rel]

    def complexity(self, arch: str, head: str = "reid") -> dict:
        rel = f"complexity/{arch}-{head}.json"
        self.read(rel)
        if rel not in self.values:
            self.write(rel, {"params_M": self._fresh(1.5, 30.0), "flops_G": self._fresh(0.1, 5.0),
                             "head_params_M": self._fresh(0.1, 9.0)})
        return self.values[rel]

    def summary(self, rel: str) -> dict:
        self.read(rel)
        if rel not in self.values:
            self.write(rel, {"params_M": self._fresh(0.1, 9.0)})
        return self.values[rel]


def ev(benchmark: str, setting: str, arch: str, name: str = "metrics") -> str:
    """The metrics file of `arch`'s one training seed (seeds.count 1 in the default profile)."""
    return f"evaluate/{benchmark}/{setting}/{arch}/seed0/{name}.json"


def rounded(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


def pct(m: dict, key: str) -> float:
    return 100 * m[key]


def expected_tables(params: dict, w: World) -> dict[int, dict[str, dict[str, float]]]:
    """Table number -> row label -> column -> value, writing every file the rows read."""
    t1 = params["table1"]
    w.table = 1
    names = {"resnet18": "ResNet-18", "resnet34": "ResNet-34", "resnet50": "ResNet-50",
             "DARTS_V2": "DARTS", "GDAS_V1": "GDAS", "baseline": "Baseline",
             "baseline_reid": "Baseline + ReID Search Space",
             "retrieval_reid": "Retrieval + ReID Search Space",
             "random_standard": "Random cells (standard space)",
             "random_reid": "Random cells (ReID space)"}
    rows1 = [(names[a], a) for a in t1["resnets"] + t1["published"]]
    rows1 += [(f"{names['random_' + sp]} (run {r})", f"random_{sp}-run{r}") for sp in ("standard", "reid")
              for r in range(1, t1["random_cells"] + 1)]
    rows1 += [(f"{names.get(v, v)} (run {r})", f"{v}-run{r}") for v in t1["variants"]
              for r in range(1, t1["runs"] + 1)]
    table1 = {}
    for label, arch in rows1:
        m = w.metrics(ev("market1501", "scratch", arch))
        p = w.complexity(arch)
        table1[label] = {"mAP": pct(m, "mAP"), "R1": pct(m, "rank1"), "R5": pct(m, "rank5"),
                         "R10": pct(m, "rank10"), "Params (M)": p["params_M"],
                         "FLOPs (G)": p["flops_G"]}
    px = w.metrics("evaluate/market1501/pixels/metrics.json")
    table1["Raw pixels (reference, no network)"] = {
        "mAP": pct(px, "mAP"), "R1": pct(px, "rank1"), "R5": pct(px, "rank5"), "R10": pct(px, "rank10")}

    t2 = params["table2"]
    w.table = 2
    table2 = {}
    for i, variant in enumerate(t2["searches"]):
        for j, setting in enumerate(t2["settings"]):
            arch = f"{variant}-run{t2['run']}"
            m = w.metrics(ev("market1501", setting, arch))
            s = w.summary(f"train/market1501/{setting}/{arch}/seed0/summary.json")
            table2[f"{i},{j}"] = {"R1": pct(m, "rank1"), "mAP": pct(m, "mAP"),
                                  "Params (M)": s["params_M"]}

    table3 = {}
    w.table = 3
    for name, label in (("AutoReID", "Auto-ReID"), ("Baseline", "Baseline")):
        for suffix, file in (("", "metrics"), (" + RK", "metrics_rerank")):
            m = w.metrics(ev("market1501", "imagenet", name, file))
            table3[label + suffix] = {"R1": pct(m, "rank1"), "mAP": pct(m, "mAP"),
                                      "Params (M)": w.complexity(name)["params_M"]}

    table4 = {}
    w.table = 4
    label4 = {"DARTS_V2": "DARTS", "GDAS_V1": "GDAS", "Baseline": "Baseline"}
    for arch in params["table4"]["archs"]:
        plain = SELECTION.get(arch, arch)  # the selected Baseline: the Table 1 run it names
        w.complexity(arch, "pcb")  # read for the note only
        for label, file, profile in (  # +PCB: the plain network's size, as the paper prints
                (label4.get(arch, arch), ev("market1501", "scratch", plain), w.complexity(arch)),
                (label4.get(arch, arch) + "+PCB", ev("market1501", "pcb", arch), w.complexity(arch))):
            m = w.metrics(file)
            table4[label] = {"mAP": pct(m, "mAP"), "R1": pct(m, "rank1"),
                             "Params (M)": profile["params_M"], "FLOPs (G)": profile["flops_G"]}
    m = w.metrics(ev("market1501", "scratch", SELECTION["AutoReID"]))
    table4["Auto-ReID"] = {"mAP": pct(m, "mAP"), "R1": pct(m, "rank1"),
                           "Params (M)": w.complexity("AutoReID")["params_M"],
                           "FLOPs (G)": w.complexity("AutoReID")["flops_G"]}

    table5, table6 = {}, {}
    for name, label in (("AutoReID", "Auto-ReID"), ("Baseline", "Baseline")):
        w.table = 5
        lab = w.metrics(ev("cuhk03-labeled", "imagenet", name))
        det = w.metrics(ev("cuhk03-detected", "imagenet", name))
        table5[label] = {"Labeled R1": pct(lab, "rank1"), "Labeled mAP": pct(lab, "mAP"),
                         "Detected R1": pct(det, "rank1"), "Detected mAP": pct(det, "mAP")}
        w.table = 6
        ms = w.metrics(ev("msmt17", "imagenet", name))
        table6[label] = {"R1": pct(ms, "rank1"), "R5": pct(ms, "rank5"), "R10": pct(ms, "rank10"),
                         "mAP": pct(ms, "mAP")}
    return {1: table1, 2: table2, 3: table3, 4: table4, 5: table5, 6: table6}


def build(base: Path, *numbers: int):
    """Fake results under `base`, then `autoreid tables` for `numbers` (each test builds its own:
    a mutation tool then sees which test reaches which table)."""
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["results"] = str(base / "results")
    w = World(base / "results")
    expected = expected_tables(params, w)
    select = {"rule": params["select"]["rule"]}
    select.update({k: {"arch": a, "genotype": "g.yaml", "mAP": 0.5, "rank1": 0.5}
                   for k, a in SELECTION.items()})
    (base / "results" / "select").mkdir(parents=True)
    (base / "results" / "select" / "selection.yaml").write_text(yaml.safe_dump(select))
    (base / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["tables", "--params", str(base / "params.yaml"), "--table", *map(str, numbers),
                 "--out-dir", str(base / "tables")]) == 0
    return base / "tables", expected, params, w


def markdown_rows(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in ln.strip("|").split("|")))) for ln in lines[2:]]


@pytest.mark.parametrize("number", range(1, 7))
def test_every_number_is_its_files_value(tmp_path, number):
    folder, expected, params, _ = build(tmp_path, number)
    csv = pd.read_csv(folder / f"table{number}.csv")
    md = markdown_rows(folder / f"table{number}.md")
    assert len(md) == len(csv)
    key = "Method" if "Method" in csv.columns else "Architecture"
    if number == 2:
        n2 = len(params["table2"]["searches"])
        labels = [f"{i},{j}" for i in range(n2) for j in range(len(params["table2"]["settings"]))]
        assert len(csv) == len(labels)
    else:
        labels = list(csv[key])
    ours = {label: i for i, label in enumerate(labels) if not str(label).endswith("(quoted)")}
    assert set(ours) == set(expected[number]), (sorted(ours), sorted(expected[number]))
    for label, columns in expected[number].items():
        i = ours[label]
        for column, value in columns.items():
            assert csv[column][i] == pytest.approx(value, abs=1e-9), (number, label, column)
            assert md[i][column] == rounded(value), (number, label, column)


def test_the_paper_columns_quote_the_paper(tmp_path):
    folder, _, _, _ = build(tmp_path, 1, 3, 4, 5, 6)
    t1, t3, t4 = (pd.read_csv(folder / f"table{n}.csv") for n in (1, 3, 4))
    t5, t6 = (pd.read_csv(folder / f"table{n}.csv") for n in (5, 6))

    def row(df, key, label):
        return df[df[key] == label].iloc[0]

    assert row(t1, "Architecture", "Retrieval + ReID Search Space (run 4)")["paper mAP"] == 74.2
    assert row(t1, "Architecture", "ResNet-50")["paper Params"] == 25.1
    assert row(t3, "Method", "Auto-ReID + RK")["paper mAP"] == 94.2
    assert row(t3, "Method", "PCB + RK (quoted)")["paper mAP"] == 91.9
    assert tuple(row(t4, "Architecture", "Auto-ReID")[["paper mAP", "paper R1"]]) == (74.6, 90.7)
    assert row(t5, "Method", "Auto-ReID")["paper Detected mAP"] == 69.3
    assert row(t6, "Method", "Auto-ReID")["paper R1"] == 78.2
    assert row(t6, "Method", "Auto-ReID")["paper R5"] == 88.2


@pytest.mark.parametrize("number", range(1, 7))
def test_each_table_declares_exactly_the_files_it_reads(tmp_path, number):
    """What `inputs` returns is what the Snakefile asks for before the table rule runs."""
    from autoreid import tables

    _, _, params, w = build(tmp_path, number)
    root = params["results"] + "/"
    declared = [p.removeprefix(root) for p in tables.inputs(params, number)]
    expected = w.reads[number] | ({"select/selection.yaml"} if number >= 3 else set())
    if number == 4:  # its plain Baseline and Auto-ReID rows read the Table 1 runs the selection
        t1 = params["table1"]  # picks, which may be any searched run: it declares them all
        expected |= {ev("market1501", "scratch", f"{v}-run{r}", name) for v in t1["variants"]
                     for r in range(1, t1["runs"] + 1) for name in ("metrics", "metrics.details")}
    assert set(declared) == expected
    assert len(declared) == len(set(declared))


PAPER_COLUMNS = {  # table -> the order of the paper module's tuples
    1: ["paper mAP", "paper R1", "paper R5", "paper R10", "paper Params", "paper FLOPs"],
    3: ["Backbone", "paper Params", "paper R1", "paper mAP"],
    4: ["paper mAP", "paper R1", "paper Params", "paper FLOPs"],
    5: ["paper Labeled R1", "paper Labeled mAP", "paper Detected R1", "paper Detected mAP"],
    6: ["paper R1", "paper R5", "paper R10", "paper mAP"],
}


def same(a, b) -> bool:
    missing = (lambda v: v is None or (isinstance(v, float) and v != v))
    return (missing(a) and missing(b)) or str(a) == str(b) or a == b


@pytest.mark.parametrize("number", [1, 3, 4, 5, 6])
def test_paper_columns_of_every_row_and_the_quoted_rows(tmp_path, number):
    from autoreid.tables import paper

    folder, expected, _, _ = build(tmp_path, number)
    df = pd.read_csv(folder / f"table{number}.csv", dtype={"paper Params": str})
    key = "Method" if "Method" in df.columns else "Architecture"
    reference = {1: paper.TABLE1, 3: paper.TABLE3, 4: paper.TABLE4, 5: paper.TABLE5, 6: paper.TABLE6}[number]
    quoted = {f"{k} (quoted)": v for k, v in reference.items() if k not in expected[number]}
    labels = set(expected[number]) | (set(quoted) if number in (3, 5, 6) else set())
    assert set(df[key]) == labels
    for _, row in df.iterrows():
        label = row[key]
        ref = reference.get(label) or quoted.get(label)
        if ref is None:  # ours only (the raw-pixel reference row)
            assert all(same(row[c], None) for c in PAPER_COLUMNS[number] if c != "Backbone"), label
            continue
        for column, value in zip(PAPER_COLUMNS[number], ref):
            if number == 3 and column == "Backbone" and label in expected[3]:
                value = "searched"
            assert same(row[column], value), (number, label, column, row[column], value)


def test_rows_the_paper_has_not_get_empty_paper_columns(tmp_path):
    """A fourth Table 1 variant, a fifth Table 2 search and training setting, and a released cell
    without a label in Table 4: ours filled in, the paper's columns empty."""
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["search_variants"]["retrieval_reid_lam08"] = {"space": "reid", "loss": "retrieval",
                                                         "lam": 0.8}
    params["table1"]["variants"].append("retrieval_reid_lam08")
    params["table2"].update(  # the paper's 4 x 4 (the tiny profile runs its first 2 x 2) and a fifth
        searches=["baseline_reid_C4_l1111", "baseline_reid_C4_l2222", "baseline_reid",
                  "baseline_reid_C8_l2222", "retrieval_reid_lam08"],
        settings=["C4_l1111", "C4_l2222", "scratch", "C8_l2222", "C6"])
    params["train_settings"]["C6"] = {"C": 6}
    params["table4"]["archs"].append("BASELINE")
    params["results"] = str(tmp_path / "results")
    w = World(tmp_path / "results")
    expected = expected_tables(params, w)
    select = {"rule": "best_map", **{k: {"arch": a, "genotype": "g", "mAP": .5, "rank1": .5}
                                     for k, a in SELECTION.items()}}
    (tmp_path / "results" / "select").mkdir(parents=True)
    (tmp_path / "results" / "select" / "selection.yaml").write_text(yaml.safe_dump(select))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["tables", "--params", str(tmp_path / "params.yaml"), "--table", "1", "2", "4",
                 "--out-dir", str(tmp_path)]) == 0
    t1, t2, t4 = (pd.read_csv(tmp_path / f"table{n}.csv") for n in (1, 2, 4))
    new = t1[t1["Architecture"] == "retrieval_reid_lam08 (run 2)"].iloc[0]
    assert new["mAP"] == pytest.approx(expected[1]["retrieval_reid_lam08 (run 2)"]["mAP"])
    assert all(same(new[c], None) for c in PAPER_COLUMNS[1])
    assert t1[t1["Architecture"] == "ResNet-18"].iloc[0]["paper mAP"] == 66.0
    assert len(t2) == 25
    for i in range(5):
        for j in range(5):
            row = t2.iloc[5 * i + j]
            assert row["R1"] == pytest.approx(expected[2][f"{i},{j}"]["R1"])
            paper_cells = ("paper R1", "paper mAP", "paper Params")
            if i < 4 and j < 4:
                from autoreid.tables import paper
                assert tuple(row[list(paper_cells)]) == paper.TABLE2[i][j]
            else:
                assert all(same(row[c], None) for c in paper_cells), (i, j)
    cell = t4[t4["Architecture"] == "BASELINE"].iloc[0]
    assert cell["mAP"] == pytest.approx(expected[4]["BASELINE"]["mAP"])
    assert all(same(cell[c], None) for c in PAPER_COLUMNS[4])
    assert "BASELINE+PCB" in set(t4["Architecture"])


def test_table2_names_each_search_and_training_configuration(tmp_path):
    folder, _, params, _ = build(tmp_path, 2)
    t2 = pd.read_csv(folder / "table2.csv")
    t = params["table2"]
    for i, variant in enumerate(t["searches"]):
        search = {**params["search"], **params["search_variants"][variant]}
        for j, setting in enumerate(t["settings"]):
            train = {**params["train"], **params["train_settings"][setting]}
            row = t2.iloc[len(t["settings"]) * i + j]
            assert row["Search"] == f"C={search['C']}, l={list(search['layers'])}"
            assert row["Train"] == f"C={train['C']}, l={list(train['layers'])}"


def test_a_metrics_file_without_a_column_is_one_clear_error(tmp_path):
    from autoreid.errors import UserError
    from autoreid.tables import table1

    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["results"] = str(tmp_path / "results")
    expected_tables(params, World(tmp_path / "results"))
    bad = tmp_path / "results" / ev("market1501", "scratch", "resnet34")
    bad.write_text(json.dumps({k: 0.5 for k in METRICS if k != "rank5"}))
    with pytest.raises(UserError) as e:
        table1.write(params, str(tmp_path / "t1"))
    assert str(e.value) == "table 1: a metrics or complexity file lacks 'rank5'"


TITLES = {1: "Table 1: Market-1501 without ImageNet pre-training",
          2: "Table 2: search configuration x training configuration (Market-1501, no ImageNet)",
          3: "Table 3: Market-1501 with ImageNet pre-training",
          4: "Table 4: searched part-aware cells vs hand-placed PCB heads (Market-1501, no ImageNet)",
          5: "Table 5: CUHK03 (new protocol), labeled and detected", 6: "Table 6: MSMT17"}


@pytest.mark.parametrize("number", range(1, 7))
def test_titles_and_the_facts_in_the_notes(tmp_path, number):
    folder, _, params, _ = build(tmp_path, number)
    md = (folder / f"table{number}.md").read_text()
    tex = (folder / f"table{number}.tex").read_text()
    assert md.startswith(f"# {TITLES[number]}\n") and rf"\label{{tab:table{number}}}" in tex
    notes = "\n".join(line for line in md.splitlines() if line.startswith("- "))
    assert f"profile `{params['name']}`" in notes
    train, prof = params["train"], params["complexity"]
    facts = {
        1: [f"C={train['C']}, l={train['layers']}, {train['height']}x{train['width']}, "
            f"{train['epochs']} epochs", f"C={prof['C']}, l={prof['layers']}, {prof['height']}x"
            f"{prof['width']} input, {prof['num_classes']}-way classifier"],
        2: [f"run {params['table2']['run']}"],
        3: ["Auto-ReID = retrieval_reid-run3, Baseline = baseline-run2",
            f"rule `{params['select']['rule']}`", "k1=20, k2=6, λ=0.3", "synthetic ImageNet-layout"],
        4: ["6 horizontal stripes", "last stride 1", "softmax on each stripe"]
           + [f"{label}+PCB {p['params_M']:.2f} M (head {p['head_params_M']:.2f} M), "
              f"{p['flops_G']:.2f} G" for label, p in (
               ("DARTS", read_json(folder.parent / "results/complexity/DARTS_V2-pcb.json")),
               ("Baseline", read_json(folder.parent / "results/complexity/Baseline-pcb.json")))],
        5: ["Auto-ReID = retrieval_reid-run3, Baseline = baseline-run2", "setting `imagenet`",
            f"selection rule `{params['select']['rule']}`"],
        6: ["Auto-ReID = retrieval_reid-run3, Baseline = baseline-run2", "setting `imagenet`"],
    }
    for fact in facts[number]:
        assert fact in notes, (fact, notes)


COLUMNS = {  # ours with an interval beside mAP and R1, and n (training seeds); then the paper's
    1: ["Architecture", "mAP", "mAP 95% CI", "R1", "R1 95% CI", "R5", "R10", "n", "Params (M)",
        "FLOPs (G)", "paper mAP", "paper R1", "paper R5", "paper R10", "paper Params", "paper FLOPs"],
    2: ["Search", "Train", "R1", "R1 95% CI", "mAP", "mAP 95% CI", "n", "Params (M)", "paper R1",
        "paper mAP", "paper Params"],
    3: ["Method", "Backbone", "Params (M)", "R1", "R1 95% CI", "mAP", "mAP 95% CI", "n",
        "paper Params", "paper R1", "paper mAP"],
    4: ["Architecture", "mAP", "mAP 95% CI", "R1", "R1 95% CI", "n", "Params (M)", "FLOPs (G)",
        "paper mAP", "paper R1", "paper Params", "paper FLOPs"],
    5: ["Method", "Labeled R1", "Labeled R1 95% CI", "Labeled mAP", "Labeled mAP 95% CI",
        "Detected R1", "Detected R1 95% CI", "Detected mAP", "Detected mAP 95% CI", "n",
        "paper Labeled R1", "paper Labeled mAP", "paper Detected R1", "paper Detected mAP"],
    6: ["Method", "R1", "R1 95% CI", "R5", "R10", "mAP", "mAP 95% CI", "n", "paper R1", "paper R5",
        "paper R10", "paper mAP"],
}


@pytest.mark.parametrize("number", range(1, 7))
def test_columns_in_the_papers_order(tmp_path, number):
    folder, _, _, _ = build(tmp_path, number)
    assert list(pd.read_csv(folder / f"table{number}.csv").columns) == COLUMNS[number]


def test_table3_without_then_with_re_ranking_quoted_rows_first(tmp_path):
    """As in the paper: the literature rows, then ours, without RK; then the same with RK."""
    folder, _, params, _ = build(tmp_path, 3)
    methods = list(pd.read_csv(folder / "table3.csv")["Method"])
    quoted = [m for m in methods if m.endswith("(quoted)")]
    plain = [m for m in quoted if " + RK" not in m]
    rk = [m for m in quoted if " + RK" in m]
    assert methods == plain + ["Auto-ReID", "Baseline"] + rk + ["Auto-ReID + RK", "Baseline + RK"]
    assert plain[0] == "PAN (quoted)" and rk[0] == "TriNet + RK (quoted)" and len(rk) == 5


def test_table3_says_where_the_imagenet_weights_came_from(tmp_path):
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    for synthetic, source in ((True, "pre-trained on the synthetic ImageNet-layout folder, then"),
                              (False, "pre-trained on ImageNet, then")):
        params["datasets"]["imagenet"]["synthetic"] = synthetic
        params["results"] = str(tmp_path / "results")
        expected_tables(params, World(tmp_path / "results"))
        (tmp_path / "results" / "select").mkdir(parents=True, exist_ok=True)
        (tmp_path / "results" / "select" / "selection.yaml").write_text(yaml.safe_dump(
            {"rule": "paper", **{k: {"arch": a} for k, a in SELECTION.items()}}))
        from autoreid.tables import table3

        table3.write(params, str(tmp_path / "t3"))
        assert source in (tmp_path / "t3.md").read_text()


def test_intervals_carry_the_seed_noise_and_n(tmp_path):
    """One training a row: the interval is the queries' (none here: every query of a file has its
    mAP) and one training's seed noise, seeds.sd, around the row's value; n is 1."""
    folder, expected, params, _ = build(tmp_path, 1)
    t1 = pd.read_csv(folder / "table1.csv")
    row = t1[t1["Architecture"] == "ResNet-18"].iloc[0]
    half = 1.959964 * 100 * params["seeds"]["sd"]["mAP"]
    mAP = expected[1]["ResNet-18"]["mAP"]
    assert row["mAP 95% CI"] == f"[{mAP - half:.1f}, {mAP + half:.1f}]"
    assert row["n"] == 1
    pixels = t1[t1["Architecture"].str.startswith("Raw pixels")].iloc[0]  # no training: no seeds
    px = expected[1]["Raw pixels (reference, no network)"]["mAP"]
    assert pixels["mAP 95% CI"] == f"[{px:.1f}, {px:.1f}]" and pd.isna(pixels["n"])
    notes = (folder / "table1.md").read_text()
    assert "95% CI" in notes and "seeds.sd" in notes


def test_the_claims_and_beyond_tables_are_tables_and_an_unknown_one_is_named():
    from autoreid import tables
    from autoreid.config import load_params
    from autoreid.errors import UserError
    from autoreid.tables import beyond, claims

    params = load_params(ROOT / "params" / "default.yaml")
    assert tables.NAMES[-2:] == ("claims", "beyond")
    assert tables.inputs(params, "claims") == claims.inputs(params)
    assert tables.inputs(params, "beyond") == beyond.inputs(params)
    with pytest.raises(UserError) as e:
        tables.inputs(params, "9")
    assert str(e.value) == ("table 9: the tables are 1, 2, 3, 4, 5, 6, claims, beyond (the paper's "
                            "Tables 1-6, the claims table and the beyond-the-paper table)")
