"""Corrupt, truncated and missing images at `autoreid data prepare`: fail (default) naming the
file, or skip with a warning per image and a count."""
import shutil

from autoreid.data.manifest import read_manifest
from helpers import assert_user_error, run_cli


def damaged_copy(market, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(market["raw"], raw)
    images = sorted(raw.glob("*/bounding_box_train/*.jpg"))
    truncated, garbage = images[3], images[7]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    garbage.write_bytes(b"not a jpeg at all")
    return raw, {truncated.name, garbage.name}


def test_bad_images_fail_by_default_and_are_skipped_on_request(market, tmp_path):
    raw, bad = damaged_copy(market, tmp_path)
    args = ["data", "prepare", "--benchmark", "market1501", "--raw", raw]
    proc = run_cli(*args, "--out-dir", tmp_path / "fail")
    assert_user_error(proc, "image corrupt", "bad_images: skip")
    assert any(name in proc.stderr for name in bad)
    assert not (tmp_path / "fail" / "manifest.csv").exists()

    proc = run_cli(*args, "--out-dir", tmp_path / "skip", "--set", "bad_images=skip", check=True)
    assert "skipped 2 of" in proc.stderr and all(name in proc.stderr for name in bad)
    kept = {r.path.rsplit("/", 1)[1] for r in read_manifest(tmp_path / "skip" / "manifest.csv")}
    full = {r.path.rsplit("/", 1)[1] for r in read_manifest(market["manifest"])}
    assert kept == full - bad
