#!/usr/bin/env python3
"""Writes proportion_tests.json: winner-test results computed by scipy, for the Swift tests to match.

Generated with Python 3.11.7, numpy (as scipy pulls it in) and scipy 1.17.1 (`pip install scipy==1.17.1`).
The JSON is committed, so the tests never need scipy; re-run this only to add cases:

    python3 Tests/Fixtures/experiments/make_fixtures.py

Per case (arms listed as [id, sent, successes]):
- the rules of docs/experiments.md decide which arms are tested: arms with no sends are left out; two
  remaining arms get the pooled two-proportion z-test, more get Pearson's chi-square test on the 2xk
  table; no test when fewer than two arms remain or the pooled rate is 0 or 1 (scipy refuses those
  tables: an expected frequency is zero);
- `z`: z = (rate2 - rate1) / sqrt(p(1-p)(1/n1 + 1/n2)) with the pooled p, two-sided p-value from
  scipy.stats.norm.sf (two tested arms only);
- `chi2`: scipy.stats.chi2_contingency(table, correction=False) on the tested arms (also for two arms,
  where it must equal z squared);
- `decisions`: the expected winner for each if_no_winner at the case's confidence.
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import stats

PINNED_SCIPY = "1.17.1"

CASES = [
    # name, confidence, arms
    ("two arms, small difference", 0.95, [("a", 1000, 32), ("b", 1000, 41)]),
    ("two arms, b clearly better", 0.95, [("a", 10000, 320), ("b", 10000, 410)]),
    ("two arms, a clearly better", 0.95, [("a", 5000, 300), ("b", 5000, 200)]),
    ("two arms, large sample", 0.95, [("a", 20000, 640), ("b", 20000, 820)]),
    ("two arms, identical counts", 0.95, [("a", 500, 50), ("b", 500, 50)]),
    ("two arms, identical rates, different sizes", 0.95, [("a", 100, 10), ("b", 200, 20)]),
    ("two arms, tiny counts", 0.95, [("a", 10, 1), ("b", 12, 5)]),
    ("two arms, a million each", 0.95, [("control", 1000000, 30000), ("new", 1000000, 31000)]),
    ("two arms, extreme difference", 0.95, [("a", 10000, 100), ("b", 10000, 900)]),
    ("two arms, very unbalanced", 0.95, [("a", 200, 10), ("b", 20000, 1200)]),
    ("two arms, a single success", 0.95, [("a", 1000, 0), ("b", 1000, 1)]),
    ("two arms, just below 0.05", 0.95, [("a", 2000, 100), ("b", 2000, 129)]),
    ("two arms, just above 0.05", 0.95, [("a", 2000, 100), ("b", 2000, 128)]),
    ("two arms, 99% confidence not reached", 0.99, [("a", 2000, 100), ("b", 2000, 135)]),
    ("two arms, high rates", 0.95, [("a", 100, 95), ("b", 100, 99)]),
    ("two arms, one arm all successes", 0.95, [("a", 50, 50), ("b", 50, 45)]),
    ("three arms, not significant", 0.95, [("a", 1000, 30), ("b", 1000, 40), ("c", 1000, 50)]),
    ("three arms, significant", 0.95, [("a", 10000, 300), ("b", 10000, 400), ("c", 10000, 500)]),
    ("three arms, identical", 0.95, [("a", 3000, 90), ("b", 3000, 90), ("c", 3000, 90)]),
    ("three arms, extreme", 0.95, [("a", 50000, 500), ("b", 50000, 2500), ("c", 50000, 5000)]),
    ("three arms, tie at the top", 0.95, [("a", 5000, 250), ("b", 5000, 250), ("c", 5000, 100)]),
    ("three arms, one tiny arm", 0.95, [("a", 5000, 150), ("b", 7, 2), ("c", 5000, 170)]),
    ("four arms, moderate", 0.95, [("a", 2500, 80), ("b", 2500, 95), ("c", 2500, 70), ("d", 2500, 110)]),
    ("five arms, 90% confidence", 0.90,
     [("a", 800, 40), ("b", 820, 52), ("c", 790, 38), ("d", 805, 47), ("e", 810, 55)]),
    ("six arms, large", 0.95,
     [("v1", 100000, 3000), ("v2", 100000, 3100), ("v3", 100000, 2950),
      ("v4", 100000, 3050), ("v5", 100000, 3300), ("v6", 100000, 3020)]),
    ("ten arms, small", 0.95, [(f"arm{i}", 100 + 10 * i, 5 + (i * 7) % 11) for i in range(10)]),
    ("edge: an arm with no sends (two tested)", 0.95, [("a", 1000, 30), ("b", 0, 0), ("c", 1000, 60)]),
    ("edge: four arms, one with no sends", 0.95,
     [("a", 0, 0), ("b", 4000, 120), ("c", 4000, 160), ("d", 4000, 200)]),
    ("edge: no successes anywhere", 0.95, [("a", 100, 0), ("b", 100, 0)]),
    ("edge: no successes in three arms", 0.95, [("a", 100, 0), ("b", 250, 0), ("c", 80, 0)]),
    ("edge: every message a success", 0.95, [("a", 10, 10), ("b", 20, 20), ("c", 5, 5)]),
    ("edge: only one arm sent", 0.95, [("a", 100, 5), ("b", 0, 0)]),
    ("edge: nothing sent", 0.95, [("a", 0, 0), ("b", 0, 0), ("c", 0, 0)]),
]


def rate(arm):
    return arm[2] / arm[1] if arm[1] > 0 else None


def highest(arms):
    """The arm with the highest rate, the first listed among equals; None when no arm sent."""
    best = None
    for arm in arms:
        r = rate(arm)
        if r is None:
            continue
        if best is None or r > rate(best):
            best = arm
    return best


def z_test(a, b):
    n1, s1, n2, s2 = a[1], a[2], b[1], b[2]
    pooled = (s1 + s2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (s2 / n2 - s1 / n1) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def case_entry(name, confidence, arms):
    tested = [a for a in arms if a[1] > 0]
    total_sent = sum(a[1] for a in tested)
    total_success = sum(a[2] for a in tested)
    testable = len(tested) >= 2 and 0 < total_success < total_sent
    entry = {
        "name": name,
        "confidence": confidence,
        "arms": [{"id": a[0], "sent": a[1], "successes": a[2]} for a in arms],
        "testable": testable,
    }
    p_value = None
    if testable:
        table = np.array([[a[2] for a in tested], [a[1] - a[2] for a in tested]])
        res = stats.chi2_contingency(table, correction=False)
        entry["chi2"] = {"statistic": float(res.statistic), "p_value": float(res.pvalue), "dof": int(res.dof)}
        p_value = float(res.pvalue)
        if len(tested) == 2:
            z, pz = z_test(tested[0], tested[1])
            entry["z"] = {"statistic": z, "p_value": pz}
            p_value = pz
    significant = p_value is not None and p_value < 1 - confidence
    if significant:
        winner = highest(tested)[0]
        decisions = {"best": winner, "first": winner, "stop": winner}
    else:
        best = highest(tested) or arms[0]
        decisions = {"best": best[0], "first": arms[0][0], "stop": None}
    entry["significant"] = significant
    entry["decisions"] = decisions
    return entry


def main():
    if scipy.__version__ != PINNED_SCIPY:
        print(f"warning: scipy {scipy.__version__}, the fixtures were made with {PINNED_SCIPY}", file=sys.stderr)
    out = {
        "generator": f"make_fixtures.py with scipy {scipy.__version__}, numpy {np.__version__}",
        "cases": [case_entry(*c) for c in CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proportion_tests.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
