"""Model size at the paper's configuration (384x128, 751 identities) against Tables 1, 3, 4."""
import pytest

from autoreid.models.build import arch_spec
from autoreid.profile import profile

PAPER = {  # params (M), multiply-adds (G)
    "resnet18": (11.6, 1.7, 0.10), "resnet34": (21.7, 3.4, 0.10), "resnet50": (25.1, 3.8, 0.10),
    "RETRIEVAL_REID_SEARCH_SPACE": (13.1, 2.05, 0.30),
    "BASELINE_REID_SEARCH_SPACE": (13.1, 2.05, 0.30),  # the paper's "Auto-ReID" (Tables 3, 4)
    "DARTS_V2": (9.1, 1.75, 0.30), "GDAS_V1": (13.5, 2.3, 0.30),
}


@pytest.mark.parametrize("arch", list(PAPER))
def test_params_and_flops_near_the_paper(arch):
    params, flops, tol = PAPER[arch]
    p = profile(arch_spec(arch, 751, 64, (2, 2, 2, 2)), 384, 128)
    assert abs(p["params_M"] / params - 1) <= tol, p
    assert abs(p["flops_G"] / flops - 1) <= tol, p
