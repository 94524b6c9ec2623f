"""Shared by the benchmark scripts: release builds, generated cohorts, timed child processes.
Stdlib only. Timings are wall seconds of one child process; peak RSS is that child's."""
import os, subprocess, sys

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
