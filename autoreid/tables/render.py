"""Write one table as Markdown (tabulate), LaTeX (booktabs) and CSV, and its summary metrics
as JSON (what `dvc exp show` compares: ours, not the quoted rows), atomically."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from autoreid.experiments import network_seeds
from autoreid.io import write_json, write_text

RUN = re.compile(r"^(?P<name>.+) \(run (?P<run>\d+)\)$")


def interval_note(params: dict) -> str:
    """The line under a table that says what its intervals cover and what n is."""
    s, boot = params["seeds"], params["bootstrap"]
    count, networks, sd = s["count"], network_seeds(params), s["sd"]
    one = ("one training's seed noise measured on this profile (seeds.sd: sd "
           f"{100 * sd['mAP']:.1f} mAP, {100 * sd['rank1']:.1f} R1)" if None not in sd.values()
           else "not the seed noise (one training a row, seeds.sd not measured)")
    spread = "the spread of each row's n training seeds (Student's t)"
    seeds = (spread if min(count, networks) > 1 else f"{spread} where n > 1, else {one}"
             if networks > 1 else one)
    return (f"Ours: the mean over n training seeds; 95% CI: the test set's identities (bootstrap, "
            f"{boot['resamples']} resamples) and {seeds}. Two rows differ beyond noise only where "
            "`autoreid compare` says so.")


def _fmt(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 1 or v == 0 else f"{v:.2f}"
    return str(v)


def _latex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("–", "--")):
        s = s.replace(a, b)
    return s


def to_latex(df: pd.DataFrame, caption: str, label: str) -> str:
    cols = list(df.columns)
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             r"\begin{tabular}{l" + "r" * (len(cols) - 1) + "}", r"\toprule",
             " & ".join(_latex_escape(str(c)) for c in cols) + r" \\", r"\midrule"]
    for _, row in df.iterrows():
        lines.append(" & ".join(_latex_escape(_fmt(v)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex_escape(caption)}}}",
              rf"\label{{{label}}}", r"\end{table}", ""]
    return "\n".join(lines)


def to_markdown(df: pd.DataFrame, title: str, notes: list[str]) -> str:
    from tabulate import tabulate

    body = tabulate([[_fmt(v) for v in row] for row in df.itertuples(index=False)],
                    headers=list(df.columns), tablefmt="github", disable_numparse=True)
    return "\n".join([f"# {title}", "", body, "", *[f"- {n}" for n in notes], ""])


def summary(df: pd.DataFrame) -> dict:
    """{row: {metric: value}} for our rows (not the quoted ones, nor the paper's columns), mAP and
    R1 in %; the runs of one algorithm ("X (run n)") become X's mean and best."""
    label = df.columns[0]
    columns = [c for c in df.columns
               if re.search(r"(^|\s)(mAP|R1)$", c) and not c.startswith("paper")]
    out, runs = {}, {}
    for _, row in df.iterrows():
        if "(quoted)" in str(row[label]):
            continue
        values = {c: round(float(row[c]), 2) for c in columns if pd.notna(row[c])}
        match = RUN.match(str(row[label]))
        if match:
            runs.setdefault(match["name"], []).append(values)
        elif values:
            out[str(row[label])] = values
    for name, rows in runs.items():
        out[name] = {f"{how} {c}": round(f([r[c] for r in rows if c in r]), 2)
                     for c in columns for how, f in (("mean", lambda v: sum(v) / len(v)),
                                                     ("best", max)) if any(c in r for r in rows)}
    return out


def write_table(df: pd.DataFrame, stem: str | Path, title: str, notes: list[str], label: str,
                metrics: dict | None = None) -> list[str]:
    """The table in Markdown, LaTeX and CSV, and `metrics` (default: its `summary`) as JSON."""
    stem = str(stem)
    if "n" in df.columns:  # seeds per row: a count, empty where no training is behind a row
        df = df.assign(n=df["n"].astype("Int64"))
    write_text(stem + ".md", to_markdown(df, title, notes))
    write_text(stem + ".tex", to_latex(df, title + ". " + " ".join(notes), label))
    write_text(stem + ".csv", df.to_csv(index=False))
    write_json(stem + ".json", summary(df) if metrics is None else metrics)
    return [stem + ext for ext in (".md", ".tex", ".csv", ".json")]
