"""Two remedies for DARTS' drift towards parameter-free ops, chosen by `search.regularizer`
(`none`: the paper's search). Neither changes the genotype's format or its derivation.

- `beta` (β-DARTS, Ye et al., CVPR 2022): the alpha step minimises L_val + λ Σ_cells mean_edges
  logsumexp(α_edge). The penalty's gradient on an edge's α is λ / edges x softmax(α_edge): it pulls
  every op's α down in proportion to its weight, so no op's weight runs away. λ is
  `search.beta_weight`, the same at every step (our choice).
- `dartsminus` (DARTS-, Chu et al., ICLR 2021): every stride-1 edge of the supernet adds its
  input times β, an auxiliary skip that is not an op of the search (autoreid.space.supernet).
  β decays linearly from 1 at the first epoch to 0 at the last, so the search ends as DARTS and
  its skip_connect no longer wins by standing in for a residual path the network needs early.
"""
from __future__ import annotations

import torch

REGULARIZERS = ("none", "beta", "dartsminus")


def skip_weight(epoch: int, epochs: int) -> float:
    """DARTS-'s β during epoch `epoch` (0-based) of `epochs`: 1 at the first, 0 at the last
    (1 for a one-epoch search)."""
    return 1.0 - epoch / max(epochs - 1, 1)


def beta_penalty(alphas: list[torch.Tensor], weight: float) -> torch.Tensor:
    """β-DARTS' term: `weight` x the sum over the cells' alphas (normal, reduce; edges x ops) of
    the mean over edges of logsumexp over the ops."""
    return weight * sum(torch.logsumexp(a, dim=-1).mean() for a in alphas)
