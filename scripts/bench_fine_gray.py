#!/usr/bin/env python3
"""Competing-risks benchmark (issue: statistics core). Release build only; not a test.

On one generated CSV (N rows, 4 groups, 6 covariates, integer times 1-2000, status 0 censored,
1 event, 2 competing), times in the same run:
  - cmprsk::crr's compute alone (data already in memory; its Fortran is O(n^2) per Newton step),
  - bonemet survival --competing-value on the file (whole process: read, KM per group,
    log-rank, Cox, cumulative incidence per group, Gray's test, Fine-Gray, JSON),
prints the ratio and the largest relative difference between the two sets of coefficients
and standard errors (crr stops at gtol 1e-6, bonemet iterates to full convergence: the
difference is largest, relatively, for a coefficient near zero).

Usage: scripts/bench_fine_gray.py [N_ROWS]   (default 10000; crr takes minutes beyond that)
"""
import json, os, shutil, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RELEASE, build, survival_table, timed

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
build("--bin", "bonemet")


def competing_row(rng, g, xs):
    """Event (cause 1) and competing event (cause 2) times, censoring, capped at 2000."""
    lp = 0.2 * xs[0] - 0.1 * xs[1] + 0.3 * xs[4]
    t1 = 1 + int(rng.expovariate(0.0006 * (1 + 0.3 * g) * pow(2.718281828, lp)))
    t2 = 1 + int(rng.expovariate(0.0005 * pow(2.718281828, 0.2 * xs[5])))
    c = 1 + int(rng.expovariate(0.0004))
    t = min(t1, t2, c, 2000)
    status = 1 if t == t1 else 2 if t == t2 else 0
    return f"{t},{status}"


path = survival_table("competing", n, competing_row)

wall, rss, code, out = timed([os.path.join(RELEASE, "bonemet"), "survival", path, "--time", "time",
                              "--event", "status", "--competing-value", "2", "--by", "group",
                              "--covariates", "x1,x2,x3,x4,x5,x6", "--json"])
if code != 0:
    sys.exit(f"bonemet survival exited {code}:\n{out}")
ours = json.loads(out)["fine_gray"]["terms"]
print(f"bonemet survival --competing-value (whole process): {wall:.2f} s, peak RSS {rss / 2**20:.0f} MiB")
if shutil.which("Rscript") is None:
    sys.exit("R not found: install r-base-core and r-cran-cmprsk (Debian) for the comparison")
r_script = f"""
suppressMessages(library(cmprsk))
d <- read.csv("{path}")
X <- as.matrix(d[, paste0("x", 1:6)])
t <- system.time(f <- crr(d$time, d$status, X, failcode = 1, cencode = 0))
cat(t[["elapsed"]], f$coef, sqrt(diag(f$var)), "\\n")
"""
r = subprocess.run(["Rscript", "-e", r_script], capture_output=True, text=True, check=True)
values = [float(v) for v in r.stdout.split()]
r_wall, r_coef, r_se = values[0], values[1:7], values[7:13]
diff = max(abs(t[k] - e) / abs(e) for t_list, k, es in ((ours, "coef", r_coef), (ours, "se", r_se))
           for t, e in zip(t_list, es))
print(f"cmprsk::crr compute alone: {r_wall:.2f} s; crr / bonemet {r_wall / wall:.0f}x")
print(f"largest relative difference in coefficients and SEs: {diff:.1e}")
