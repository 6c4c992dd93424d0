"""What the tests share (test files import it: `from helpers import run_cli`): the repository's
root, the CLI run as a user runs it, the one-line error check, Snakemake runs and plans, processes
signalled at their first checkpoint, the slice's params, the files a table job reads. Fixtures and
pytest's hooks are in conftest.py."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cores() -> int:
    """The cores this process may run on (all of them where the OS cannot say)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_cli(*args: str, cwd: Path | None = None, check: bool = False,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `autoreid ...` in a subprocess as a user would."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "autoreid.cli", *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"autoreid {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


def assert_user_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """Non-zero exit, one line on stderr naming what is wrong, no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert "error:" in last, err
    for n in needles:
        assert n in last, (n, last)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (torchrun's workers may sit in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def signal_tree(pid: int, signum: int) -> None:
    for p in [*descendants(pid), pid]:
        try:
            os.kill(p, signum)
        except ProcessLookupError:
            pass


def signal_at_first_checkpoint(proc: subprocess.Popen, out: Path, signum: int,
                               timeout: float = 120, tree: bool = False) -> None:
    """Wait for the condition -- `out/checkpoint.pt` exists, so the run is past its first epoch --
    then freeze `proc` and every process below it, send `signum` to `proc` (SIGKILL, or `tree`: to
    all of them, as SLURM signals every process of a job step) and let them go on: a catchable
    signal is pending before the run can take another step, however loaded the machine. Fails if
    the run ended before the checkpoint appeared or before it was frozen (give it more epochs than
    the one it checkpoints after)."""
    import signal
    import time

    deadline = time.time() + timeout
    while not (out / "checkpoint.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    signal_tree(proc.pid, signal.SIGSTOP)  # freeze first, so nothing moves on meanwhile
    running = proc.poll() is None
    if signum == signal.SIGKILL or tree:
        signal_tree(proc.pid, signum)
        signal_tree(proc.pid, signal.SIGCONT)
    else:
        os.kill(proc.pid, signum)
        signal_tree(proc.pid, signal.SIGCONT)
    assert running and (out / "checkpoint.pt").exists(), f"{proc.args} ended before it was signalled"


def kill_after_first_checkpoint(args: list, out: Path, timeout: float = 120,
                                launcher: tuple = (sys.executable, "-m", "autoreid.cli")) -> None:
    """Start `autoreid *args` (which writes `out/checkpoint.pt` after each epoch) and SIGKILL it and
    every process below it (torchrun and its workers too) as soon as the first checkpoint appears;
    fails if the run got to its end first."""
    import signal

    proc = subprocess.Popen([*launcher, *map(str, args)], cwd=ROOT, stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    signal_at_first_checkpoint(proc, out, signal.SIGKILL, timeout)
    proc.wait()


def snakemake(*args, cwd=ROOT, timeout=900) -> subprocess.CompletedProcess:
    """Run `snakemake -s Snakefile *args` in `cwd` (a plan with "-n", or a real run)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def jobs(stdout: str) -> dict[str, int]:
    """Rule -> number of jobs, from the "Job stats" of a Snakemake plan's stdout."""
    lines = stdout[stdout.index("Job stats:"):].splitlines()[3:]
    out = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        out[parts[0]] = int(parts[1])
    return out


def slice_params(results: str = "results/slice") -> dict:
    """The default params shrunk to a slice that runs in seconds per job (tiny synthetic
    Market-1501, C=4 networks, one epoch), writing under `results`."""
    import yaml

    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params.update(name=Path(results).name, results=results)
    for name in ("market1501", "cuhk03", "msmt17", "imagenet"):
        params["datasets"][name]["raw"] = f"{results}/raw/{name}"
    params["synth"]["market1501"].update(train_ids=8, test_ids=6, cameras=3, cameras_per_id=[2, 3],
                                         height=64, width=32, distractors=4, junk=2)
    params["search"].update(C=4, epochs=1, height=32, width=16, pad=1, P=2, K=2, embedding=16)
    params["train"].update(C=4, epochs=1, height=32, width=16, pad=1, P=4, K=2, embedding=16,
                           milestones=[1], eval_every=0)
    params["table1"]["random_cells"] = 0
    # beyond the paper: ResNet-18 alone (its paper-recipe training is Table 1's), one ingredient,
    # one robust search of one run
    params["beyond"].update(networks=["resnet18"], ingredients=["erasing"], ingredient_networks=["resnet18"],
                            regularized=["retrieval_reid_dartsminus"], runs=1)
    return params


def record_reads(monkeypatch, modules=()) -> list:
    """Every path `autoreid.io.read_json`/`read_yaml` is given from now on (also where `modules`,
    module paths, imported them by name): what a table job reads, to hold against its inputs."""
    import autoreid.io

    read = []
    for name in ("read_json", "read_yaml"):
        real = getattr(autoreid.io, name)

        def recording(path, real=real):
            read.append(os.path.normpath(str(path)))
            return real(path)

        monkeypatch.setattr(autoreid.io, name, recording)
        for module in modules:
            monkeypatch.setattr(f"{module}.{name}", recording, raising=False)
    return read
