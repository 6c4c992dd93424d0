"""A job's device set up (autoreid.runtime.setup): on a GPU, TF32 as the params' `tf32` says."""
import pytest
import torch

from autoreid.runtime import setup


@pytest.fixture
def one_gpu(monkeypatch):
    """No GPU here: torch answers as a machine with one would; the flags are torch's own."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    for flags, name in ((torch.backends.cuda.matmul, "allow_tf32"), (torch.backends.cudnn, "allow_tf32"),
                        (torch.backends.cudnn, "benchmark")):
        monkeypatch.setattr(flags, name, getattr(flags, name))  # restored after the test


@pytest.mark.parametrize("tf32", [True, False])
def test_tf32_is_set_for_matmuls_and_convolutions_alike(one_gpu, tf32):
    assert setup("cuda", tf32=tf32) == torch.device("cuda", 0)
    assert torch.backends.cuda.matmul.allow_tf32 is tf32
    assert torch.backends.cudnn.allow_tf32 is tf32


def test_the_cpu_leaves_the_gpu_flags_alone():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    assert setup("cpu", tf32=not before[0]) == torch.device("cpu")
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


def test_a_job_sharing_its_gpu_may_allocate_its_share_of_the_memory(one_gpu, monkeypatch):
    fractions = []
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda fraction, device: fractions.append((fraction, device)))
    setup("cuda")
    assert fractions == []  # a GPU of its own: all of it
    monkeypatch.setenv("AUTOREID_JOBS_PER_GPU", "4")
    setup("cuda")
    assert fractions == [(0.25, 0)]


def test_the_jobs_threads_are_shared_by_the_ranks_torchrun_started(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
        setup("cpu", threads=8)
        assert torch.get_num_threads() == 2  # 8 threads for the job: 2 a rank, not 8 each
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
        setup("cpu", threads=2)
        assert torch.get_num_threads() == 1
        monkeypatch.delenv("LOCAL_WORLD_SIZE")
        setup("cpu", threads=3)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
