#!/usr/bin/env python3
"""Compare two replications.csv files (e.g. Rust patientflow vs the SimPy
reference) metric by metric: difference of means with its Welch standard
error, flagging |difference| > K standard errors (default 3).

Usage: compare.py A.csv B.csv [--label-a rust] [--label-b simpy] [--k 3] [--all]

Both files have a header `replication,<metric>...`; metrics present in both
are compared. Replications are independent between the two files (no pairing).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys


def read(path: str) -> dict[str, list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols: dict[str, list[float]] = {}
    for row in rows:
        for k, v in row.items():
            if k == "replication" or v in (None, ""):
                continue
            cols.setdefault(k, []).append(float(v))
    return cols


def mean_var(xs: list[float]) -> tuple[float, float]:
    n = len(xs)
    m = sum(xs) / n
    v = sum((x - m) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
    return m, v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--label-a", default="rust")
    ap.add_argument("--label-b", default="simpy")
    ap.add_argument("--k", type=float, default=3.0, help="flag |diff| > k SE")
    ap.add_argument("--all", action="store_true", help="print every metric, not only flagged ones")
    args = ap.parse_args(argv)

    a, b = read(args.a), read(args.b)
    metrics = [m for m in a if m in b]
    na = len(next(iter(a.values())))
    nb = len(next(iter(b.values())))
    print(f"{args.label_a}: {na} replications ({args.a})")
    print(f"{args.label_b}: {nb} replications ({args.b})")
    print(f"difference = {args.label_b} - {args.label_a}; SE by Welch; "
          f"flagged when |difference| > {args.k:g} SE\n")
    header = f"| metric | {args.label_a} mean | {args.label_b} mean | difference | SE | z | flag |"
    print(header)
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    flagged = 0
    for m in metrics:
        ma, va = mean_var(a[m])
        mb, vb = mean_var(b[m])
        se = math.sqrt(va / len(a[m]) + vb / len(b[m]))
        diff = mb - ma
        if se > 0:
            z = diff / se
            flag = abs(z) > args.k
        else:
            z = 0.0 if diff == 0 else math.inf
            flag = diff != 0
        flagged += flag
        if flag or args.all:
            print(f"| {m} | {ma:.6g} | {mb:.6g} | {diff:+.4g} | {se:.3g} | {z:+.2f} | "
                  f"{'**>' + format(args.k, 'g') + ' SE**' if flag else ''} |")
    print(f"\n{flagged} of {len(metrics)} metrics beyond {args.k:g} SE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
