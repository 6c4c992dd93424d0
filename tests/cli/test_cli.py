"""Bad input gets one clear line on stderr and exit status 1, never a traceback."""
import h5py
import numpy as np
import pytest
import yaml

from helpers import ROOT, assert_user_error, run_cli


@pytest.mark.smoke
def test_help_lists_the_commands():
    proc = run_cli("--help")
    for cmd in ("data", "search", "derive", "train", "extract", "evaluate", "complexity", "tables"):
        assert cmd in proc.stdout


def test_unknown_genotype_name():
    assert_user_error(run_cli("complexity", "--arch", "DARTS_V9"), "unknown genotype 'DARTS_V9'")


def test_unknown_op_in_a_genotype_file(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text(yaml.safe_dump({"normal": [["conv_9x9", 0], ["skip_connect", 1]],
                                 "reduce": [["skip_connect", 0], ["skip_connect", 1]]}))
    assert_user_error(run_cli("complexity", "--arch", g), "g.yaml", "unknown op 'conv_9x9'")
    g.write_text("normal: [\n")
    assert_user_error(run_cli("draw", "--arch", g, "--out", tmp_path / "x.png"), "not valid YAML")


def test_params_that_fail_the_schema(tmp_path):
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["train"]["lr"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(params))
    assert_user_error(run_cli("complexity", "--arch", "resnet18", "--params", bad),
                      "bad.yaml", "train.lr")
    assert_user_error(run_cli("search", "--split", "x.csv", "--out-dir", tmp_path, "--set",
                              "epochs=many"), "search.epochs: 'many' is not of type")


def test_malformed_features_files(tmp_path):
    f = tmp_path / "f.h5"
    f.write_bytes(b"not hdf5")
    assert_user_error(run_cli("evaluate", "--features", f, "--out", tmp_path / "m.json"),
                      "not an HDF5 file")
    with h5py.File(f, "w") as h:
        h.create_dataset("query/features", data=np.zeros((2, 4), np.float32))
    assert_user_error(run_cli("evaluate", "--features", f, "--out", tmp_path / "m.json"),
                      "query/pids is missing")
    with h5py.File(f, "w") as h:
        for g, n in (("query", 2), ("gallery", 3)):
            h.create_dataset(f"{g}/features", data=np.full((n, 4), np.nan, np.float32))
            h.create_dataset(f"{g}/pids", data=np.arange(n))
            h.create_dataset(f"{g}/camids", data=np.arange(n))
            h.create_dataset(f"{g}/paths", data=["a"] * n)
    assert_user_error(run_cli("evaluate", "--features", f, "--out", tmp_path / "m.json"),
                      "NaN or inf")
    assert not (tmp_path / "m.json").exists()


def test_dataset_in_the_wrong_layout(tmp_path):
    (tmp_path / "raw" / "images").mkdir(parents=True)
    assert_user_error(run_cli("data", "prepare", "--benchmark", "market1501", "--raw",
                              tmp_path / "raw", "--out-dir", tmp_path / "out"),
                      "not in the Market-1501 layout", "bounding_box_train")
    assert not (tmp_path / "out" / "manifest.csv").exists()


def test_corrupt_image(market, tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(market["raw"], raw)
    victim = sorted((raw / "Market-1501-v15.09.15" / "query").glob("*.jpg"))[0]
    run_cli("data", "prepare", "--benchmark", "market1501", "--raw", raw, "--out-dir", tmp_path,
            check=True)
    victim.write_bytes(victim.read_bytes()[:200])  # truncated after `prepare` checked it
    proc = run_cli("extract", "--manifest", tmp_path / "manifest.csv", "--pixels", "--set",
                   "train.height=16", "--set", "train.width=8", "--out", tmp_path / "f.h5")
    assert_user_error(proc, victim.name, "corrupt or unreadable image")
    assert not (tmp_path / "f.h5").exists()


def test_checkpoint_that_is_not_a_model(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"\x80\x04junk")
    assert_user_error(run_cli("extract", "--manifest", "m.csv", "--checkpoint",
                              tmp_path / "model.pt", "--out", tmp_path / "f.h5"),
                      "model.pt", "not a readable autoreid checkpoint")


@pytest.mark.parametrize("argv,needle", [
    (["train", "--manifest", "missing.csv", "--arch", "resnet18", "--out-dir", "x"], "manifest not found"),
    (["train", "--manifest", "missing.csv", "--arch", "resnet99", "--out-dir", "x"], "unknown genotype"),
    (["derive", "--alphas", "missing.json", "--out", "g.yaml"], "file not found"),
    (["tables", "--params", "params/default.yaml", "--out-dir", "x", "--table", "9"], "Tables 1-6"),
])
def test_more_bad_inputs(argv, needle, tmp_path):
    assert_user_error(run_cli(*argv), needle)


def test_unknown_selection_rule(tmp_path):
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["select"]["rule"] = "best_vibes"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(params))
    assert_user_error(run_cli("select", "--params", bad, "--out-dir", tmp_path), "select.rule",
                      "'best_vibes' is not one of")


def _every_option(parser, path=()):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_option(sub, (*path, name))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield " ".join(path), action


def test_every_option_of_every_command_has_help_and_says_its_default():
    import argparse

    from autoreid.cli.parser import parser

    options = list(_every_option(parser()))
    assert len(options) > 60
    missing = [f"{cmd}: {'/'.join(a.option_strings) or a.dest}" for cmd, a in options if not a.help]
    assert missing == []
    silent = [f"{cmd}: {'/'.join(a.option_strings)}" for cmd, a in options
              if a.option_strings and not a.required and a.nargs != 0
              and not isinstance(a, argparse._StoreTrueAction) and "default" not in a.help]
    assert silent == []


def test_a_params_value_has_one_route_the_params_file_and_set():
    """No option of a command that reads the params stands for a params key: the values come from
    --params and --set alone (the options left are paths, names a rule takes from its wildcards,
    and --threads). `export` and `query` read no params (a checkpoint carries what they need)."""
    from autoreid.cli.parser import parser

    options = list(_every_option(parser()))
    reading = {cmd for cmd, a in options if "--params" in a.option_strings}
    assert {"search", "train", "evaluate", "extract", "tables"} <= reading
    assert not {"export", "query"} & reading
    names = {o for cmd, a in options if cmd in reading for o in a.option_strings}
    for flag in ("--device", "--amp", "--workers", "--feature", "--k1", "--k2", "--lambda",
                 "--bad-images", "--height", "--width", "--format", "--C", "--layers", "--rule",
                 "--nodes", "--fraction", "--queries", "--top", "--train-only", "--metric"):
        assert flag not in names


def test_set_reaches_a_top_level_key_a_section_and_a_dotted_path(tmp_path):
    from autoreid.config import overridden

    p = overridden(None, ["device=cpu", "lr=0.5", "rerank.k1=7"], "train", "imagenet")
    assert p["device"] == "cpu" and p["train_settings"]["imagenet"]["lr"] == 0.5
    assert p["rerank"]["k1"] == 7 and p["train"]["lr"] != 0.5


def test_no_option_has_a_default_of_its_own_but_a_flag_or_a_list():
    """Defaults live in the params files: an option left out reads its params key."""
    from autoreid.cli.parser import parser

    own = [f"{cmd}: {'/'.join(a.option_strings)}={a.default!r}" for cmd, a in _every_option(parser())
           if a.option_strings and a.default not in (None, False)]
    assert own == []

def test_the_process_entry_exits_with_mains_status_and_frozen_objects(monkeypatch, capsys):
    """`autoreid` (and `python -m autoreid.cli`) is `run`: main's exit status, and every object
    frozen first, so that the interpreter's last collection does not walk torch's (~0.4 s a
    process of the DAG; docs/benchmarks.md)."""
    import gc
    import tomllib

    from autoreid.cli import run

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"autoreid": "autoreid.cli:run"}
    assert (ROOT / "autoreid" / "cli" / "__main__.py").read_text().strip().endswith("run()")
    monkeypatch.setattr("sys.argv", ["autoreid", "derive", "--alphas", "/nonexistent/alphas.json",
                                     "--out", "/nonexistent/g.yaml"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit) as exit_:
            run()
        assert exit_.value.code == 1 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "error:" in capsys.readouterr().err
