#!/usr/bin/env python3
"""An independent SimPy implementation of the patientflow model (docs/model.md).

Reads a scenario TOML file (``extends`` chains included), runs N replications
one after another in this process, and writes one CSV row of results per
replication under the metric names of docs/model.md. Wall time per replication goes
to stderr.

It is a reference for timing and for a statistical cross-check of the Rust
simulator, written the way a SimPy modeller would write it: every patient is a
process (a generator), capacities are ``simpy.Resource`` / ``PriorityResource``,
and time passes with ``env.timeout``. Where the version 1 specification was silent it
follows the choices of the Rust implementation (docs/model.md), listed in
README.md.

Time is in hours from 00:00 on ``scenario.start_date``.

Usage: patientflow_simpy.py SCENARIO.toml --replications N [--out FILE]
       [--first-replication K] [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import random
import sys
import time
import tomllib

import simpy

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
PATHWAYS = ["p0", "p1", "p2", "p3"]
COMMUNITY_CLASSES = ["discharge", "avoidance", "community"]

# Requests of these blockers go before any patient in a PriorityResource: they
# hold places that do not exist (a bed closed by a capacity change, the single
# slot of a service switched off), as SimPy has no resizable resource.
BLOCKER_PRIORITY = -1

METRICS = [
    "crises", "readmissions", "ed_attendances", "admissions",
    "pru_fau_sent_home",
    "pru_eligible", "pru_visits", "pru_missed_busy", "pru_missed_closed",
    "pru_treated_at_home", "pru_utilisation",
    "fau_assessed", "fau_discharged", "fau_missed",
    "bed_occupancy_mean", "midnight_census_mean", "midnight_census_p95",
    "beds_full_share", "bed_wait_mean_hours", "bed_wait_p95_hours",
    "bed_waits_over_4h", "bed_waits_over_12h",
    "delayed_patients_p1", "delayed_patients_p2", "delayed_patients_p3",
    "delayed_bed_days_p1", "delayed_bed_days_p2", "delayed_bed_days_p3",
    "delayed_bed_days", "process_delay_bed_days",
    "community_utilisation", "community_waiting_mean",
    "community_wait_mean_days_discharge", "community_wait_mean_days_avoidance",
    "community_wait_mean_days_community",
    "rehab_occupancy_mean", "rehab_wait_mean_days",
    "care_home_occupancy_mean", "care_home_wait_mean_days",
]


# --------------------------------------------------------------------------
# Scenario file: extends, durations, distributions, clock windows
# --------------------------------------------------------------------------

def merge(base: dict, over: dict) -> dict:
    """Tables merge key by key, `over` winning; arrays are replaced whole."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_scenario(path: str, _seen: tuple = ()) -> dict:
    path = os.path.realpath(path)
    if path in _seen:
        raise ValueError(f"extends cycle: {' -> '.join(_seen + (path,))}")
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base = load_scenario(os.path.join(os.path.dirname(path), parent), _seen + (path,))
    return merge(base, raw)


def set_key(scenario: dict, assignment: str) -> None:
    """--set a.b=value, the value read as TOML."""
    key, _, value = assignment.partition("=")
    parsed = tomllib.loads(f"v = {value}")["v"]
    *tables, last = key.strip().split(".")
    node = scenario
    for t in tables:
        node = node.setdefault(t, {})
    node[last] = parsed


_UNITS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


def hours(text: str) -> float:
    """'90m', '1.5h', '4d', '2w' -> hours. A bare number is an error."""
    if not isinstance(text, str) or text[-1:] not in _UNITS:
        raise ValueError(f"duration needs a unit (m, h, d, w): {text!r}")
    return float(text[:-1]) * _UNITS[text[-1]]


def distribution(spec: dict):
    """A sampler `f(rng) -> hours` from a distribution table."""
    kind = spec["dist"]
    if kind == "fixed":
        v = hours(spec["value"])
        return lambda rng: v
    if kind == "exponential":
        mean = hours(spec["mean"])
        if mean <= 0:
            return lambda rng: 0.0
        lam = 1.0 / mean
        return lambda rng: rng.expovariate(lam)
    if kind in ("lognormal", "gamma"):
        mean, sd = hours(spec["mean"]), hours(spec["sd"])
        if sd <= 0 or mean <= 0:
            return lambda rng: mean
        if kind == "lognormal":
            # Parameters of the log from the mean and sd of the duration itself.
            sigma = math.sqrt(math.log1p((sd / mean) ** 2))
            mu = math.log(mean) - sigma * sigma / 2
            return lambda rng: rng.lognormvariate(mu, sigma)
        shape, scale = (mean / sd) ** 2, sd * sd / mean
        return lambda rng: rng.gammavariate(shape, scale)
    if kind == "weibull":
        shape, scale = float(spec["shape"]), hours(spec["scale"])
        return lambda rng: rng.weibullvariate(scale, shape)
    if kind == "triangular":
        lo, mode, hi = hours(spec["min"]), hours(spec["mode"]), hours(spec["max"])
        return lambda rng: rng.triangular(lo, hi, mode)
    if kind == "uniform":
        lo, hi = hours(spec["min"]), hours(spec["max"])
        return lambda rng: rng.uniform(lo, hi)
    if kind == "empirical":
        values = [hours(v) for v in spec["values"]]
        weights = spec.get("weights")
        cum = None
        if weights is not None:
            cum, acc = [], 0.0
            for w in weights:
                acc += w
                cum.append(acc)
        return lambda rng: rng.choices(values, cum_weights=cum)[0]
    raise ValueError(f"unknown distribution {kind!r}")


def clock_window(text: str):
    """'HH:MM-HH:MM' -> (start, end) in hours of the day, or None for 'none'."""
    if text == "none":
        return None
    a, b = text.split("-")
    start = int(a[:2]) + int(a[3:]) / 60
    end = int(b[:2]) + int(b[3:]) / 60
    if start == end:
        raise ValueError(f"ambiguous window {text!r}: use 00:00-24:00 or none")
    return start, end


def day_intervals(window, day: int):
    """Open intervals (absolute hours) that belong to calendar day `day`.

    Opening days apply to the date of the instant, so a window that crosses
    midnight contributes its early-morning part and its evening part to the
    same date."""
    if window is None:
        return ()
    start, end = window
    base = day * HOURS_PER_DAY
    if start < end:
        return ((base + start, base + end),)
    return ((base, base + end), (base + start, base + HOURS_PER_DAY))


class Calendar:
    """Weekday and month of every day of the run, from the start date."""

    def __init__(self, start_date: dt.date, days: int):
        self.start_date = start_date
        dates = [start_date + dt.timedelta(days=d) for d in range(days + 2)]
        self.weekday = [d.weekday() for d in dates]   # Mon = 0
        self.month = [d.month - 1 for d in dates]       # Jan = 0
        self.dates = dates

    def day_of(self, date: dt.date) -> int:
        return (date - self.start_date).days


class OpeningHours:
    """A service's opening hours: a clock window on some weekdays."""

    def __init__(self, calendar: Calendar, window_text: str, days=None):
        self.calendar = calendar
        self.window = clock_window(window_text)
        self.days = set(range(7)) if days is None else {WEEKDAYS.index(d) for d in days}

    def intervals(self, day: int):
        if self.calendar.weekday[day] not in self.days:
            return ()
        return day_intervals(self.window, day)

    def is_open(self, t: float) -> bool:
        for a, b in self.intervals(int(t // HOURS_PER_DAY)):
            if a <= t < b:
                return True
        return False

    def open_hours(self, lo: float, hi: float) -> float:
        total = 0.0
        for day in range(int(lo // HOURS_PER_DAY), int(math.ceil(hi / HOURS_PER_DAY)) + 1):
            if day >= len(self.calendar.weekday):
                break
            for a, b in self.intervals(day):
                total += max(0.0, min(b, hi) - max(a, lo))
        return total


class DischargeHours:
    """Discharge hours on weekdays and at weekends."""

    def __init__(self, calendar: Calendar, weekday_text: str, weekend_text: str):
        self.calendar = calendar
        self.weekday_window = clock_window(weekday_text)
        self.weekend_window = clock_window(weekend_text)
        self.never = self.weekday_window is None and self.weekend_window is None

    def next_opening(self, t: float) -> float:
        """The first instant at or after t inside the discharge hours (inf if none)."""
        if self.never:
            return math.inf
        day = int(t // HOURS_PER_DAY)
        for d in range(day, min(day + 8, len(self.calendar.weekday))):
            window = self.weekend_window if self.calendar.weekday[d] >= 5 else self.weekday_window
            for a, b in day_intervals(window, d):
                if t < b:
                    return max(a, t)
        return math.inf


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------

class TimeAverage:
    """The integral of a level over the statistics window [w0, w1)."""

    __slots__ = ("level", "last", "area", "w0")

    def __init__(self, w0: float, level: float = 0.0):
        self.level, self.last, self.area, self.w0 = level, 0.0, 0.0, w0

    def set(self, t: float, level: float) -> None:
        start = self.last if self.last > self.w0 else self.w0
        if t > start:
            self.area += self.level * (t - start)
        self.last = t
        self.level = level

    def add(self, t: float, delta: float) -> None:
        self.set(t, self.level + delta)


def percentile_r7(values, p: float) -> float:
    """R-7 percentile (Excel's PERCENTILE.INC); 0 over no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def mean(values) -> float:
    return sum(values) / len(values) if values else 0.0


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

class LateTimeout(simpy.events.Event):
    """A timeout processed after every other event due at the same instant:
    built like ``simpy.Timeout`` but scheduled with a priority below NORMAL."""

    def __init__(self, env, delay: float):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority=2, delay=delay)


class Patient:
    __slots__ = ("frail", "care_home_resident")

    def __init__(self, frail: bool, care_home_resident: bool):
        self.frail = frail
        self.care_home_resident = care_home_resident


class Resident:
    """A care home resident: their bed request and the fixed end of their stay."""

    __slots__ = ("bed", "stay_end")

    def __init__(self, bed, stay_end: float):
        self.bed = bed
        self.stay_end = stay_end


def waiting_pool(env, capacity: int) -> simpy.PriorityResource:
    """A PriorityResource with `capacity` places; 0 places is a valid plan
    (everyone waits), which SimPy does not allow, so its one place is held."""
    pool = simpy.PriorityResource(env, capacity=max(1, capacity))
    if capacity == 0:
        pool.request(priority=BLOCKER_PRIORITY)
    return pool


class PatientFlow:
    """One replication of the model."""

    def __init__(self, sc: dict, rng: random.Random):
        self.rng = rng
        self.env = env = simpy.Environment()
        s = sc["scenario"]
        self.w0 = hours(s["warm_up"])
        self.w1 = self.w0 + hours(s["horizon"])
        start = dt.date.fromisoformat(str(s.get("start_date", "2025-04-01")))
        self.ndays = int(math.ceil(self.w1 / HOURS_PER_DAY)) + 1
        self.cal = Calendar(start, self.ndays)

        d, pru, fau, ed = sc["demand"], sc["pru"], sc["frailty_unit"], sc["ed"]
        acute, pw, com = sc["acute"], sc["pathways"], sc["community"]
        rehab, ch = sc["rehab"], sc["care_homes"]
        readm = sc.get("readmission")

        # Demand
        self.crises_per_day = float(d["crises_per_day"])
        self.frail_share = float(d["frail_share"])
        self.hour_w = self._normalised(d.get("hour_of_day"), 24)
        self.dow_w = self._normalised(d.get("day_of_week"), 7)
        self.month_w = self._normalised(d.get("month_of_year"), 12)

        # PRU: a loss system (no queue)
        self.pru_cars = int(pru["cars"])
        self.pru_hours = OpeningHours(self.cal, pru["open"], pru.get("days"))
        self.pru_eligible_share = float(pru["eligible_share"])
        self.pru_visit = distribution(pru["visit"])
        self.pru_treated = float(pru["treated_at_home"])
        self.pru_follow_up = float(pru["community_follow_up"])
        self.pru = simpy.Resource(env, capacity=self.pru_cars) if self.pru_cars > 0 else None

        # Frailty assessment unit: a loss system
        self.fau_slots = int(fau["slots"])
        self.fau_hours = OpeningHours(self.cal, fau["open"], fau.get("days"))
        self.fau_assessment = distribution(fau["assessment"])
        self.fau_same_day = float(fau["discharged_same_day"])
        self.fau_follow_up = float(fau["community_follow_up"])
        self.fau = simpy.Resource(env, capacity=self.fau_slots) if self.fau_slots > 0 else None

        self.admit_share = {True: float(ed["frail_admit_share"]),
                            False: float(ed["other_admit_share"])}

        # Acute beds, with capacity changes by date
        self.base_beds = int(acute["beds"])
        self.discharge_hours = DischargeHours(
            self.cal, acute["discharge_hours"],
            acute.get("weekend_discharge_hours", acute["discharge_hours"]))
        self.los = {True: distribution(acute["los"]["frail"]),
                    False: distribution(acute["los"]["other"])}
        self.beds_by_day = self._beds_by_day(acute.get("capacity_changes", []))
        max_beds = max(self.beds_by_day)
        self.beds = simpy.PriorityResource(env, capacity=max(1, max_beds))
        self.bed_blockers = []          # requests holding (or waiting for) closed beds
        self.beds_available = self.beds_by_day[0]

        # Pathways
        self.pathway_cum = {}
        for frail, key in ((True, "frail"), (False, "other")):
            shares = pw[key]
            acc, cum = 0.0, []
            for p in PATHWAYS:
                acc += float(shares.get(p, 0.0))
                cum.append(acc)
            self.pathway_cum[frail] = cum
        pd = pw.get("process_delay", {})
        self.process_delay = {p: distribution(pd[p]) if p in pd else None
                              for p in ("p1", "p2", "p3")}

        # Community nursing: strict priority by class, FCFS within a class
        self.community_places = int(com["teams"]) * int(com["caseload_per_team"])
        self.community = waiting_pool(env, self.community_places)
        self.community_priority = {c: i for i, c in
                                   enumerate(com.get("priority", COMMUNITY_CLASSES))}
        self.episode = {c: distribution(com["episode"][c]) for c in COMMUNITY_CLASSES}
        self.referrals_per_day = float(com["referrals_per_day"])

        # Rehab beds: FCFS
        self.rehab_beds = int(rehab["beds"])
        self.rehab = waiting_pool(env, self.rehab_beds)
        self.rehab_stay = distribution(rehab["stay"])
        self.rehab_follow_up = float(rehab["community_follow_up"])

        # Care homes: one queue, hospital placements first when hospital_first
        self.care_home_beds = int(ch["beds"])
        self.care_homes = waiting_pool(env, self.care_home_beds)
        self.care_home_stay = distribution(ch["stay"])
        self.initial_residents = int(math.floor(self.care_home_beds * float(ch["initial_occupancy"]) + 0.5))
        self.placements_per_day = float(ch["community_placements_per_day"])
        hospital_first = bool(ch["hospital_first"])
        self.placement_priority = {"hospital": 0, "community": 1 if hospital_first else 0}
        self.resident_crisis_rate = float(ch["crises_per_resident_year"]) / (DAYS_PER_YEAR * HOURS_PER_DAY)
        red_bag = ch.get("red_bag", {"enabled": False})
        self.red_bag = bool(red_bag.get("enabled", False))
        if self.red_bag:
            self.red_bag_reduction = hours(red_bag["los_reduction"])
            self.red_bag_min = hours(red_bag["min_los"])

        # Readmission
        if readm:
            self.readmit_window = hours(readm["window"])
            self.readmit_p = {p: float(readm.get(p, 0.0)) for p in ("p0", "p1", "p2")}
        else:
            self.readmit_window = 0.0
            self.readmit_p = {"p0": 0.0, "p1": 0.0, "p2": 0.0}

        # Results
        w0 = self.w0
        self.count = {m: 0 for m in METRICS}
        self.pru_busy = TimeAverage(w0)
        self.beds_occupied = TimeAverage(w0)
        self.beds_full = TimeAverage(w0, 1.0 if self.beds_available <= 0 else 0.0)
        self.in_process_state = TimeAverage(w0)
        self.in_capacity_state = {p: TimeAverage(w0) for p in ("p1", "p2", "p3")}
        self.community_held = TimeAverage(w0)
        self.community_waiting = TimeAverage(w0)
        self.rehab_held = TimeAverage(w0)
        self.care_home_held = TimeAverage(w0)
        self.bed_waits = []
        self.midnight_census = []
        self.community_waits = {c: [] for c in COMMUNITY_CLASSES}
        self.rehab_waits = []
        self.care_home_waits = []

    # ---- set-up helpers ----

    @staticmethod
    def _normalised(weights, n):
        if weights is None:
            return [1.0] * n
        m = sum(weights) / len(weights)
        return [w / m for w in weights]

    def _beds_by_day(self, changes):
        beds = []
        for day in range(self.ndays):
            date = self.cal.dates[day]
            n = self.base_beds
            for ch in changes:
                if dt.date.fromisoformat(str(ch["from"])) <= date <= dt.date.fromisoformat(str(ch["to"])):
                    n = int(ch["beds"])   # the last listed change wins
            beds.append(n)
        return beds

    def in_window(self, t: float) -> bool:
        return self.w0 <= t < self.w1

    def tally(self, metric: str) -> None:
        if self.w0 <= self.env.now < self.w1:
            self.count[metric] += 1

    # ---- demand ----

    def crisis_arrivals(self):
        """New crises: NHPP with a rate constant in each clock hour, sampled by
        inverting the integrated rate (one exponential draw per arrival)."""
        env, rng = self.env, self.rng
        base = self.crises_per_day / HOURS_PER_DAY
        if base <= 0:
            return
        rate = []
        for day in range(self.ndays):
            f = base * self.dow_w[self.cal.weekday[day]] * self.month_w[self.cal.month[day]]
            rate.extend(f * h for h in self.hour_w)
        last_hour = len(rate)
        t, hour = 0.0, 0
        while True:
            e = rng.expovariate(1.0)
            while hour < last_hour and e > rate[hour] * (hour + 1 - t):
                e -= rate[hour] * (hour + 1 - t)
                hour += 1
                t = float(hour)
            if hour >= last_hour:
                return
            t += e / rate[hour]
            if t >= self.w1:
                return
            yield env.timeout(t - env.now)
            patient = Patient(rng.random() < self.frail_share, False)
            env.process(self.crisis(patient))

    def poisson_arrivals(self, per_day, make_process):
        env, rng = self.env, self.rng
        if per_day <= 0:
            return
        rate = per_day / HOURS_PER_DAY
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(make_process())

    def readmission(self, delay: float, frail: bool):
        yield self.env.timeout(delay)
        self.tally("readmissions")
        yield from self.crisis(Patient(frail, False))

    # ---- the crisis pathway ----

    def crisis(self, patient: Patient):
        """From the crisis to the end of the patient's hospital episode (and,
        for patients going home with support, to the end of that support).
        For a care home resident it returns when they are back in their bed."""
        env, rng = self.env, self.rng
        self.tally("crises")

        # Physician response unit: a loss system
        if rng.random() < self.pru_eligible_share:
            self.tally("pru_eligible")
            if not self.pru_hours.is_open(env.now):
                self.tally("pru_missed_closed")
            elif self.pru is None or self.pru.count >= self.pru_cars:
                self.tally("pru_missed_busy")
            else:
                with self.pru.request() as car:
                    yield car
                    self.tally("pru_visits")
                    self.pru_busy.add(env.now, 1)
                    yield env.timeout(self.pru_visit(rng))
                    self.pru_busy.add(env.now, -1)
                if rng.random() < self.pru_treated:
                    self.tally("pru_treated_at_home")
                    self.tally("pru_fau_sent_home")
                    self.maybe_refer_home(self.pru_follow_up)
                    return
                # not treated at home: conveyed to the ED at the end of the visit

        # Emergency department: the decision takes no time
        self.tally("ed_attendances")
        if patient.frail:
            if (self.fau is not None and self.fau_hours.is_open(env.now)
                    and self.fau.count < self.fau_slots):
                with self.fau.request() as slot:
                    yield slot
                    self.tally("fau_assessed")
                    yield env.timeout(self.fau_assessment(rng))
                if rng.random() < self.fau_same_day:
                    self.tally("fau_discharged")
                    self.tally("pru_fau_sent_home")
                    self.maybe_refer_home(self.fau_follow_up)
                    return
                yield from self.admitted(patient)
                return
            self.tally("fau_missed")
        if rng.random() < self.admit_share[patient.frail]:
            yield from self.admitted(patient)
        # else: home from the ED

    def maybe_refer_home(self, share: float) -> None:
        """Community nursing follow-up (class avoidance) for a patient sent home."""
        if self.rng.random() < share:
            self.env.process(self.community_referral("avoidance", self.episode["avoidance"](self.rng)))

    def admitted(self, patient: Patient):
        env, rng = self.env, self.rng
        self.tally("admissions")

        # Decision-to-admit wait in the ED: first come first served
        asked = env.now
        bed = self.beds.request(priority=0)
        yield bed
        self.bed_taken(+1)
        if self.in_window(env.now):
            self.bed_waits.append(env.now - asked)

        los = self.los[patient.frail](rng)
        if patient.care_home_resident and self.red_bag and los >= self.red_bag_min:
            los = max(los - self.red_bag_reduction, self.red_bag_min)
        yield env.timeout(los)

        # Medically fit: from now on the bed is held with no criteria to reside
        if patient.care_home_resident:
            yield from self.wait_for_discharge_hours()
            self.leave_bed(bed)
            return   # back to the care home bed held for them

        u = rng.random()
        cum = self.pathway_cum[patient.frail]
        pathway = "p0" if u < cum[0] else "p1" if u < cum[1] else "p2" if u < cum[2] else "p3"

        if pathway == "p0":
            yield from self.wait_for_discharge_hours()
            self.leave_bed(bed)
            self.maybe_readmit(patient, "p0")
            return

        delay = self.process_delay[pathway]
        if delay is not None:
            self.in_process_state.add(env.now, 1)
            yield env.timeout(delay(rng))
            self.in_process_state.add(env.now, -1)

        # Capacity wait: ask for the downstream place, held from the grant
        capacity_state = self.in_capacity_state[pathway]
        asked = env.now
        if pathway == "p1":
            episode = self.episode["discharge"](rng)
            place = yield from self.ask_community("discharge", capacity_state)
        elif pathway == "p2":
            place = self.rehab.request(priority=0)
            yield from self.hold_place(place, capacity_state, self.rehab_held, self.rehab_waits, asked)
        else:
            place = self.care_homes.request(priority=self.placement_priority["hospital"])
            yield from self.hold_place(
                place, capacity_state, self.care_home_held, self.care_home_waits, asked
            )
        if env.now > asked:
            self.tally("delayed_patients_" + pathway)

        yield from self.wait_for_discharge_hours()
        self.leave_bed(bed)

        if pathway == "p1":
            self.maybe_readmit(patient, "p1")
            yield env.timeout(episode)
            self.community.release(place)
            self.community_held.add(env.now, -1)
        elif pathway == "p2":
            self.maybe_readmit(patient, "p2")
            yield env.timeout(self.rehab_stay(rng))
            self.rehab.release(place)
            self.rehab_held.add(env.now, -1)
            if rng.random() < self.rehab_follow_up:
                yield from self.community_referral("discharge", self.episode["discharge"](rng))
        else:
            stay_end = env.now + self.care_home_stay(rng)
            yield from self.care_home_life(Resident(place, stay_end))

    def bed_taken(self, delta: int) -> None:
        now = self.env.now
        self.beds_occupied.add(now, delta)
        self.beds_full.set(now, 1.0 if self.beds_occupied.level >= self.beds_available else 0.0)

    def leave_bed(self, bed) -> None:
        self.beds.release(bed)
        self.bed_taken(-1)

    def wait_for_discharge_hours(self):
        """Hold the bed until the discharge hours (a process delay)."""
        env = self.env
        opening = self.discharge_hours.next_opening(env.now)
        if opening > env.now:
            self.in_process_state.add(env.now, 1)
            if opening == math.inf:
                yield env.event()   # never discharged: holds the bed to the end
            yield env.timeout(opening - env.now)
            self.in_process_state.add(env.now, -1)

    def maybe_readmit(self, patient: Patient, pathway: str) -> None:
        rng = self.rng
        if rng.random() < self.readmit_p[pathway]:
            delay = rng.uniform(0.0, self.readmit_window)
            if self.env.now + delay < self.w1:
                self.env.process(self.readmission(delay, patient.frail))

    # ---- community nursing ----

    def hold_place(self, place, capacity_state, held, waits, asked: float):
        """Wait (in the capacity state) for a requested rehab or care home
        place asked for at `asked`; count it held and record the wait."""
        env = self.env
        if not place.triggered:
            capacity_state.add(env.now, 1)
            yield place
            capacity_state.add(env.now, -1)
        held.add(env.now, 1)
        if self.in_window(env.now):
            waits.append(env.now - asked)

    def ask_community(self, cls: str, capacity_state=None):
        """Ask for a caseload place; returns the granted request."""
        env = self.env
        asked = env.now
        place = self.community.request(priority=self.community_priority[cls])
        if not place.triggered:
            self.community_waiting.add(env.now, 1)
            if capacity_state is not None:
                capacity_state.add(env.now, 1)
            yield place
            self.community_waiting.add(env.now, -1)
            if capacity_state is not None:
                capacity_state.add(env.now, -1)
        self.community_held.add(env.now, 1)
        if self.in_window(env.now):
            self.community_waits[cls].append(env.now - asked)
        return place

    def community_referral(self, cls: str, episode: float):
        """A referral from home: wait for a place, hold it for the episode."""
        place = yield from self.ask_community(cls)
        yield self.env.timeout(episode)
        self.community.release(place)
        self.community_held.add(self.env.now, -1)

    def gp_referral(self):
        return self.community_referral("community", self.episode["community"](self.rng))

    # ---- care homes ----

    def community_placement(self):
        env = self.env
        asked = env.now
        place = self.care_homes.request(priority=self.placement_priority["community"])
        yield place
        self.care_home_held.add(env.now, 1)
        if self.in_window(env.now):
            self.care_home_waits.append(env.now - asked)
        stay_end = env.now + self.care_home_stay(self.rng)
        yield from self.care_home_life(Resident(place, stay_end))

    def initial_resident(self, bed):
        yield from self.care_home_life(Resident(bed, self.care_home_stay(self.rng)))

    def care_home_life(self, resident: Resident):
        """A resident in their bed has crises at a constant rate until the stay
        ends; while away in a crisis they keep the bed, and if the stay ended
        meanwhile they leave at once on return."""
        env, rng = self.env, self.rng
        rate = self.resident_crisis_rate
        while True:
            next_crisis = env.now + rng.expovariate(rate) if rate > 0 else math.inf
            if next_crisis >= resident.stay_end:
                if resident.stay_end < self.w1:
                    yield env.timeout(resident.stay_end - env.now)
                    break
                return   # still a resident at the end of the run
            yield env.timeout(next_crisis - env.now)
            yield from self.crisis(Patient(True, True))
            if env.now >= resident.stay_end:
                break
        self.care_homes.release(resident.bed)
        self.care_home_held.add(env.now, -1)

    # ---- acute bed capacity changes and the midnight census ----

    def bed_capacity(self):
        env = self.env
        max_beds = self.beds.capacity
        # Beds that do not exist yet are held by blockers, which go before patients.
        for _ in range(max_beds - self.beds_available):
            self.bed_blockers.append(self.beds.request(priority=BLOCKER_PRIORITY))
        for day in range(1, self.ndays):
            n = self.beds_by_day[day]
            if n == self.beds_by_day[day - 1]:
                continue
            yield env.timeout(day * HOURS_PER_DAY - env.now)
            self.beds_available = n
            want = max_beds - n
            while len(self.bed_blockers) > want:
                # Rise: cancel a blocker still waiting first, else free a held bed.
                waiting = [b for b in self.bed_blockers if not b.triggered]
                blocker = waiting[-1] if waiting else self.bed_blockers[-1]
                self.bed_blockers.remove(blocker)
                if blocker.triggered:
                    self.beds.release(blocker)
                else:
                    blocker.cancel()
            while len(self.bed_blockers) < want:
                # Reduction: nobody is evicted; the next freed beds are closed.
                self.bed_blockers.append(self.beds.request(priority=BLOCKER_PRIORITY))
            self.beds_full.set(env.now, 1.0 if self.beds_occupied.level >= n else 0.0)

    def midnight_snapshots(self):
        """Occupied beds at each 00:00 in the window, taken after every other
        event due at that instant (a low-priority scheduled event)."""
        env = self.env
        day = int(math.ceil(self.w0 / HOURS_PER_DAY))
        while day * HOURS_PER_DAY < self.w1:
            snapshot = LateTimeout(env, day * HOURS_PER_DAY - env.now)
            yield snapshot
            self.midnight_census.append(self.beds_occupied.level)
            day += 1

    # ---- run ----

    def run(self) -> dict:
        env = self.env
        env.process(self.bed_capacity())
        for _ in range(min(self.initial_residents, self.care_home_beds)):
            bed = self.care_homes.request(priority=0)
            self.care_home_held.add(0.0, 1)
            env.process(self.initial_resident(bed))
        env.process(self.crisis_arrivals())
        env.process(self.poisson_arrivals(self.referrals_per_day, self.gp_referral))
        env.process(self.poisson_arrivals(self.placements_per_day, self.community_placement))
        env.process(self.midnight_snapshots())
        env.run(until=self.w1)
        return self.results()

    def results(self) -> dict:
        w0, w1 = self.w0, self.w1
        span = w1 - w0
        levels = [self.pru_busy, self.beds_occupied, self.beds_full, self.in_process_state,
                  self.community_held, self.community_waiting, self.rehab_held,
                  self.care_home_held, *self.in_capacity_state.values()]
        for lv in levels:
            lv.set(w1, lv.level)
        r = dict(self.count)
        open_car_hours = self.pru_cars * self.pru_hours.open_hours(w0, w1)
        r["pru_utilisation"] = self.pru_busy.area / open_car_hours if open_car_hours > 0 else 0.0
        r["bed_occupancy_mean"] = self.beds_occupied.area / span
        r["midnight_census_mean"] = mean(self.midnight_census)
        r["midnight_census_p95"] = percentile_r7(self.midnight_census, 0.95)
        r["beds_full_share"] = self.beds_full.area / span
        r["bed_wait_mean_hours"] = mean(self.bed_waits)
        r["bed_wait_p95_hours"] = percentile_r7(self.bed_waits, 0.95)
        r["bed_waits_over_4h"] = sum(1 for w in self.bed_waits if w > 4.0)
        r["bed_waits_over_12h"] = sum(1 for w in self.bed_waits if w > 12.0)
        for p in ("p1", "p2", "p3"):
            r["delayed_bed_days_" + p] = self.in_capacity_state[p].area / HOURS_PER_DAY
        r["delayed_bed_days"] = sum(r["delayed_bed_days_" + p] for p in ("p1", "p2", "p3"))
        r["process_delay_bed_days"] = self.in_process_state.area / HOURS_PER_DAY
        r["community_utilisation"] = (self.community_held.area / span / self.community_places
                                      if self.community_places > 0 else 0.0)
        r["community_waiting_mean"] = self.community_waiting.area / span
        for c in COMMUNITY_CLASSES:
            r["community_wait_mean_days_" + c] = mean(self.community_waits[c]) / HOURS_PER_DAY
        r["rehab_occupancy_mean"] = self.rehab_held.area / span
        r["rehab_wait_mean_days"] = mean(self.rehab_waits) / HOURS_PER_DAY
        r["care_home_occupancy_mean"] = self.care_home_held.area / span
        r["care_home_wait_mean_days"] = mean(self.care_home_waits) / HOURS_PER_DAY
        return r


def replication_rng(seed: int, replication: int) -> random.Random:
    return random.Random(f"patientflow-simpy:{seed}:{replication}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--replications", "-n", type=int, default=None,
                    help="number of replications (default: the scenario's)")
    ap.add_argument("--first-replication", type=int, default=0)
    ap.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default="-", help="CSV file (default stdout)")
    args = ap.parse_args(argv)

    sc = load_scenario(args.scenario)
    sc.pop("sources", None)
    for assignment in args.set:
        set_key(sc, assignment)
    seed = args.seed if args.seed is not None else int(sc["scenario"]["seed"])
    n = args.replications if args.replications is not None else int(sc["scenario"]["replications"])

    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
    writer = csv.writer(out)
    writer.writerow(["replication", *METRICS])
    for rep in range(args.first_replication, args.first_replication + n):
        t0 = time.perf_counter()
        result = PatientFlow(sc, replication_rng(seed, rep)).run()
        wall = time.perf_counter() - t0
        writer.writerow([rep, *(repr(float(result[m])) if isinstance(result[m], float)
                                else result[m] for m in METRICS)])
        out.flush()
        print(f"replication {rep}: {wall:.3f} s wall", file=sys.stderr, flush=True)
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
