"""Shared by the benchmark scripts: release builds, generated cohorts, timed child processes.
Stdlib only. Timings are wall seconds of one child process; peak RSS is that child's."""
import os, random, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")


def build(*targets):
    """cargo build --release for the given --bin/--example arguments."""
    subprocess.run(["cargo", "build", "--release", *targets], cwd=ROOT, check=True)


def cohort(n, fmt="csv"):
    """Path of a generated n-patient cohort in `fmt`, made once with examples/bench_cohort."""
    path = os.path.join(ROOT, "target", "bench", f"cohort-{n}" + ("" if fmt == "csv" else f"-{fmt}"))
    marker = os.path.join(path, f"labs.{fmt}")
    if not os.path.exists(marker):
        print(f"generating {n} patients ({fmt}) into {path} ...", flush=True)
        subprocess.run([os.path.join(RELEASE, "examples", "bench_cohort"), str(n), path, fmt], check=True)
    return path


def survival_table(name, n, row):
    """Path of a generated n-row survival table target/bench/{name}-{n}.csv, made once: the
    header `time,status,group,x1..x6`, then one row per call of `row(rng, group, covariates)`
    (returning "time,status"), each row drawn from one seeded stream in the same order."""
    path = os.path.join(ROOT, "target", "bench", f"{name}-{n}.csv")
    if not os.path.exists(path):
        print(f"generating {n} rows into {path} ...", flush=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        rng = random.Random(20261129)
        with open(path, "w") as f:
            f.write("time,status,group,x1,x2,x3,x4,x5,x6\n")
            for _ in range(n):
                g = rng.randrange(4)
                xs = [rng.gauss(0, 1) for _ in range(4)] + [rng.randrange(2), rng.randrange(5)]
                f.write(f"{row(rng, g, xs)},{g},{xs[0]:.4f},{xs[1]:.4f},{xs[2]:.4f},{xs[3]:.4f},{xs[4]},{xs[5]}\n")
    return path


def timed(cmd):
    """(wall seconds, peak RSS bytes, exit code, stdout) of one run of `cmd`."""
    # A fresh python process per measurement keeps ru_maxrss to that child alone.
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "r=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE);"
             "w=time.perf_counter()-t;"
             "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024, r.returncode);"
             "sys.stderr.write(r.stdout.decode())")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    wall, rss, code = out.stdout.split()
    return float(wall), int(rss), int(code), out.stderr


def mib(n_bytes):
    return f"{n_bytes / 2**20:.0f} MiB"
