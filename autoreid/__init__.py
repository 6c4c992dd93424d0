"""autoreid: Auto-ReID (ICCV 2019) — architecture search for person re-identification.

`autoreid.load_model("model.pt")` gives a trained network's embedding API (autoreid.use.model)."""

from autoreid.version import __version__  # noqa: F401


def load_model(path, device="cpu"):
    """A trained network (`autoreid train`'s model.pt) whose `embed(images)` returns N x D
    features as `autoreid extract` computes them (autoreid.use.model.Model)."""
    from autoreid.use.model import load_model as load

    return load(path, device)
