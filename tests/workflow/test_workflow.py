"""The Snakemake DAG: plans for both profiles, and a real run of a small slice of the six tables and
the claims (made once, in a module fixture; each test checks one thing of it)."""
import pytest
import yaml

from helpers import ROOT, jobs, slice_params, snakemake


@pytest.mark.smoke
def test_default_profile_plans_table1(tmp_path):
    proc = snakemake("-n", "tables", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = jobs(proc.stdout)
    # Table 1 + Table 2's own (2 x 2) + the beyond table's robust searches (2 variants x 2 runs)
    assert counts["search"] == 12 + 2 + 4 and counts["derive"] == 18
    # Table 1 (17, and 2 x 2 random cells), Table 2 (4), Table 3 (2),
    # Table 4 (3 PCB), Auto-ReID and Baseline on CUHK03 labeled/detected and MSMT17 (6); beyond
    # the paper: Auto-ReID under its name from scratch, it and ResNet-50 under the modern recipe,
    # ResNet-18 with each of 6 ingredients, the 4 robust searches' cells (13)
    assert counts["train"] == 17 + 4 + 4 + 2 + 3 + 6 + 13 and counts["random"] == 4
    assert counts["pretrain"] == 2 and counts["evaluate_rerank"] == 2  # Table 3: Auto-ReID, Baseline
    # each trained network is evaluated (features, scores, and re-ranked scores) in one job
    assert counts["evaluate"] + counts["evaluate_rerank"] == counts["train"]
    assert counts["evaluate_pixels"] == 1 and "extract" not in counts
    assert counts["synth"] == 4 and counts["pack"] == 4
    assert counts["prepare"] == 2 and counts["prepare_cuhk03"] == 2  # Market, MSMT17; CUHK03 x2
    assert counts["table"] == 6 and counts["claims"] == 1 and counts["select"] == 1
    assert counts["beyond"] == 1
    assert counts["figures_curves"] == 1 and counts["figures_ranked"] == 1


def test_paper_profile_plans_without_data(tmp_path):
    proc = snakemake("-n", "tables", "--configfile", ROOT / "params" / "paper.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = jobs(proc.stdout)
    assert "synth" not in counts and counts["prepare"] + counts["prepare_cuhk03"] == 4
    # Table 1 (and 2 x 4 random cells), Table 2, and 13 for Tables 3-6 (rule `published`: the
    # released cells, trained from scratch for Table 4's plain rows too); beyond the paper: the
    # released Auto-ReID cell and ResNet-50 under the modern recipe, the cell with each of 6
    # ingredients, 2 robust searches x 4 runs (16); one training seed each
    assert counts["train"] == 17 + 8 + 16 + 13 + 16 and counts["beyond"] == 1
    assert "results/paper/train/market1501/modern/resnet50/seed0/model.pt" in proc.stdout
    assert "results/paper/train/market1501/erasing/AutoReID/seed0/model.pt" in proc.stdout
    assert "results/paper/search/market1501/retrieval_reid_dartsminus/run4/alphas.json" in proc.stdout
    assert "results/paper/train/market1501/scratch/retrieval_reid-run4/seed0/model.pt" in proc.stdout
    assert "results/paper/train/market1501/scratch/random_reid-run4/seed0/model.pt" in proc.stdout
    assert "results/paper/train/msmt17/imagenet/AutoReID/seed0/model.pt" in proc.stdout
    assert "results/paper/evaluate/msmt17/imagenet/AutoReID/seed0/features.h5" in proc.stdout
    assert "results/paper/evaluate/market1501/pixels/features.h5" in proc.stdout
    assert "results/paper/pretrain/imagenet/AutoReID/weights.pt" in proc.stdout
    for name in ("market1501", "cuhk03", "msmt17", "imagenet"):
        assert f"{name} not found at data/{name}" in proc.stderr


def test_paper_profile_plans_tables_3_to_6_on_the_released_cells_without_search(tmp_path):
    targets = [f"results/paper/tables/table{n}.md" for n in (3, 4, 5, 6)]
    proc = snakemake("-n", *targets, "--configfile", ROOT / "params" / "paper.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = jobs(proc.stdout)
    assert "search" not in counts and "derive" not in counts and "split" not in counts
    assert counts["select"] == 1 and counts["table"] == 4
    assert "results/paper/train/market1501/scratch/AutoReID/seed0/model.pt" in proc.stdout


def test_seeds_are_an_axis_of_every_row(tmp_path):
    """seeds.count = 3: every network the tables print is trained and evaluated with seeds 0-2,
    each in its own folder; the searches are not repeated."""
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["seeds"]["count"] = 3
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    proc = snakemake("-n", "tables", "--configfile", tmp_path / "p.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = jobs(proc.stdout)
    assert counts["train"] == 3 * (17 + 4 + 4 + 2 + 3 + 6 + 13) and counts["search"] == 18
    for seed in range(3):
        assert f"results/tiny/train/market1501/scratch/resnet18/seed{seed}/model.pt" in proc.stdout
        assert f"results/tiny/evaluate/market1501/imagenet/AutoReID/seed{seed}/metrics_rerank.json" \
            in proc.stdout
    assert "seed3" not in proc.stdout


def test_single_networks_get_their_own_seeds(tmp_path):
    """seeds.networks = 3 (count 1): the single networks the claims compare on Market-1501 get
    seeds 0-2, the selected cells trained under their names from scratch too; searched runs,
    random cells and the other benchmarks keep one."""
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["seeds"]["networks"] = 3
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    proc = snakemake("-n", "tables", "--configfile", tmp_path / "p.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    train = "results/tiny/train/{}/seed{}/model.pt".format
    for arch in ("scratch/resnet18", "scratch/GDAS_V1", "scratch/AutoReID", "scratch/Baseline",
                 "imagenet/AutoReID", "pcb/DARTS_V2"):
        assert all(train(f"market1501/{arch}", k) in proc.stdout for k in range(3)), arch
    for one in ("market1501/scratch/baseline-run1", "market1501/scratch/random_reid-run1",
                "cuhk03-labeled/imagenet/AutoReID"):
        assert train(one, 0) in proc.stdout and train(one, 1) not in proc.stdout, one


def test_partial_params_file_is_refused(tmp_path):
    (tmp_path / "p.yaml").write_text("name: mine\n")
    proc = snakemake("-n", "tables", "--configfile", tmp_path / "p.yaml", cwd=tmp_path)
    assert proc.returncode != 0
    assert "p.yaml: (top level): 'results' is a required property" in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def slice_run(tmp_path_factory):
    """A real Snakemake run of a one-search slice of Table 1 in a scratch folder."""
    wd = tmp_path_factory.mktemp("dag")
    params = slice_params()
    params["synth"]["cuhk03"].update(train_ids=8, test_ids=4, pairs=2, height=64, width=32)
    params["synth"]["msmt17"].update(train_ids=8, test_ids=4, cameras=4, height=64, width=32)
    params["synth"]["imagenet"].update(classes=3, images_per_class=8, size=32)
    params["pretrain"].update(epochs=1, batch_size=8, height=32, width=16)
    params["train"]["eval_every"] = 1
    params["train_settings"]["imagenet"]["P"] = 4
    params["table1"].update(runs=1, variants=["baseline", "retrieval_reid"], resnets=["resnet18"],
                            published=["DARTS_V2"], random_cells=1)
    params["table2"].update(searches=["baseline"], settings=["scratch"])
    params["table4"].update(archs=["DARTS_V2"])
    (wd / "slice.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    proc = snakemake("tables", "--configfile", wd / "slice.yaml", "--cores", "2", cwd=wd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return wd


@pytest.fixture(scope="module")
def results(slice_run):
    """The slice's results folder."""
    return slice_run / "results/slice"


@pytest.mark.slow
def test_table1_has_a_row_for_each_network_of_the_slice(results):
    table = (results / "tables/table1.md").read_text()
    for row in ("ResNet-18", "DARTS", "Retrieval + ReID Search Space (run 1)", "Raw pixels",
                "Random cells (ReID space) (run 1)", "Random cells (standard space) (run 1)"):
        assert row in table


@pytest.mark.slow
def test_table1_csv_has_a_line_per_row_with_the_interval_and_n(results):
    csv = (results / "tables/table1.csv").read_text().splitlines()
    assert len(csv) == 1 + 7
    assert "mAP 95% CI" in csv[0] and ",n," in csv[0]


@pytest.mark.slow
def test_table1_tex_is_booktabs(results):
    tex = (results / "tables/table1.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex


@pytest.mark.slow
def test_a_random_cell_is_marked_random_in_its_genotype(results):
    random_cell = results / "derive/market1501/random_reid/run1/genotype.yaml"
    assert yaml.safe_load(random_cell.read_text())["meta"]["random"] is True


@pytest.mark.slow
def test_a_derived_genotype_has_its_cell_drawing_beside_it(results):
    genotype = results / "derive/market1501/retrieval_reid/run1/genotype.yaml"
    assert genotype.exists() and genotype.with_name("cells.png").exists()


@pytest.mark.slow
def test_the_beyond_table_holds_the_slices_recipe_ingredient_and_search_lines(results):
    import pandas as pd

    df = pd.read_csv(results / "tables/beyond.csv")
    assert list(df["Comparison"]) == [
        "modern recipe against the paper's (ResNet-18)", "erasing alone (ResNet-18)",
        "DARTS−, Retrieval + ReID cells against Retrieval + ReID Search Space (DARTS)",
        "DARTS−, Retrieval + ReID cells against random ReID cells",
        "Retrieval + ReID Search Space (DARTS) cells against random ReID cells"]
    assert set(df["mAP verdict"]) <= {"gain", "loss", "not resolved"}
    model = results / "train/market1501/modern/resnet18/seed0/model.pt"
    card = yaml.safe_load(model.with_name("model.yaml").read_text())
    assert card["output"]["feature"] == "g" and card["architecture"]["neck"] == "bnneck"  # BNNeck's


@pytest.mark.slow
def test_select_picks_auto_reid_and_baseline_by_the_profiles_rule(results):
    selection = yaml.safe_load((results / "select/selection.yaml").read_text())
    assert selection["rule"] == "best_map_reid" and selection["Baseline"]["arch"] == "baseline-run1"
    assert selection["AutoReID"]["arch"] == "retrieval_reid-run1"


ROWS = {2: ("C=4, l=[1, 1, 1, 1]",), 3: ("HPM (quoted)", "Auto-ReID + RK", "Baseline + RK"),
        4: ("DARTS+PCB", "Auto-ReID"), 5: ("Mancs (quoted)", "Auto-ReID", "Baseline"),
        6: ("PCB (quoted)",)}


@pytest.mark.slow
@pytest.mark.parametrize("number", ROWS)
def test_tables_2_to_6_have_their_rows(results, number):
    text = (results / f"tables/table{number}.md").read_text()
    assert all(r in text for r in ROWS[number]), (number, text)


@pytest.mark.slow
def test_claims_table_has_the_claims_the_slice_can_make_and_only_those(results):
    claims = (results / "tables/claims.md").read_text()
    for claim in ("Auto-ReID beats ResNet-18", "re-ranking helps (Auto-ReID)",
                  "searched cells beat random cells (reid space)", "PCB's parts help (DARTS)"):
        assert claim in claims, claims
    assert "search space beats" not in claims  # the slice searches no baseline_reid


@pytest.mark.slow
def test_cuhk03_detected_is_packed_into_its_store(results):
    assert (results / "data/cuhk03-detected/store.h5").exists()


@pytest.mark.slow
def test_imagenet_pretraining_writes_its_weights(results):
    assert (results / "pretrain/imagenet/AutoReID/weights.pt").exists()


@pytest.mark.slow
def test_figures_and_the_selected_cells_are_pngs(results):
    for figure in ("figures/curves.png", "figures/ranked.png", "select/AutoReID.png"):
        assert (results / figure).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_search_and_train_record_their_config(results):
    for stage in ("search", "train"):
        assert list((results / stage).rglob("config.yaml"))


@pytest.mark.slow
def test_one_job_evaluates_a_network_into_one_folder(results):
    """Its features and their scores in one folder, with the command's config beside them."""
    for path in ("market1501/scratch/resnet18/seed0", "market1501/pixels",
                 "market1501/imagenet/AutoReID/seed0"):
        for name in ("features.h5", "metrics.json", "metrics.details.json", "config.yaml"):
            assert (results / "evaluate" / path / name).exists(), (path, name)


@pytest.mark.slow
def test_no_extract_folder_besides_the_evaluations(results):
    assert not (results / "extract").exists()


@pytest.mark.slow
def test_re_ranked_scores_only_where_table3_reads_them(results):
    assert (results / "evaluate/market1501/imagenet/AutoReID/seed0/metrics_rerank.json").exists()
    assert not (results / "evaluate/market1501/scratch/resnet18/seed0/metrics_rerank.json").exists()


@pytest.mark.slow
def test_report_shows_the_tables_the_figures_and_the_selected_cells(slice_run):
    from pathlib import Path

    from autoreid import tables
    from autoreid.experiments import Paths

    proc = snakemake("tables", "--configfile", slice_run / "slice.yaml", "--report",
                     slice_run / "report.html", cwd=slice_run)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    html = (slice_run / "report.html").read_text()
    csvs = [Path(Paths("results/slice").table(name, "csv")).name for name in tables.NAMES]
    for name in csvs + ["curves.png", "ranked.png", "AutoReID.png", "Baseline.png"]:
        assert name in html, name
    for caption in ("Table 1 of the paper", "Training curves of Auto-ReID", "Ranked lists of",
                    "selection rule"):
        assert caption in html, caption


@pytest.mark.slow
def test_timings_of_the_jobs_that_run_networks(results):
    """Snakemake's time and memory record of each search, train, pretrain and evaluate job."""
    timings = sorted((results / "timings").rglob("*.tsv"))
    assert {p.relative_to(results / "timings").parts[0] for p in timings} == {
        "search", "train", "pretrain", "evaluate"}
    assert timings[0].read_text().split("\t")[:3] == ["s", "h:m:s", "max_rss"]


@pytest.mark.slow
def test_second_run_has_nothing_to_do(slice_run):
    proc = snakemake("-n", "tables", "--configfile", slice_run / "slice.yaml", cwd=slice_run)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr
