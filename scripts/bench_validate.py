#!/usr/bin/env python3
"""Ingestion benchmark (issue: validate at scale). Release build only; not a test.

Makes (once) a 1,000,000-patient cohort with ~1.5 events and 4 lab rows per patient, then
times, in the same run, polars alone reading the three files into memory and
`bonemet validate` on them, and prints the ratios against the targets:
  wall time  <= 2 x the polars read
  peak RSS   <= 3 x the in-memory size of the data (polars' estimated_size)

Usage: scripts/bench_validate.py [N_PATIENTS] [REPEATS]   (stdlib only)
"""
import json, os, resource, subprocess, sys, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
cohort = os.path.join(root, "target", "bench", f"cohort-{n}")
release = os.path.join(root, "target", "release")

subprocess.run(["cargo", "build", "--release", "--bin", "bonemet",
                "--example", "bench_cohort", "--example", "polars_read"], cwd=root, check=True)
if not os.path.exists(os.path.join(cohort, "labs.csv")):
    print(f"generating {n} patients into {cohort} ...", flush=True)
    subprocess.run([os.path.join(release, "examples", "bench_cohort"), str(n), cohort], check=True)

def timed(cmd):
    """Wall seconds and peak RSS (bytes) of one child process."""
    # A fresh python process per measurement keeps ru_maxrss to that child alone.
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "r=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE);"
             "w=time.perf_counter()-t;"
             "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024, r.returncode);"
             "sys.stderr.write(r.stdout.decode())")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    wall, rss, code = out.stdout.split()
    return float(wall), int(rss), int(code), out.stderr

sizes = {f: os.path.getsize(os.path.join(cohort, f)) for f in sorted(os.listdir(cohort))}
print("files:", ", ".join(f"{k} {v/1e6:.0f} MB" for k, v in sizes.items()))
polars_runs, bonemet_runs = [], []
in_memory = None
for i in range(repeats):
    wall, rss, code, out = timed([os.path.join(release, "examples", "polars_read"), cohort])
    report = json.loads(out)
    in_memory = report["in_memory_bytes"]
    polars_runs.append((wall, rss))
    wall, rss, code, out = timed([os.path.join(release, "bonemet"), "validate", cohort])
    if code != 0:
        sys.exit(f"bonemet validate exited {code}:\n{out}")
    bonemet_runs.append((wall, rss))
    print(f"run {i+1}: polars read {polars_runs[-1][0]:.2f} s ({polars_runs[-1][1]/2**20:.0f} MiB), "
          f"bonemet validate {wall:.2f} s ({rss/2**20:.0f} MiB)", flush=True)
print(out)
best = lambda runs: min(r[0] for r in runs)
peak = max(r[1] for r in bonemet_runs)
t_ratio = best(bonemet_runs) / best(polars_runs)
m_ratio = peak / in_memory
print(f"polars read (best of {repeats}):     {best(polars_runs):.2f} s; in-memory size {in_memory/2**20:.0f} MiB")
print(f"bonemet validate (best of {repeats}): {best(bonemet_runs):.2f} s; peak RSS {peak/2**20:.0f} MiB")
print(f"time ratio {t_ratio:.2f} (target <= 2.00): {'met' if t_ratio <= 2 else 'NOT met'}")
print(f"RSS / in-memory size {m_ratio:.2f} (target <= 3.00): {'met' if m_ratio <= 3 else 'NOT met'}")
