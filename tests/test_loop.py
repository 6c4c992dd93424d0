"""The loop scaffold's random-number state (autoreid.loop): a resumed run continues the CPU
stream and, on a GPU, the CUDA device's (dropout there draws from it)."""
import torch

from autoreid.loop import Loop, Ranks


def _loop(tmp_path, device: torch.device) -> Loop:
    return Loop("train", tmp_path, {"lr": 0.1}, 2, {}, fresh=float, ranks=Ranks(device=device))


def test_a_checkpoint_on_the_cpu_holds_and_restores_the_cpu_stream(tmp_path):
    loop = _loop(tmp_path, torch.device("cpu"))
    torch.manual_seed(3)
    loop.checkpoint(0, 1, 0.0)
    expected = torch.rand(4)
    torch.rand(10)  # the run went on before it was stopped
    _loop(tmp_path, torch.device("cpu")).resume()
    assert torch.equal(torch.rand(4), expected)
    assert "cuda_rng" not in torch.load(tmp_path / "checkpoint.pt", weights_only=True)


def test_a_checkpoint_on_a_gpu_holds_and_restores_its_cuda_stream(tmp_path, monkeypatch):
    """No GPU here: the CUDA generator's two calls are recorded (the device's state, as a GPU
    would return it, is a byte tensor)."""
    gpu, calls = torch.device("cuda", 0), []
    state = torch.arange(16, dtype=torch.uint8)

    def get_rng_state(device):
        calls.append(("get", device))
        return state

    monkeypatch.setattr(torch.cuda, "get_rng_state", get_rng_state)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, device: calls.append(("set", s, device)))
    _loop(tmp_path, gpu).checkpoint(0, 1, 0.0)
    assert calls == [("get", gpu)]
    _loop(tmp_path, gpu).resume()
    assert calls[1][0] == "set" and torch.equal(calls[1][1], state) and calls[1][2] == gpu


def test_a_gpu_checkpoint_resumed_on_the_cpu_says_the_gpu_stream_starts_afresh(tmp_path, monkeypatch,
                                                                              capsys):
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device: torch.zeros(16, dtype=torch.uint8))
    _loop(tmp_path, torch.device("cuda", 0)).checkpoint(0, 1, 0.0)
    _loop(tmp_path, torch.device("cpu")).resume()
    assert ("[train] the checkpoint was written on a GPU: the GPU's random stream starts afresh"
            in capsys.readouterr().err)
