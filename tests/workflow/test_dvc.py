"""DVC: dvc.yaml is generated from the Snakemake DAG (and must not be stale), and the real `dvc`
runs a slice: repro, a second repro doing nothing, an experiment with `-S`, params/metrics diff,
and outputs built by Snakemake recognised by DVC (`dvc commit`)."""
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from helpers import ROOT, slice_params

GENERATOR = [sys.executable, str(ROOT / "workflow" / "dvc_stages.py")]


def run(cmd, cwd, timeout=600, check=True, env=None):
    env = dict(os.environ, PYTHONWARNINGS="ignore", **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def test_committed_dvc_yaml_is_current():
    proc = run(GENERATOR + ["--check"], ROOT, check=False)
    assert proc.returncode == 0, proc.stderr


def test_stages_match_the_snakemake_jobs():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    proc = run(["snakemake", "-n", "-F", "-p", "tables"], ROOT)
    planned = sum(1 for line in proc.stdout.splitlines()
                  if line.startswith(("rule ", "localrule ")) and "tables:" not in line)
    assert planned == len(stages)
    for name, s in stages.items():
        outs = [next(iter(o)) if isinstance(o, dict) else o
                for key in ("outs", "metrics", "plots") for o in s.get(key, [])]
        assert outs, name
        assert all(f"{o}" in proc.stdout for o in outs), name
        assert "autoreid " in s["cmd"]
    search = [s for n, s in stages.items() if n.startswith("search-")]
    keys = ["amp", "tf32", "compile", "search"]
    assert all(s["params"] == [{"params/default.yaml": [*keys, f"search_variants.{v}"]}]
               for s, v in ((s, s["cmd"].split("--variant ")[1].split()[0]) for s in search))



def test_pretrain_and_select_declare_only_the_keys_they_read():
    """Pre-training reads train's C and layers, not the rest of train (a λ change must not
    rerun it); select reads its rule and the Table 1 runs, not table1's ResNets or published cells
    (and under the `published` rule only the rule)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    keys = {name: s["params"][0]["params/default.yaml"] for name, s in stages.items() if "params" in s}
    pretrain = [k for name, k in keys.items() if name.startswith("pretrain-")]
    assert pretrain and all(k == ["amp", "tf32", "pretrain", "train.C", "train.layers"] for k in pretrain)
    assert keys["select"] == ["select.rule", "table1.setting", "table1.runs", "table1.variants",
                              "search.space", "seeds.count", *(f"search_variants.{v}.space" for v in
                                                ("baseline", "baseline_reid", "retrieval_reid"))]
    paper = yaml.safe_load((ROOT / "pipelines" / "paper" / "dvc.yaml").read_text())["stages"]
    assert paper["select"]["params"] == [{"params/paper.yaml": ["select.rule"]}]

def test_stale_file_is_detected(tmp_path):
    import shutil

    for name in ("dvc.yaml", ".gitignore", "pipelines"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    paper = tmp_path / "pipelines" / "paper" / "dvc.yaml"
    paper.write_text(paper.read_text().replace("/model.pt", "/weights_renamed.pt", 1))
    proc = run(GENERATOR + ["--check", "--root", tmp_path], tmp_path, check=False)
    assert proc.returncode == 1 and "stale: pipelines/paper/dvc.yaml:" in proc.stderr


def _outputs(pipeline: dict):
    for name, s in pipeline["stages"].items():
        for key in ("outs", "metrics", "plots"):
            for o in s.get(key, []):
                path, opts = (o, {}) if isinstance(o, str) else next(iter(o.items()))
                yield name, path, opts.get("cache", True)


def test_every_declared_output_is_kept_by_git_or_the_dvc_cache():
    """An output the DVC cache does not keep (`cache: false`) must not be git-ignored, in every
    profile's pipeline; and the one list in autoreid/storage.py decides which is which."""
    from autoreid.storage import kept_in

    for pipeline in [ROOT / "dvc.yaml", *sorted((ROOT / "pipelines").glob("*/dvc.yaml"))]:
        outputs = list(_outputs(yaml.safe_load(pipeline.read_text())))
        assert len(outputs) > 100, pipeline
        uncached = [path for _, path, cache in outputs if not cache]
        proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT,
                              input="\n".join(uncached), capture_output=True, text=True)
        assert proc.stdout.split() == [], f"{pipeline}: git-ignored but not cached"
        results = uncached[0].split("/")[0] + "/" + uncached[0].split("/")[1]
        assert all((kept_in(path, results) == "cache") == cache for _, path, cache in outputs)
        assert any(path.endswith("alphas.json") for path in uncached)
        assert all(cache for _, path, cache in outputs if path.endswith((".pt", ".h5")))


def test_stage_names_have_one_scheme():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert all(re.fullmatch(r"[a-z_0-9]+(-[A-Za-z0-9_]+)*", name) for name in stages)
    assert "evaluate-market1501-scratch-resnet18-seed0" in stages
    assert "train-market1501-scratch-resnet18-seed0" in stages


def test_the_generator_reads_snakemake_through_its_public_interface_alone():
    """No underscore attribute of Snakemake (its DAG through the API and the job records it logs),
    so the package pins no exact Snakemake: constraints.txt holds the version CI tests."""
    import ast

    tree = ast.parse((ROOT / "workflow" / "dvc_stages.py").read_text())
    private = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
               and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert private == []
    assert "snakemake==" not in (ROOT / "pyproject.toml").read_text()


def slice_repo(repo, target: str) -> None:
    """A fresh git + DVC repository at `repo` whose dvc.yaml is the slice's DAG up to `target`."""
    (repo / "params").mkdir()
    (repo / "params" / "slice.yaml").write_text(yaml.safe_dump(slice_params(), sort_keys=False))
    run(GENERATOR + ["--configfile", "params/slice.yaml", "--target", target, "--out", "dvc.yaml"],
        repo)
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "ci@example.com"],
                ["git", "config", "user.name", "ci"], ["dvc", "init", "-q"],
                ["dvc", "config", "core.analytics", "false"]):
        run(cmd, repo)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A fresh git + DVC repository holding a slice of the pipeline: ResNet-18 on the synthetic
    Market-1501, prepared, packed, trained, extracted and evaluated."""
    repo = tmp_path_factory.mktemp("dvcrepo")
    target = "results/slice/evaluate/market1501/scratch/resnet18/seed0/metrics.json"
    slice_repo(repo, target)
    return repo, target


@pytest.mark.slow
def test_repro_experiment_and_diffs(repo):
    repo, target = repo
    first = run(["dvc", "repro"], repo)
    assert "Running stage 'train-market1501-scratch-resnet18-seed0'" in first.stdout
    again = run(["dvc", "repro"], repo)
    assert "Running stage" not in again.stdout  # a second repro does nothing
    plan = run(["snakemake", "-s", str(ROOT / "Snakefile"), "-n", target, "--configfile",
                "params/slice.yaml"], repo)  # what DVC built, Snakemake takes as done
    assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "baseline"], repo)

    exp = run(["dvc", "exp", "run", "-S", "params/slice.yaml:train.lam=0.9"], repo)
    assert "Running stage 'train-market1501-scratch-resnet18-seed0'" in exp.stdout
    assert "Running stage 'synth-market1501'" not in exp.stdout  # data stages are untouched
    params = json.loads(run(["dvc", "params", "diff", "--json"], repo).stdout)
    change = params["params/slice.yaml"]["train.lam"]
    assert (change["old"], change["new"]) == (0.5, 0.9)
    metrics = json.loads(run(["dvc", "metrics", "diff", "--json"], repo).stdout)
    moved = metrics[target]
    assert moved["mAP"]["old"] != moved["mAP"]["new"]
    assert set(moved) <= {"mAP", "mINP", "rank1", "rank5", "rank10", "mAP_ci95", "rank1_ci95",
                          "mINP_ci95", "bootstrap"}  # metrics and their intervals, no counts
    # is the move beyond noise? the baseline commit's evaluation (its metrics and per-query
    # details are in git) against the experiment's, as docs/dvc.md shows
    base = repo.parent / f"{repo.name}-baseline"
    run(["git", "worktree", "add", "-q", str(base), "HEAD"], repo)
    folder = os.path.dirname(target)
    proc = run([sys.executable, "-m", "autoreid.cli", "compare", str(base / folder), folder,
                "--params", "params/slice.yaml", "--out", "lam.json"], repo)
    verdict = json.loads((repo / "lam.json").read_text())["metrics"]["mAP"]
    assert verdict["difference"] == pytest.approx(moved["mAP"]["new"] - moved["mAP"]["old"])
    assert verdict["verdict"] in ("A", "B", "not resolved") and "95% interval" in proc.stdout
    run(["git", "worktree", "remove", "--force", str(base)], repo)


@pytest.mark.slow
def test_exp_show_after_a_lambda_change_fits_in_160_columns(tmp_path):
    """A slice (one retrieval search) under `dvc repro`, `dvc exp run -S` with a new λ, then
    `dvc exp show --only-changed`: the λ and the search's DVCLive metrics, at most 160 wide."""
    slice_repo(tmp_path, "results/slice/search/market1501/retrieval_reid/run1/alphas.json")
    for cmd in (["dvc", "repro"], ["git", "add", "-A"], ["git", "commit", "-qm", "baseline"],
                ["dvc", "exp", "run", "-S", "params/slice.yaml:search_variants.retrieval_reid.lam=0.9"]):
        run(cmd, tmp_path)
    shown = run(["dvc", "exp", "show", "--only-changed", "--no-pager"], tmp_path,
                env={"COLUMNS": "1000"}).stdout
    assert "search_variants.retrieval_reid.lam" in shown and "loss_w" in shown, shown
    assert max(map(len, shown.splitlines())) <= 160, shown


@pytest.mark.slow
def test_outputs_built_by_snakemake_are_recognised_by_dvc(repo):
    repo, target = repo
    run(["git", "checkout", "-q", "--", "."], repo)  # back to the committed params
    run(["snakemake", "-s", str(ROOT / "Snakefile"), target, "--configfile", "params/slice.yaml",
         "--cores", "2", "-F"], repo)
    status = run(["dvc", "status"], repo).stdout
    assert "changed outs" in status  # Snakemake rewrote them; DVC notices
    run(["dvc", "commit", "-f"], repo)
    assert "Running stage" not in run(["dvc", "repro"], repo).stdout
    plan = run(["snakemake", "-s", str(ROOT / "Snakefile"), "-n", target, "--configfile",
                "params/slice.yaml"], repo)
    assert "Nothing to be done" in plan.stdout + plan.stderr


@pytest.mark.slow
def test_a_two_point_lambda_sweep_queued_and_compared(repo):
    """`dvc exp run --queue -S` for two values of train.lam, `dvc queue start`, then one table and
    one figure of mAP against λ (`autoreid figures sweep`)."""
    import time

    repo, target = repo
    run(["git", "checkout", "-q", "--", "."], repo)
    for lam in (0.2, 0.8):
        run(["dvc", "exp", "run", "--queue", "-S", f"params/slice.yaml:train.lam={lam}"], repo)
    run(["dvc", "queue", "start", "--jobs", "1"], repo)
    deadline = time.time() + 600
    while time.time() < deadline:
        status = run(["dvc", "queue", "status"], repo).stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        time.sleep(3)
    failed = [line.split()[1] for line in status.splitlines() if "Failed" in line]
    assert not failed, run(["dvc", "queue", "logs", failed[0]], repo, check=False).stdout[-3000:]
    proc = run([sys.executable, "-m", "autoreid.cli", "figures", "sweep", "--param",
                "params/slice.yaml:train.lam", "--metric", f"{target}:mAP", "--out", "lam.png"],
               repo)
    assert (repo / "lam.png").read_bytes()[:4] == b"\x89PNG"
    rows = [line for line in (repo / "lam.md").read_text().splitlines()[2:]]
    lams = [float(line.split("|")[1]) for line in rows]
    assert {0.2, 0.8} <= set(lams) and lams == sorted(lams), proc.stdout


@pytest.mark.parametrize("name", ["default.yaml", "paper.yaml"])
def test_params_files_survive_exp_run_set(tmp_path, name):
    """`dvc exp run -S` rewrites the params file through DVC's own YAML round trip: the result must
    validate, keep every comment and change nothing but the one value."""
    from dvc.utils.hydra import apply_overrides

    from autoreid.config import load_params

    source = ROOT / "params" / name
    copy = tmp_path / name
    copy.write_text(source.read_text())
    apply_overrides(str(copy), ["search_variants.retrieval_reid.lam=0.8"])
    expected = yaml.safe_load(source.read_text())
    expected["search_variants"]["retrieval_reid"]["lam"] = 0.8
    assert load_params(copy) == expected
    assert copy.read_text().count("#") == source.read_text().count("#")
