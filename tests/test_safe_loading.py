"""A checkpoint from the internet can carry code (pickle runs whatever __reduce__ names): every
loader of autoreid refuses it without running it; a YAML file with Python tags is refused too."""
import torch

from helpers import assert_user_error, run_cli


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (str(self.marker), "w"))


def test_checkpoint_with_code_is_refused_and_not_run(market, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.pt"
    torch.save({"spec": {}, "state_dict": {}, "payload": Payload(marker)}, evil)
    for args in (["extract", "--manifest", market["manifest"], "--checkpoint", evil, "--out",
                  tmp_path / "f.h5"],
                 ["train", "--manifest", market["manifest"], "--arch", "DARTS_V2", "--weights", evil,
                  "--out-dir", tmp_path / "t", "--set", "init=imagenet", "--set", "C=4",
                  "--set", "P=4"]):
        proc = run_cli(*args)
        assert_user_error(proc, "model.pt")
    assert not marker.exists()

    resume = tmp_path / "run"  # a poisoned checkpoint.pt where a run would resume from
    resume.mkdir()
    torch.save({"config_hash": "x", "payload": Payload(marker)}, resume / "checkpoint.pt")
    proc = run_cli("search", "--split", market["split"], "--out-dir", resume, "--set", "device=cpu",
                   *[x for s in ("C=4", "layers=[1,1,1,1]", "height=32", "width=16", "P=2", "K=2",
                                 "epochs=1", "embedding=16") for x in ("--set", s)])
    assert proc.returncode == 0 and "unreadable checkpoint, starting afresh" in proc.stderr
    assert not marker.exists()


def test_yaml_with_python_tags_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "g.yaml"
    bad.write_text(f"!!python/object/apply:builtins.open ['{marker}', 'w']\n")
    proc = run_cli("draw", "--arch", bad, "--out", tmp_path / "g.png")
    assert_user_error(proc, "g.yaml")
    assert not marker.exists()
