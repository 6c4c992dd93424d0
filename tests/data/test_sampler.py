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


def test_k_distinct_images_of_an_identity_that_has_k():
    labels = [i // 6 for i in range(36)] + [6, 6, 6, 6] + [7, 7]  # 6 ids of 6, one of exactly K, one of 2
    s = PKSampler(labels, P=3, K=4, generator=torch.Generator().manual_seed(2))
    drawn = Counter()
    for _ in range(30):
        for b in s:
            for pid in {labels[i] for i in b}:
                picks = [i for i in b if labels[i] == pid]
                if labels.count(pid) >= 4:
                    assert len(set(picks)) == 4, (pid, picks)
                drawn.update(picks)
    assert set(drawn) == set(range(len(labels)))  # every image is drawn sometime


def test_different_generators_draw_different_batches():
    labels = [i // 4 for i in range(40)]
    a = list(PKSampler(labels, 2, 4, torch.Generator().manual_seed(0)))
    b = list(PKSampler(labels, 2, 4, torch.Generator().manual_seed(1)))
    assert a != b


def test_fewer_images_than_a_batch_still_make_one_batch_and_the_error_names_p():
    assert len(PKSampler([0, 1, 1, 2, 2, 2], 3, 4, torch.Generator())) == 1
    with pytest.raises(ValueError) as e:
        PKSampler([0, 0, 1], 3, 2, torch.Generator())
    assert str(e.value) == "P=3 identities per batch but only 2 identities"


def test_the_batches_depend_on_the_generator_alone_not_on_the_global_stream():
    labels = [i // 4 for i in range(80)]  # 20 identities: which P of them is a draw

    def epoch(seed: int, global_seed: int) -> list:
        torch.manual_seed(global_seed)
        return list(PKSampler(labels, 4, 4, torch.Generator().manual_seed(seed)))

    assert epoch(3, 0) == epoch(3, 1) == epoch(3, 2)
