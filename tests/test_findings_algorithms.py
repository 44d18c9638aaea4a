"""The values chapter 2 cites (rum_core.findings.algorithms), on hand-built summaries with hand-computed
answers. Each test names the mistake it guards against."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from rum_core.findings import algorithms

BOOK = Path(__file__).resolve().parents[1] / "book"


def _summary(rows, n=3):
    """A summarize()-like frame from ``(method, tow, rel_grad_evals)`` rows."""
    return pd.DataFrame([{"method": m, "tow": t, "tow_ci": 0.01, "rel_grad_evals": c, "rel_grad_evals_ci": 0.0,
                          "n": n} for m, t, c in rows])


# deliberately not sorted by ToW, and retrain (ToW 1) and identity are not contenders
ROWS = [("retrain", 1.0, 1.0), ("b", 0.80, 0.5), ("identity", 0.90, 0.0), ("a", 0.95, 0.04),
        ("c", 0.92, 0.2), ("e", 0.90, 0.3)]


def test_ranking_picks_best_and_worst_by_tow_whatever_the_row_order():
    """Guards against trusting the row order (the chapter happens to sort), swapping argmax and argmin, or
    ranking retrain (ToW 1 by definition) and identity among the methods."""
    found = algorithms.ranking(_summary(ROWS))
    assert found == {
        "n_seeds": 3,
        "best_method": "a", "best_tow": 0.95, "best_cost": pytest.approx(4.0),
        "worst_method": "b", "worst_tow": 0.80,
        "identity_tow": 0.90,
        "n_beat_identity": 2, "n_methods": 4,  # a, c, e, b; e only ties identity
        "beat_identity": "`a`, `c`",
    }


def test_beating_identity_is_strict_and_listed_best_first():
    """Guards against ≥ instead of > (a method that ties doing nothing has not beaten it) and against listing
    the methods in table order rather than best first."""
    rows = [("retrain", 1.0, 1.0), ("identity", 0.9, 0.0), ("x", 0.91, 0.1), ("y", 0.99, 0.1), ("z", 0.9, 0.1)]
    found = algorithms.ranking(_summary(rows))
    assert found["beat_identity"] == "`y`, `x`" and found["n_beat_identity"] == 2


def test_no_method_beats_identity_reads_none():
    found = algorithms.ranking(_summary([("retrain", 1.0, 1.0), ("identity", 0.9, 0.0), ("x", 0.5, 0.1)]))
    assert found["beat_identity"] == "none" and found["n_beat_identity"] == 0
    assert found["best_method"] == found["worst_method"] == "x"


def test_ties_keep_the_table_order():
    """Equal means: the best is the earlier row, the worst the later one (the chapter's sorted table read top
    and bottom), never an arbitrary one."""
    rows = [("retrain", 1.0, 1.0), ("identity", 0.5, 0.0), ("p", 0.9, 0.1), ("q", 0.9, 0.2), ("r", 0.6, 0.3),
            ("s", 0.6, 0.4)]
    found = algorithms.ranking(_summary(rows))
    assert (found["best_method"], found["best_cost"]) == ("p", pytest.approx(10.0))
    assert found["worst_method"] == "s"


def test_values_are_plain_python_numbers():
    """The glued text is the value's repr: a numpy float would print as np.float64(...) in the prose."""
    found = algorithms.ranking(_summary(ROWS))
    assert all(type(v) in (int, float, str) for v in found.values())


@pytest.mark.parametrize("bad, error, match", [
    (_summary([r for r in ROWS if r[0] != "identity"]), ValueError, "identity"),
    (_summary([r for r in ROWS if r[0] != "retrain"]), ValueError, "retrain"),
    (_summary([*ROWS, ("a", 0.1, 0.1)]), ValueError, "one row per method"),
    (_summary([("retrain", 1.0, 1.0), ("identity", 0.9, 0.0)]), ValueError, "no method to rank"),
    (_summary(ROWS).assign(n=[3, 3, 3, 2, 3, 3]), ValueError, "same number of seeds"),
    (_summary(ROWS).assign(tow=[1.0, float("nan"), 0.9, 0.95, 0.92, 0.9]), ValueError, "NaN"),
    (_summary(ROWS).drop(columns="rel_grad_evals"), ValueError, "rel_grad_evals"),
    (_summary(ROWS).assign(tow="high"), TypeError, "tow"),
    (_summary(ROWS).to_dict(), TypeError, "summary"),
])
def test_bad_summaries_are_refused_naming_the_problem(bad, error, match):
    with pytest.raises(error, match=match):
        algorithms.ranking(bad)


def test_the_ranking_provides_every_value_the_chapter_cites():
    """Guards against a renamed key: the prose's {glue:text} names (figures aside) are exactly its keys."""
    nb = json.loads((BOOK / "02_algorithms.ipynb").read_text())
    prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    cited = set(re.findall(r"\{glue:text\}`([^`:]+)", prose))
    assert cited == set(algorithms.ranking(_summary(ROWS)))
