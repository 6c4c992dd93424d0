"""How a table is written: numbers rounded (one decimal, two below 1), missing values as an en
dash, LaTeX (booktabs) escaped, Markdown with its title and notes, CSV with the full values."""
import json
import math

import pandas as pd

from autoreid.tables.render import summary, to_latex, to_markdown, write_table

DF = pd.DataFrame({"Method": ["A & B_1", "C #2"], "mAP": [71.234, 0.456], "Params": [None, 3.0],
                   "paper": ["–", "12%"]})


def test_latex_booktabs_escaped_and_rounded():
    assert to_latex(DF, "Cap: x_y & z", "tab:t") == "\n".join([
        r"\begin{table}[t]", r"\centering", r"\small", r"\begin{tabular}{lrrr}", r"\toprule",
        r"Method & mAP & Params & paper \\", r"\midrule",
        r"A \& B\_1 & 71.2 & -- & -- \\", r"C \#2 & 0.46 & 3.0 & 12\% \\",
        r"\bottomrule", r"\end{tabular}", r"\caption{Cap: x\_y \& z}", r"\label{tab:t}",
        r"\end{table}", ""])


def test_latex_escapes_backslashes_first():
    df = pd.DataFrame({"a_b": ["x\\y"]})
    assert r"x\textbackslash{}y \\" in to_latex(df, "c", "l") and r"a\_b \\" in to_latex(df, "c", "l")


def test_markdown_title_table_and_notes():
    assert to_markdown(DF, "Title", ["note one", "note two"]) == "\n".join([
        "# Title", "",
        "| Method   | mAP   | Params   | paper   |",
        "|----------|-------|----------|---------|",
        "| A & B_1  | 71.2  | –        | –       |",
        "| C #2     | 0.46  | 3.0      | 12%     |",
        "", "- note one", "- note two", ""])


def test_rounding_rule():
    df = pd.DataFrame({"v": [0.0, 0.994, 0.996, 1.0, 12.349, 12.351, -3.26, float("nan")],
                       "n": [1, 2, 3, 4, 5, 6, 7, 8]})
    md = to_markdown(df, "t", [])
    cells = [line.split("|")[1].strip() for line in md.splitlines()[4:12]]
    assert cells == ["0.0", "0.99", "1.00", "1.0", "12.3", "12.4", "-3.3", "–"]
    assert [line.split("|")[2].strip() for line in md.splitlines()[4:12]] == list("12345678")


def test_write_table_writes_three_formats_and_its_summary_metrics(tmp_path):
    written = write_table(DF, tmp_path / "table9", "Title", ["a note.", "Another."], "tab:9")
    assert written == [str(tmp_path / f"table9{ext}") for ext in (".md", ".tex", ".csv", ".json")]
    assert json.loads((tmp_path / "table9.json").read_text()) == {
        "A & B_1": {"mAP": 71.23}, "C #2": {"mAP": 0.46}}
    assert (tmp_path / "table9.md").read_text() == to_markdown(DF, "Title", ["a note.", "Another."])
    assert (tmp_path / "table9.tex").read_text() == to_latex(DF, "Title. a note. Another.", "tab:9")
    back = pd.read_csv(tmp_path / "table9.csv")
    assert list(back.columns) == list(DF.columns) and back["mAP"][0] == 71.234
    assert math.isnan(back["Params"][0]) and back["Method"][1] == "C #2"
    assert not list(tmp_path.glob("*.tmp*"))  # nothing half-written left behind


def test_summary_keeps_ours_and_sums_up_the_runs_of_an_algorithm():
    df = pd.DataFrame([
        {"Architecture": "ResNet-18", "mAP": 50.0, "R1": 70.0, "paper mAP": 60.0},
        {"Architecture": "Retrieval (run 1)", "mAP": 55.0, "R1": 72.0, "paper mAP": None},
        {"Architecture": "Retrieval (run 2)", "mAP": 57.0, "R1": 71.0, "paper mAP": None},
        {"Architecture": "HPM (quoted)", "mAP": None, "R1": None, "paper mAP": 82.0}])
    assert summary(df) == {"ResNet-18": {"mAP": 50.0, "R1": 70.0}, "Retrieval": {
        "mean mAP": 56.0, "best mAP": 57.0, "mean R1": 71.5, "best R1": 72.0}}


def _note(count, networks, sd):
    from autoreid.tables.render import interval_note

    return interval_note({"seeds": {"count": count, "networks": networks, "sd": sd},
                          "bootstrap": {"resamples": 500}})


MEASURED = {"mAP": 0.041, "rank1": 0.06, "mINP": 0.03}
ONE = "one training's seed noise measured on this profile (seeds.sd: sd 4.1 mAP, 6.0 R1)"
SPREAD = "the spread of each row's n training seeds (Student's t)"


def _sentence(seeds: str) -> str:
    return ("Ours: the mean over n training seeds; 95% CI: the test set's identities (bootstrap, "
            f"500 resamples) and {seeds}. Two rows differ beyond noise only where `autoreid "
            "compare` says so.")


def test_the_interval_note_of_one_training_a_row_names_the_measured_seed_noise():
    assert _note(1, None, MEASURED) == _sentence(ONE)


def test_the_interval_note_says_when_the_seed_noise_is_not_measured():
    none = {"mAP": None, "rank1": None, "mINP": None}
    assert _note(1, None, none) == _sentence(
        "not the seed noise (one training a row, seeds.sd not measured)")


def test_the_interval_note_of_two_seeds_a_row_is_their_spread():
    assert _note(2, None, MEASURED) == _sentence(SPREAD)


def test_the_interval_note_where_only_single_networks_have_seeds_names_both():
    assert _note(1, 8, MEASURED) == _sentence(f"{SPREAD} where n > 1, else {ONE}")
    assert _note(1, 2, MEASURED) == _note(1, 8, MEASURED)
    assert _note(1, 1, MEASURED) == _sentence(ONE)


def test_summary_skips_a_quoted_row_wherever_it_stands_and_rounds_means_to_two_places():
    df = pd.DataFrame([
        {"Architecture": "HPM (quoted)", "mAP": 82.0, "R1": 94.2},
        {"Architecture": "Ours (run 1)", "mAP": 55.0, "R1": 70.0},
        {"Architecture": "Ours (run 2)", "mAP": 56.0, "R1": 70.0},
        {"Architecture": "Ours (run 3)", "mAP": 56.0, "R1": 70.0}])
    assert summary(df) == {"Ours": {"mean mAP": 55.67, "best mAP": 56.0, "mean R1": 70.0,
                                    "best R1": 70.0}}


def test_an_empty_cell_is_a_dash_in_markdown():
    df = pd.DataFrame([{"Method": "A", "mAP": None, "n": pd.NA}])
    assert "| A        | –     | –   |" in to_markdown(df, "T", [])


def test_write_table_keeps_n_a_count_and_writes_the_metrics_it_is_given(tmp_path):
    df = pd.DataFrame([{"Method": "A", "mAP": 50.0, "n": 3.0}, {"Method": "B", "mAP": 40.0,
                                                               "n": float("nan")}])
    write_table(df, tmp_path / "t", "T", [], "tab:t", metrics={"given": 1})
    assert (tmp_path / "t.csv").read_text() == "Method,mAP,n\nA,50.0,3\nB,40.0,\n"
    assert json.loads((tmp_path / "t.json").read_text()) == {"given": 1}


def test_the_interval_note_gives_the_seed_noise_in_points():
    note = _note(1, None, {"mAP": 0.25, "rank1": 0.5, "mINP": 0.1})
    assert "(seeds.sd: sd 25.0 mAP, 50.0 R1)" in note
