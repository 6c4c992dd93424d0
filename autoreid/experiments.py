"""The experiment plan in one place: where every output lives (`Paths`) and which runs make each
table. The Snakefile, the DVC stage generator and `autoreid tables` all read it, so a path or a
row is defined once."""
from __future__ import annotations

import re
from dataclasses import dataclass

from autoreid.config import merged
from autoreid.config_checks import SELECTED  # chosen from the Table 1 searches by `select.rule`

SEARCH_BENCHMARK = "market1501"  # the paper searches on Market-1501 and transfers the cell
SEARCHED = re.compile(r"^(?P<variant>[A-Za-z0-9_]+)-run(?P<run>[0-9]+)$")
RANDOM = "random_"  # random_<space>-run<n>: a cell drawn at random from a space, where a search goes
LABELS = {
    "resnet18": "ResNet-18", "resnet34": "ResNet-34", "resnet50": "ResNet-50",
    "DARTS_V2": "DARTS", "GDAS_V1": "GDAS",
    "baseline": "Baseline", "baseline_reid": "Baseline + ReID Search Space",
    "retrieval_reid": "Retrieval + ReID Search Space",
    "retrieval_reid_beta": "β-DARTS, Retrieval + ReID",
    "retrieval_reid_dartsminus": "DARTS−, Retrieval + ReID",
    "AutoReID": "Auto-ReID", "Baseline": "Baseline",
    "random_standard": "Random cells (standard space)", "random_reid": "Random cells (ReID space)",
}


@dataclass(frozen=True)
class Paths:
    """Output layout of a profile: results/<profile>/<stage>/<benchmark>/..."""
    results: str

    def raw(self, dataset: str) -> str:
        """A synthetic dataset, generated in its official layout (tiny profile)."""
        return f"{self.results}/raw/{dataset}"

    def manifest(self, benchmark: str) -> str:
        return f"{self.results}/data/{benchmark}/manifest.csv"

    def cuhk03_images(self, kind: str) -> str:
        """Where `prepare` extracts CUHK03's images from the .mat (beside the manifest)."""
        return f"{self.results}/data/cuhk03-{kind}/images_{kind}"

    def store(self, benchmark: str) -> str:
        return f"{self.results}/data/{benchmark}/store.h5"

    def split(self, benchmark: str) -> str:
        return f"{self.results}/split/{benchmark}/split.csv"

    def search(self, benchmark: str, variant: str, run: str | int) -> str:
        return f"{self.results}/search/{benchmark}/{variant}/run{run}"

    def derive(self, benchmark: str, variant: str, run: str | int) -> str:
        return f"{self.results}/derive/{benchmark}/{variant}/run{run}"

    def genotype(self, benchmark: str, variant: str, run: str | int) -> str:
        return f"{self.derive(benchmark, variant, run)}/genotype.yaml"

    def train(self, benchmark: str, setting: str, arch: str, seed: int | str) -> str:
        """One training of `arch` under `setting` with training seed `seed`."""
        return f"{self.results}/train/{benchmark}/{setting}/{arch}/seed{seed}"

    def evaluate(self, benchmark: str, setting: str, arch: str, seed: int | str) -> str:
        """That training's query and gallery features (features.h5) and their scores
        (metrics.json, metrics_rerank.json, each with its .details.json), written by one job."""
        return f"{self.results}/evaluate/{benchmark}/{setting}/{arch}/seed{seed}"

    def evaluations(self, params: dict, benchmark: str, setting: str, arch: str) -> list[str]:
        """The evaluation folders of every training seed of `arch` (`seeds`): one table row, or
        one side of `autoreid compare`."""
        return [self.evaluate(benchmark, setting, arch, k) for k in seeds(params, benchmark, arch)]

    def pixels(self, benchmark: str) -> str:
        """The raw-pixel baseline (no network): its features and scores."""
        return f"{self.results}/evaluate/{benchmark}/pixels"

    def selected(self, name: str) -> str:
        """The genotype chosen as `name` (AutoReID or Baseline) by the selection rule."""
        return f"{self.results}/select/{name}.yaml"

    def selection(self) -> str:
        return f"{self.results}/select/selection.yaml"

    def complexities(self) -> str:
        """The folder of every network's complexity file."""
        return f"{self.results}/complexity"

    def complexity(self, arch: str, head: str = "reid") -> str:
        """Its parameters and multiply-adds under `head`."""
        return f"{self.complexities()}/{arch}-{head}.json"

    def pretrain(self, setting: str, arch: str) -> str:
        return f"{self.results}/pretrain/{setting}/{arch}"

    def figure(self, name: str) -> str:
        return f"{self.results}/figures/{name}"

    def table(self, name: int | str, ext: str) -> str:
        """Table 1-6 (table<n>.<ext>), the claims table (claims.<ext>) or beyond the paper's
        (beyond.<ext>)."""
        return f"{self.results}/tables/{table_stem(name)}.{ext}"


def table_stem(name: int | str) -> str:
    """A table's file name without its extension: table<n> for the paper's, its name for ours
    (claims, beyond)."""
    return str(name) if name in ("claims", "beyond") else f"table{name}"


def is_network(benchmark: str | None, arch: str | None) -> bool:
    """A single network that the claims compare with another one on the search benchmark (a
    ResNet, a published cell, a selected cell), not one of a method's searched or random runs."""
    return benchmark == SEARCH_BENCHMARK and arch is not None and parse_searched(arch) is None


def network_seeds(params: dict) -> int:
    """How many seeds a single network gets: seeds.networks where above seeds.count, else count."""
    s = params["seeds"]
    return max(s["count"], s["networks"] or 0)


def seeds(params: dict, benchmark: str | None = None, arch: str | None = None) -> range:
    """The training seeds of a table row: 0 .. seeds.count - 1, or 0 .. network_seeds - 1 for a
    single network on the search benchmark (`is_network`)."""
    return range(network_seeds(params) if is_network(benchmark, arch) else params["seeds"]["count"])


def trained_by_name(params: dict) -> bool:
    """Whether the selected cells stand in tables and claims as trainings under their own names
    (rule `published`, or seeds.networks above seeds.count), known before `select` has run."""
    return params["select"]["rule"] == "published" or network_seeds(params) > params["seeds"]["count"]


def chosen_arch(params: dict, selection: dict, name: str) -> str:
    """The training from scratch that stands for a selected cell (AutoReID, Baseline) where a
    table or claim compares it as one network: the Table 1 run the selection chose, or, where
    single networks get their own seeds (seeds.networks), the cell trained under its name (its
    seeds beyond count also go beyond the trainings the selection saw; seed 0 is one of them).
    Under rule `published`: the name (`trained_by_name`)."""
    return name if trained_by_name(params) else selection[name]["arch"]


def searched_arch(variant: str, run: int | str) -> str:
    """The train-stage name of the genotype derived from search `variant`, run `run`."""
    return f"{variant}-run{run}"


def parse_searched(arch: str) -> tuple[str, int] | None:
    """(variant, run) of a cell with a genotype file under derive/: a searched one, or a random
    one (variant random_<space>)."""
    m = SEARCHED.match(arch)
    return (m["variant"], int(m["run"])) if m else None


def is_random(arch: str) -> bool:
    return arch.startswith(RANDOM)


@dataclass(frozen=True)
class Row:
    label: str
    arch: str
    paper: str  # key into the paper's numbers


def table1_rows(params: dict) -> list[Row]:
    t = params["table1"]
    rows = [Row(LABELS[a], a, LABELS[a]) for a in t["resnets"]]
    rows += [Row(LABELS.get(a, a), a, LABELS.get(a, a)) for a in t["published"]]
    for space in ("standard", "reid") if t["random_cells"] else ():
        for run in range(1, t["random_cells"] + 1):
            label = f"{LABELS[RANDOM + space]} (run {run})"
            rows.append(Row(label, searched_arch(RANDOM + space, run), label))
    for variant in t["variants"]:  # each an entry of search_variants (autoreid.config_checks)
        for run in range(1, t["runs"] + 1):
            label = f"{LABELS.get(variant, variant)} (run {run})"
            rows.append(Row(label, searched_arch(variant, run), label))
    return rows


def searched_rows(params: dict) -> list[Row]:
    """Table 1's searched runs (the random cells are not among them)."""
    return [r for r in table1_rows(params) if parse_searched(r.arch) and not is_random(r.arch)]


def random_rows(params: dict) -> list[Row]:
    return [r for r in table1_rows(params) if is_random(r.arch)]


def setting_config(params: dict, setting: str) -> dict:
    """The effective `train` section of a named setting."""
    return merged(params, "train", setting)


def search_config(params: dict, variant: str) -> dict:
    """The effective `search` section of a named variant."""
    return merged(params, "search", variant)


def table2_cells(params: dict) -> list[tuple[int, int, str, str]]:
    """(search index, train index, searched arch, setting) for every cell of Table 2."""
    t = params["table2"]
    return [(i, j, searched_arch(v, t["run"]), s) for i, v in enumerate(t["searches"])
            for j, s in enumerate(t["settings"])]
