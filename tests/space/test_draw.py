"""Cell drawings: graphviz's dot lays the cells out left to right where it is installed;
matplotlib draws them otherwise. Both write a complete image file."""
import shutil

import pytest

from autoreid.space import genotypes
from autoreid.space.draw import draw_genotype, genotype_dot

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_dot_source_has_every_edge_labelled_left_to_right():
    g = genotypes.resolve("BASELINE_REID_SEARCH_SPACE")
    dot = genotype_dot(g, "Auto-ReID")
    assert "rankdir=LR" in dot and 'label="Auto-ReID"' in dot
    edges = [line for line in dot.splitlines() if "->" in line and "label=" in line]
    assert len(edges) == len(g.normal) + len(g.reduce) == 16
    assert 'reduce_in0 -> reduce_0 [label="part_aware 0.43"' in dot
    assert sum("_out [" in line for line in dot.splitlines() if "->" in line) == 8  # 4 + 4 concat


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_dot_draws_a_png(tmp_path):
    out = tmp_path / "cells.png"
    assert draw_genotype(genotypes.resolve("DARTS_V2"), out, "DARTS_V2") == "dot"
    assert out.read_bytes().startswith(PNG) and not list(tmp_path.glob(".*"))


def test_the_matplotlib_fallback_draws_a_png(tmp_path):
    out = tmp_path / "cells.png"
    assert draw_genotype(genotypes.resolve("DARTS_V2"), out, engine="matplotlib") == "matplotlib"
    assert out.read_bytes().startswith(PNG)


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_a_format_dot_cannot_write_is_one_line_and_nothing_written(tmp_path):
    from autoreid.errors import UserError

    out = tmp_path / "cells.notaformat"
    with pytest.raises(UserError, match="cells.notaformat: graphviz could not draw it") as e:
        draw_genotype(genotypes.resolve("DARTS_V2"), out)
    assert "\n" not in str(e.value) and not list(tmp_path.iterdir())
