#!/usr/bin/env python3
"""classify end to end (issue: classifiers at scale). Release build only; not a test.

On a 1,000,000-patient Parquet cohort with events and labs, times `bonemet validate` and
`bonemet classify` in the same run and prints the ratio (target: classify <= 1.5 x validate).
The classifiers alone are measured by `cargo bench --bench classify` (criterion).

Usage: scripts/bench_classify.py [N_PATIENTS] [REPEATS] [parquet|csv]
"""
import os, shutil, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RELEASE, build, cohort, mib, timed

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
fmt = sys.argv[3] if len(sys.argv) > 3 else "parquet"
build("--bin", "bonemet", "--example", "bench_cohort")
path = cohort(n, fmt)
bonemet = os.path.join(RELEASE, "bonemet")
out_dir = tempfile.mkdtemp(prefix="bonemet-bench-")
validate_runs, classify_runs = [], []
try:
    for i in range(repeats):
        v = timed([bonemet, "validate", path])
        c = timed([bonemet, "classify", path, "--out", os.path.join(out_dir, "c")])
        for name, run in (("validate", v), ("classify", c)):
            if run[2] != 0:
                sys.exit(f"bonemet {name} exited {run[2]}:\n{run[3]}")
        validate_runs.append(v)
        classify_runs.append(c)
        print(f"run {i+1}: validate {v[0]:.2f} s ({mib(v[1])}), classify {c[0]:.2f} s ({mib(c[1])})", flush=True)
finally:
    shutil.rmtree(out_dir, ignore_errors=True)
best_v = min(r[0] for r in validate_runs)
best_c = min(r[0] for r in classify_runs)
ratio = best_c / best_v
print(f"validate (best of {repeats}): {best_v:.2f} s; classify: {best_c:.2f} s, peak RSS {mib(max(r[1] for r in classify_runs))}")
print(f"classify / validate {ratio:.2f} (target <= 1.50): {'met' if ratio <= 1.5 else 'NOT met'}")
