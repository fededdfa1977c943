#!/bin/sh
# Writes scenarios/observed/synthetic-winter-from-today.csv: SYNTHETIC
# observed daily counts, not patient data. They are the model's own daily
# series: replication 0 of scenarios/winter-from-today.toml run with
# seed 7 (the scenario's own seed is 20250401), its first 120 days, five
# series. Run from the repository root after `cargo build --release`;
# the same binary writes the same file byte for byte.
set -eu
pf=${PF:-target/release/patientflow}
out=scenarios/observed/synthetic-winter-from-today.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pf" run scenarios/winter-from-today.toml --seed 7 --replications 1 \
    --shard 0/1 --quiet --out "$tmp/run" >/dev/null
awk -F, -v keep="midnight_census nctr_count delayed_patients community_waiting_list mh_beds_occupied" '
    NR == 1 {
        n = split(keep, names, " ")
        for (i = 1; i <= NF; i++) column[$i] = i
        print "date,series,value"
        next
    }
    $1 == 0 && $2 < 120 {
        for (k = 1; k <= n; k++) print $3 "," names[k] "," $(column[names[k]])
    }
' "$tmp/run/daily_replications.csv" > "$out"
echo "wrote $out"
