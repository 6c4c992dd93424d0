"""`autoreid query`: a gallery folder ranked against a query image in the order of `evaluate`'s
distances; the gallery's features cached (model and file digests) and reused; bad inputs."""
import json
import shutil
import time

import numpy as np
import torch
from helpers import assert_user_error, run_cli

import autoreid
from autoreid.evaluate.metrics import ranking
from autoreid.extract import read_features


def test_query_ranks_as_evaluate_and_reuses_the_cache(trained, market, tmp_path):
    features = tmp_path / "features.h5"
    run_cli("extract", "--manifest", market["manifest"], "--checkpoint", trained, "--out", features,
            "--set", "device=cpu", check=True)
    sets = read_features(features)
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for p in sets["gallery"].paths:
        shutil.copy(p, gallery)
    names = [p.rsplit("/", 1)[-1] for p in sets["gallery"].paths]
    q = 2
    cache = tmp_path / "cache.h5"
    args = ["query", "--model", trained, "--gallery", gallery, "--image", sets["query"].paths[q],
            "--top", "10", "--out", tmp_path / "q.json", "--cache", cache]
    start = time.time()
    proc = run_cli(*args, check=True)
    first = time.time() - start
    result = json.loads((tmp_path / "q.json").read_text())
    ranked = [m["path"].rsplit("/", 1)[-1] for m in result["queries"][0]["ranked"]]
    scores = ranking(torch.from_numpy(sets["query"].features[q:q + 1]),
                     torch.from_numpy(sets["gallery"].features))[0].numpy()
    assert ranked == [names[i] for i in np.argsort(scores, kind="stable")[:10]]
    distances = [m["distance"] for m in result["queries"][0]["ranked"]]
    assert distances == sorted(distances)
    np.testing.assert_allclose(distances[0], np.linalg.norm(
        sets["gallery"].features[names.index(ranked[0])] - sets["query"].features[q]), rtol=1e-3)
    assert result["embedded"] == len(names) and result["reused"] == 0
    assert (tmp_path / "q.png").stat().st_size > 0 and ranked[0] in proc.stdout

    start = time.time()
    run_cli(*args, check=True)
    second = time.time() - start
    again = json.loads((tmp_path / "q.json").read_text())
    assert again["reused"] == len(names) and again["embedded"] == 0
    assert again["queries"] == result["queries"]
    print(f"query: first {first:.1f} s (gallery of {len(names)} embedded), second {second:.1f} s "
          "(from the cache)")

    shutil.copy(sets["query"].paths[0], gallery / "new.jpg")  # one new file: only it is embedded
    run_cli(*args, check=True)
    assert json.loads((tmp_path / "q.json").read_text())["embedded"] == 1


def test_a_folder_of_queries_and_the_embedding_api_agree(trained, market, tmp_path):
    raw = market["raw"] / "Market-1501-v15.09.15"
    queries = sorted((raw / "query").glob("*.jpg"))[:3]
    assert queries
    folder = tmp_path / "queries"
    folder.mkdir()
    for p in queries:
        shutil.copy(p, folder)
    run_cli("query", "--model", trained, "--gallery", raw / "bounding_box_test", "--image",
            folder, "--top", "3", "--metric", "cosine", "--out", tmp_path / "q.json",
            "--cache", tmp_path / "c.h5", check=True)
    result = json.loads((tmp_path / "q.json").read_text())
    assert [q["query"].rsplit("/", 1)[-1] for q in result["queries"]] == [p.name for p in queries]
    model = autoreid.load_model(trained)
    best = result["queries"][0]["ranked"][0]
    a, b = model.embed([queries[0], best["path"]], normalize=True)
    assert abs((1 - float(a @ b)) - best["distance"]) < 1e-4


def test_bad_inputs_are_one_line_and_write_nothing(trained, market, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    gallery = market["raw"] / "Market-1501-v15.09.15" / "bounding_box_test"
    image = sorted((gallery.parent / "query").glob("*.jpg"))[0]
    out = ["--out", tmp_path / "q.json", "--cache", tmp_path / "c.h5"]
    cases = [
        (["--gallery", empty, "--image", image], "empty: no images (.jpg, .jpeg, .png, .bmp) in the "
                                                  "gallery folder"),
        (["--gallery", tmp_path / "none", "--image", image], "none: gallery folder not found"),
        (["--gallery", gallery, "--image", tmp_path / "missing.jpg"], "missing.jpg: image not found"),
        (["--gallery", gallery], "give the query: --image Q.jpg (repeatable) or --images FOLDER"),
        (["--gallery", gallery, "--image", image, "--top", "0"], "--top 0: must be >= 1"),
    ]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    cases.append((["--gallery", gallery, "--image", bad], "bad.jpg: corrupt or unreadable image"))
    for args, message in cases:
        assert_user_error(run_cli("query", "--model", trained, *args, *out), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg", "empty"]
