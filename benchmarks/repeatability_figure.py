"""The test-retest calibration figure of docs/simulator-repeatability.md: simulated repeatability coefficients of the
day-7 scans against Jauw et al. (Mol Imaging Biol 2018), with the +-20 % band the tests accept.

Run: .venv/bin/python benchmarks/repeatability_figure.py [--patients 30] [--pairs 3] [--seed 0] [--out docs/figures/simulator_repeatability.png]
Prints the table it plots (simulated RC, closed-form RC of VOI means, target).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from immunopet.simulate import default_params
    from immunopet.simulate.repeatability import cohort_retest, summarise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/figures/simulator_repeatability.png"))
    args = parser.parse_args()
    targets = default_params()["scanner"]["repeatability_targets"]
    pairs, closed = cohort_retest(args.patients, args.seed, n_pairs=args.pairs)
    table = summarise(pairs, targets)
    rms = closed.groupby("voi_class")["rc_pct"].apply(lambda v: float(np.sqrt(np.mean(v**2))))
    table["closed_form_pct"] = [rms[c] if m == "suv_mean" else np.nan for c, m in zip(table.voi_class, table.metric)]
    print(table.round(2).to_string(index=False))
    labels = [f"{c.replace('_', ' ')}\n{m.replace('suv_', 'SUV')}" for c, m in zip(table.voi_class, table.metric)]
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=120)
    ax.bar(x - 0.2, table["target_pct"], 0.4, color="#bbbbbb", label="Jauw et al. 2018 (37 MBq, day 6)")
    ax.errorbar(x - 0.2, table["target_pct"], yerr=0.2 * table["target_pct"], fmt="none", ecolor="#555555",
                capsize=3, label="+-20 %")
    ax.bar(x + 0.2, table["rc_pct"], 0.4, color="#1f77b4", label="simulated test-retest (day 7)")
    ax.plot(x + 0.2, table["closed_form_pct"], "k_", markersize=14, label="closed form (VOI mean)")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("repeatability coefficient (%)")
    ax.set_title(f"{args.patients} simulated patients (seed {args.seed}), {args.pairs} noise pairs per VOI", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
