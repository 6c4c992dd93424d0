# Validate the params, fix the params file every job reads, and build target lists.
import os

from autoreid.config import load_params, validate
from autoreid.errors import UserError
from autoreid.data.benchmarks import BENCHMARKS
from autoreid.experiments import SEARCH_BENCHMARK, SELECTED, Paths, parse_searched, table1_rows
from autoreid.tables import transfer


def _params_file():
    given = [str(f) for f in workflow.config_settings.configfiles]
    default = os.path.join(workflow.basedir, "params", "default.yaml")
    path = os.path.relpath(given[-1] if given else default)
    try:
        validate(config, "config")
        if load_params(path) != config:
            raise UserError(f"{path}: the jobs read this file, but the config differs from it "
                            "(--config overrides, or keys missing from a partial params file); "
                            "write a complete params file and pass it with --configfile")
    except UserError as e:
        raise WorkflowError(str(e)) from None
    return path


PARAMS = _params_file()
P = Paths(config["results"])
R = config["results"]
THREADS = max(1, config["threads"])
DEVICE = config["device"]
GPU = config["gpus_per_job"]
STORE = config["store"]["format"]
RUNTIME = f"--device {DEVICE} --threads {{threads}}"


wildcard_constraints:
    benchmark="[a-z0-9-]+",
    dataset="[a-z0-9]+",
    variant="[a-z0-9_]+",
    run="[0-9]+",
    setting="[a-z0-9_]+",
    arch="[A-Za-z0-9_]+(-run[0-9]+)?",


def log_path(stage, *parts):
    return os.path.join(R, "logs", stage, *parts) + ".log"


TABLE1_ROWS = table1_rows(config)
TABLES = (1, 5, 6)
TABLE_FILES = [P.table(n, ext) for n in TABLES for ext in ("md", "tex", "csv")]

for name, dataset in config["datasets"].items():
    if not dataset["synthetic"] and not os.path.exists(dataset["raw"]):
        print(f"note: {name} not found at {dataset['raw']}: `autoreid data prepare` will fail until "
              f"you put it there (`autoreid data fetch`, README 'Real data')", file=sys.stderr)
