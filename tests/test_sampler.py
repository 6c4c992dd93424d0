from collections import Counter

import pytest
import torch

from autoreid.data.sampler import PKSampler


def test_pk_contract():
    labels = [i // 5 for i in range(50)] + [10, 11, 11]  # ids 10, 11 have fewer than K images
    s = PKSampler(labels, P=4, K=4, generator=torch.Generator().manual_seed(0))
    batches = list(s)
    assert len(batches) == len(s) == len(labels) // 16
    for _ in range(20):
        for b in s:
            assert len(b) == 16
            counts = Counter(labels[i] for i in b)
            assert len(counts) == 4 and set(counts.values()) == {4}


def test_small_identities_sampled_with_replacement_and_deterministic():
    labels = [0, 1, 1, 2, 2, 2]
    a = list(PKSampler(labels, 3, 4, torch.Generator().manual_seed(1)))
    b = list(PKSampler(labels, 3, 4, torch.Generator().manual_seed(1)))
    assert a == b
    assert Counter(labels[i] for i in a[0]) == {0: 4, 1: 4, 2: 4}


def test_too_few_identities():
    with pytest.raises(ValueError):
        PKSampler([0, 0, 1], 3, 2, torch.Generator())
