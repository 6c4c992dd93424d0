"""Model complexity at the paper's configuration (384x128, 751 identities) against Tables 1, 3, 4."""
import pytest

from autoreid.models.build import arch_spec
from autoreid.complexity import count

PAPER = {  # params (M), multiply-adds (G); tolerance on params, on multiply-adds
    "resnet18": (11.6, 1.7, 0.03, 0.07), "resnet34": (21.7, 3.4, 0.03, 0.07),
    "resnet50": (25.1, 3.8, 0.03, 0.07),
    "DARTS_V2": (9.1, 1.75, 0.03, 0.08), "GDAS_V1": (13.5, 2.3, 0.03, 0.08),
    "BASELINE": (11.9, 2.03, 0.03, 0.08),  # the released Baseline cell (Tables 3, 4: 11.9 M, 2.03 G)
    "BASELINE_REID_SEARCH_SPACE": (13.1, 2.05, 0.05, 0.05),  # the paper's "Auto-ReID" (Tables 3, 4)
    # the paper prints no size for this one; one part_aware edge where Auto-ReID has two
    "RETRIEVAL_REID_SEARCH_SPACE": (13.1, 2.05, 0.06, 0.05),
}


@pytest.mark.parametrize("arch", list(PAPER))
def test_params_and_flops_near_the_paper(arch):
    params, flops, tol_params, tol_flops = PAPER[arch]
    p = count(arch_spec(arch, 751, 64, (2, 2, 2, 2)), 384, 128)
    assert abs(p["params_M"] / params - 1) <= tol_params, p
    assert abs(p["flops_G"] / flops - 1) <= tol_flops, p


def test_one_command_profiles_every_arch_under_every_head(tmp_path):
    import json

    from helpers import assert_user_error, run_cli

    small = ["--set", "C=8", "--set", "layers=[1,1,1,1]", "--set", "height=64", "--set", "width=32"]
    run_cli("complexity", "--arch", "DARTS_V2", "resnet18", "--name", "darts", "r18", "--head", "reid",
            "pcb", "--out-dir", tmp_path / "all", *small, check=True)
    assert sorted(p.name for p in (tmp_path / "all").glob("*.json")) == [
        "darts-pcb.json", "darts-reid.json", "r18-pcb.json", "r18-reid.json"]
    assert (tmp_path / "all" / "r18-pcb.config.yaml").exists()  # how each was made, beside it
    run_cli("complexity", "--arch", "resnet18", "--name", "r18", "--head", "pcb", "--out-dir",
            tmp_path / "one", *small, check=True)
    assert json.loads((tmp_path / "one" / "r18-pcb.json").read_text()) == json.loads(
        (tmp_path / "all" / "r18-pcb.json").read_text())
    assert_user_error(run_cli("complexity", "--arch", "DARTS_V2", "resnet18", "--name", "x"),
                      "2 --arch but 1 --name")


@pytest.mark.parametrize("head", ["reid", "pcb"])
def test_the_hook_count_equals_pytorchs_flop_counter_on_every_op(head):
    """multiply_adds (hooks) against torch.utils.flop_counter (a dispatch mode) on the ResNets, the
    published cells and a random cell of each search space (every op), at two input sizes."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from autoreid.complexity import multiply_adds
    from autoreid.models.build import arch_spec, build
    from autoreid.search.random_cells import random_genotype
    from autoreid.space import genotypes

    archs = ["resnet18", "resnet50", *genotypes.PUBLISHED]
    random = [random_genotype(space, seed) for space in ("standard", "reid") for seed in range(3)]
    specs = [arch_spec(a, 751, 8, (1, 1, 1, 1), head=head) for a in archs]
    for g in random:
        spec = arch_spec("DARTS_V2", 751, 8, (1, 1, 1, 1), head=head)
        specs.append(type(spec)(**{**spec.to_dict(), "layers": (1, 1, 1, 1),
                                   "genotype": g.to_dict()}))
    for spec in specs:
        for h, w in ((64, 32), (96, 40)):
            with torch.device("meta"):
                model = build(spec).eval()
                with torch.no_grad(), FlopCounterMode(display=False) as counter:
                    model(torch.zeros(1, 3, h, w))
                assert multiply_adds(model, h, w) * 2 == counter.get_total_flops(), (spec.name, h, w)
