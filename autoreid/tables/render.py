"""Write one table as Markdown (tabulate), LaTeX (booktabs) and CSV, atomically."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from autoreid.io import write_text


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
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


def write_table(df: pd.DataFrame, stem: str | Path, title: str, notes: list[str], label: str) -> list[str]:
    stem = str(stem)
    write_text(stem + ".md", to_markdown(df, title, notes))
    write_text(stem + ".tex", to_latex(df, title + ". " + " ".join(notes), label))
    write_text(stem + ".csv", df.to_csv(index=False))
    return [stem + ext for ext in (".md", ".tex", ".csv")]
