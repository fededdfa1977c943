#!/usr/bin/env python3
"""Writes synthetic-2026-12-01.csv: a SYNTHETIC census, not patient data.

Reproducible: `python3 scenarios/census/make-synthetic-census.py` (Python 3
standard library only, fixed seed) writes the same bytes every time.

The patients are the counts of scenarios/winter-from-today.toml, one row
each. A patient's days so far are drawn from the equilibrium age of the
baseline's duration for that service: in a system in equilibrium the time
already spent has the same distribution as the time left (the equilibrium
residual, docs/model.md "Remaining durations"): U x S*, S* length-biased
(lognormal: mu + sigma^2; gamma: shape + 1). Medically fit patients are
written with their pathway and no days so far; patients waiting in the ED
with up to 6 hours so far.
"""
import math
import random

rng = random.Random(20261201)
DAY = 1.0


def lognormal_age(mean, sd):
    sigma2 = math.log(1 + sd * sd / (mean * mean))
    mu = math.log(mean) - sigma2 / 2
    return rng.random() * math.exp(rng.gauss(mu + sigma2, math.sqrt(sigma2)))


def gamma_age(mean, sd):
    shape, scale = (mean / sd) ** 2, sd * sd / mean
    return rng.random() * rng.gammavariate(shape + 1, scale)


rows = []
rows += [("acute", "frail", lognormal_age(10.5, 12), "in_stay") for _ in range(180)]
rows += [("acute", "other", lognormal_age(4, 13), "in_stay") for _ in range(235)]
for pathway, n in (("fit_p0", 10), ("fit_p1", 18), ("fit_p2", 9), ("fit_p3", 1)):
    rows += [("acute", "frail", None, pathway) for _ in range(n)]
rows += [("ed", "frail", rng.random() * 0.25, "waiting") for _ in range(3)]
rows += [("ed", "other", rng.random() * 0.25, "waiting") for _ in range(9)]
rows += [("rehab", "", gamma_age(21.7, 10), "") for _ in range(32)]
for cls, n, mean, sd in (("discharge", 290, 21, 14), ("avoidance", 45, 14, 10),
                         ("community", 510, 35, 25)):
    rows += [("community", "", gamma_age(mean, sd), cls) for _ in range(n)]
rows += [("community_waiting", "", rng.random() * 3, "community") for _ in range(1)]
rows += [("mh_bed", "", lognormal_age(33, 40), "") for _ in range(41)]

with open(__file__.replace("make-synthetic-census.py", "synthetic-2026-12-01.csv"), "w") as f:
    f.write("# SYNTHETIC census for 2026-12-01: made by make-synthetic-census.py (fixed seed),\n")
    f.write("# not patient data. Format: docs/scenario-format.md, \"The census CSV\".\n")
    f.write("service,group,days,state\n")
    for service, group, days, state in rows:
        d = "" if days is None else f"{days:.2f}"
        f.write(f"{service},{group},{d},{state}\n")
