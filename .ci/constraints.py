"""Write constraints.txt: the exact versions, as installed here, of autoreid's dependencies with
every extra CI installs (test, slurm, export) and everything they pull in. Run it after a `.ci/run` that
passed, in the environment it used:  python .ci/constraints.py > constraints.txt"""
import importlib.metadata as md
import re

from packaging.requirements import Requirement


def closure(name: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    seen: dict[str, str] = {}
    todo = [(name, extras)]
    while todo:
        dist_name, wanted = todo.pop()
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            continue
        key = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if key in seen and not wanted:
            continue
        seen[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted or ("",)):
                todo.append((req.name, tuple(req.extras)))
    return seen


if __name__ == "__main__":
    pins = closure("autoreid", ("test", "slurm", "export"))
    pins.pop("autoreid", None)
    print("# The versions the published tables and CI were made with (python .ci/constraints.py).")
    print("# pip install -c constraints.txt ... holds every dependency to them.")
    for key in sorted(pins):
        print(f"{key}=={pins[key]}")
