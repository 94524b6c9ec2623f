#!/usr/bin/env python3
"""Ingestion benchmark (issue: validate at scale). Release build only; not a test.

Makes (once) a 1,000,000-patient cohort with ~1.4 events and 4 lab rows per patient, then
times, in the same run, polars alone reading the three files into memory and
`bonemet validate` on them, and prints the ratios against the targets:
  wall time  <= 2 x the polars read
  peak RSS   <= 3 x the in-memory size of the data (polars' estimated_size)

Usage: scripts/bench_validate.py [N_PATIENTS] [REPEATS] [csv|parquet]
"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RELEASE, build, cohort, mib, timed

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
fmt = sys.argv[3] if len(sys.argv) > 3 else "csv"
build("--bin", "bonemet", "--example", "bench_cohort", "--example", "polars_read")
path = cohort(n, fmt)
sizes = {f: os.path.getsize(os.path.join(path, f)) for f in sorted(os.listdir(path))}
print("files:", ", ".join(f"{k} {v/1e6:.0f} MB" for k, v in sizes.items()))
polars_runs, bonemet_runs, in_memory, out = [], [], None, ""
for i in range(repeats):
    wall, rss, _, report = timed([os.path.join(RELEASE, "examples", "polars_read"), path])
    in_memory = json.loads(report)["in_memory_bytes"]
    polars_runs.append((wall, rss))
    wall, rss, code, out = timed([os.path.join(RELEASE, "bonemet"), "validate", path])
    if code != 0:
        sys.exit(f"bonemet validate exited {code}:\n{out}")
    bonemet_runs.append((wall, rss))
    print(f"run {i+1}: polars read {polars_runs[-1][0]:.2f} s ({mib(polars_runs[-1][1])}), "
          f"bonemet validate {wall:.2f} s ({mib(rss)})", flush=True)
print(out)
best = lambda runs: min(r[0] for r in runs)
peak = max(r[1] for r in bonemet_runs)
t_ratio = best(bonemet_runs) / best(polars_runs)
m_ratio = peak / in_memory
print(f"polars read (best of {repeats}):     {best(polars_runs):.2f} s; in-memory size {mib(in_memory)}")
print(f"bonemet validate (best of {repeats}): {best(bonemet_runs):.2f} s; peak RSS {mib(peak)}")
print(f"time ratio {t_ratio:.2f} (target <= 2.00): {'met' if t_ratio <= 2 else 'NOT met'}")
print(f"RSS / in-memory size {m_ratio:.2f} (target <= 3.00): {'met' if m_ratio <= 3 else 'NOT met'}")
