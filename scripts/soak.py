#!/usr/bin/env python3
"""Soak of `bonemet run` (issue #22, item 5). Release build only; not a test, not in CI.

RUNS runs of `bonemet run` over a pool of synthetic cohorts (`bonemet synth`, sizes
log-uniform between 200 and --max-patients, plus one --large cohort; CSV or Parquet; defect
rates uniform 0-20%), each with a random --min-cell (2-11), --threads (1 or 2),
--max-rejected-share (the default 5%, 50% or 100%) and, for some, a random study.toml.
About a third of the runs repeat an earlier run's cohort and settings with the other thread
count; every 20th run is killed (SIGKILL) at a random moment and the next run goes into the
same directory with the same settings. Everything happens under target/soak/ (removed and
recreated at the start; left in place afterwards for inspection, with soak.json, one record
per run). SOURCE_DATE_EPOCH is set, so equal inputs must give equal bytes.

Checked for every run that completes (docs/robustness.md):
  - exit code 0 or 3, and 3 exactly when a table's rejected share is above the run's
    --max-rejected-share (run.json's quality_gate agreeing);
  - row balance per table in run.json: rows_read = rows_accepted + rows_rejected, rows_read =
    the rows synth wrote (synth.json); rejected.csv's distinct lines per table = rows_rejected
    and its rows per reason = rejections_by_reason; tables/classified.csv has rows_accepted
    patients;
  - synth's defects.csv: every row a defect takes down is rejected, and no other row is;
  - run.json's outputs name each file in DIR once, and DIR holds nothing else;
  - equal cohort and settings (whatever --threads) give byte-identical files, run.json's
    stage timings masked;
  - nothing is left beside DIR (.DIR.partial-PID, .DIR.previous-PID, .DIR.lock).
For a killed run: DIR holds the previous report byte for byte (or, killed after the swap, a
whole new one equal to the next run's), and the next run succeeds and leaves nothing beside
DIR. At the end, nothing matching .*.partial-*, .*.previous-* or .*.lock anywhere under
target/soak/. Peak RSS (/usr/bin/time's %M, else the child's ru_maxrss from os.wait4) and wall
time are recorded per run. Exits 1 if any check failed.

Usage: scripts/soak.py [RUNS] [SEED] [--max-patients N] [--large N] [--cohorts N]
                       [--binary PATH]
"""
import argparse, collections, csv, hashlib, json, math, os, random, re, shutil, signal
import statistics, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RELEASE, ROOT, build

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("runs", nargs="?", type=int, default=200)
parser.add_argument("seed", nargs="?", type=int, default=1)
parser.add_argument("--max-patients", type=int, default=200_000,
                    help="largest cohort of the log-uniform pool (default 200000)")
parser.add_argument("--large", type=int, default=1_000_000,
                    help="size of one extra Parquet cohort (0: none; default 1000000)")
parser.add_argument("--cohorts", type=int, default=0,
                    help="cohorts in the pool besides --large (default RUNS/8, at least 4)")
parser.add_argument("--binary", help="soak this bonemet binary instead of building "
                    "target/release/bonemet (e.g. a build of a clean checkout)")
args = parser.parse_args()

SCRATCH = os.path.join(ROOT, "target", "soak")
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
KILL_EVERY = 20
LEFTOVER = re.compile(r"^\..+\.(partial-\d+|previous-\d+|lock)$")
TABLES = ("patients", "events", "labs")

started = time.perf_counter()
rng = random.Random(args.seed)
if not args.binary:
    build("--bin", "bonemet")
shutil.rmtree(SCRATCH, ignore_errors=True)
for sub in ("bin", "cohorts", "studies", "out", "logs"):
    os.makedirs(os.path.join(SCRATCH, sub))
# A copy of the binary: another build into target/ during the soak changes nothing here.
BONEMET = os.path.join(SCRATCH, "bin", "bonemet")
shutil.copy2(args.binary or os.path.join(RELEASE, "bonemet"), BONEMET)
ENV = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree(root):
    """{relative path: sha256} of every file under root (symbolic links named as such);
    run.json with its stage timings masked. None when root does not exist."""
    if not os.path.lexists(root):
        return None
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "symlink -> " + os.readlink(path)
            elif name in files:
                if rel == "run.json":
                    with open(path, "rb") as f:
                        j = json.load(f)
                    j["stage_seconds"] = None
                    out[rel] = hashlib.sha256(json.dumps(j, sort_keys=True).encode()).hexdigest()
                else:
                    out[rel] = sha256(path)
    return out


def tree_diff(a, b):
    """The paths whose bytes differ between two trees (or that only one holds)."""
    a, b = a or {}, b or {}
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def leftovers(root):
    """Temporary directories and locks of runs anywhere under root."""
    found = []
    for d, dirs, files in os.walk(root):
        found += [os.path.join(d, n) for n in dirs + files if LEFTOVER.match(n)]
    return sorted(found)


def beside(out_dir):
    """What runs left beside one output directory."""
    parent, name = os.path.split(out_dir)
    return sorted(n for n in os.listdir(parent)
                  if n.startswith(f".{name}.") and LEFTOVER.match(n))


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def spawn(cmd, log, timeout, kill_after=None):
    """Runs cmd with stdout and stderr to log.out/log.err; SIGKILL after kill_after seconds
    (None: never) or at timeout. Returns (exit code or -signal, wall s, peak RSS bytes or None
    for a killed run)."""
    # Peak RSS: /usr/bin/time's %M (its own small process forks and execs cmd). Without it, the
    # child's ru_maxrss from os.wait4, which also counts this process's memory at the fork: an
    # upper bound, too high for small runs once the soak has read large files.
    wrapped = [TIME, "-f", "%M", "-o", log + ".time", *cmd] if TIME else cmd
    t0 = time.perf_counter()
    with open(log + ".out", "wb") as out, open(log + ".err", "wb") as err:
        # Its own process group: a kill reaches bonemet, not only /usr/bin/time.
        p = subprocess.Popen(wrapped, stdout=out, stderr=err, env=ENV, cwd=SCRATCH,
                             start_new_session=True)
    killed = []
    def kill():
        killed.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    timer = threading.Timer(timeout if kill_after is None else kill_after, kill)
    timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    p.returncode = code  # reaped here; Popen must not wait for it again
    if killed and code < 0:
        return code, wall, None
    if not TIME:
        return code, wall, usage.ru_maxrss * 1024
    with open(log + ".time") as f:
        last = f.read().split()
    return code, wall, int(last[-1]) * 1024 if last and last[-1].isdigit() else None


def mib(n_bytes):
    return "-" if n_bytes is None else f"{n_bytes / 2**20:.0f} MiB"


def wait_ended(out_dir, timeout=5.0):
    """Waits until the run holding DIR's lock has ended (gone, or a zombie nobody reaped yet),
    as a supervisor waits for a process it killed: SIGKILL takes effect asynchronously."""
    parent, name = os.path.split(out_dir)
    try:
        with open(os.path.join(parent, f".{name}.lock")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.005)


def read_csv(path):
    with open(path, newline="") as f:
        yield from csv.DictReader(f)


def synth(cohort):
    cmd = [BONEMET, "synth", "--patients", str(cohort["n"]), "--seed", str(cohort["seed"]),
           "--defect-rate", f"{cohort['rate']:.4f}", "--format", cohort["format"],
           "--out", cohort["path"]]
    code, wall, rss = spawn(cmd, os.path.join(SCRATCH, "logs", "synth-" + cohort["name"]),
                            timeout=600 + cohort["n"] / 500)
    if code != 0:
        sys.exit(f"bonemet synth failed ({code}): {' '.join(cmd)}")
    return wall, rss


# The cohorts: sizes log-uniform over [200, --max-patients], then the --large one.
n_cohorts = args.cohorts or max(4, args.runs // 8)
cohorts = []
for c in range(n_cohorts + (1 if args.large else 0)):
    large = c == n_cohorts
    n = args.large if large else round(math.exp(rng.uniform(math.log(200), math.log(args.max_patients))))
    cohorts.append({
        "name": f"c{c:02d}", "n": n,
        "format": "parquet" if large else rng.choice(["csv", "parquet"]),
        # One cohort in eight is clean: no defects.csv, no rejected row.
        "rate": 0.0 if rng.random() < 0.125 else round(rng.uniform(0.0, 0.20), 4),
        "seed": rng.randrange(1, 2**32),
        "walls": [],
    })
synth_figures = []
for cohort in cohorts:
    cohort["path"] = os.path.join(SCRATCH, "cohorts", cohort["name"])
    wall, rss = synth(cohort)
    synth_figures.append((cohort["n"], wall, rss))
    with open(os.path.join(cohort["path"], "synth.json")) as f:
        written = json.load(f)
    cohort["rows"] = {t: written[t] for t in TABLES}
    print(f"{cohort['name']}: {cohort['n']:>9,} patients, {cohort['format']:<7} defect rate "
          f"{cohort['rate']:.3f}: synth {wall:.2f} s, {mib(rss)}", flush=True)
# synth itself: the same seed gives the same bytes.
again = dict(cohorts[0], name="c00-again", path=os.path.join(SCRATCH, "cohorts", "c00-again"))
synth(again)
synth_same = tree(again["path"]) == tree(cohorts[0]["path"])
shutil.rmtree(again["path"])

# Study files: horizons, SRE horizon, landmark and classifier choices drawn at random.
studies = [None]
for s in range(4):
    text = "\n".join([
        "horizons_months = [%s]" % ", ".join(
            f"{h:.1f}" for h in sorted(rng.sample([1, 2, 3, 6, 9, 12, 18, 24, 36, 48, 60],
                                                  rng.randint(1, 4)))),
        f"sre_horizon_months = {rng.choice([6.0, 12.0, 21.0, 24.0, 36.0])}",
        f"landmark_months = {rng.choice([1.0, 2.0, 3.0, 6.0])}",
        f"consistent_half_width_share = {rng.choice([0.1, 0.25, 0.5])}",
        f"corrected_calcium_formula = \"{rng.choice(['review', 'payne'])}\"",
        f"grading_scheme = \"{rng.choice(['severity', 'ctcae5'])}\"",
        f"sre_merge_window_days = {rng.choice([0, 7, 30])}",
        f"hypercalcaemia_is_sre = {rng.choice(['true', 'false'])}",
    ]) + "\n"
    path = os.path.join(SCRATCH, "studies", f"s{s}.toml")
    with open(path, "w") as f:
        f.write(text)
    studies.append(path)

OUT_DIRS = [os.path.join(SCRATCH, "out", f"d{k:02d}") for k in range(12)]
state = {}  # out dir -> tree of the last whole report it holds (None: none yet)
seen = {}  # settings key -> (tree, run index, threads) of its first completed run
verified_rejections = {}  # cohort -> digest of a rejected-row set checked against defects.csv
failures = collections.defaultdict(list)  # check -> messages
records = []
comparisons = {"same_threads": 0, "other_threads": 0}
kill_outcomes = collections.Counter()


def fail(check, i, message):
    failures[check].append(f"run {i}: {message}")
    if len(failures[check]) <= 3:
        print(f"  FAIL {check}: {message}", flush=True)
    if len(failures[check]) == 3:
        print(f"  (further {check} failures are counted, not printed; all in soak.json)", flush=True)


def settings_key(s):
    return (s["cohort"], s["min_cell"], s["study"], s["max_share"])


def command(s, out_dir):
    cmd = [BONEMET, "run", cohorts_by_name[s["cohort"]]["path"], "--out", out_dir,
           "--min-cell", str(s["min_cell"]), "--threads", str(s["threads"]), "--json-log"]
    if s["max_share"] is not None:
        cmd += ["--max-rejected-share", str(s["max_share"])]
    if s["study"] is not None:
        cmd += ["--study", s["study"]]
    return cmd


cohorts_by_name = {c["name"]: c for c in cohorts}


def estimate_wall(cohort):
    if cohort["walls"]:
        return statistics.median(cohort["walls"])
    return 0.3 + cohort["n"] * 1.3e-5


def check_report(i, s, out_dir, code):
    """The checks of a run that completed (exit 0 or 3). Returns the report's tree."""
    cohort = cohorts_by_name[s["cohort"]]
    with open(os.path.join(out_dir, "run.json")) as f:
        run = json.load(f)
    tables = {t["table"]: t for t in run["tables"]}
    max_share = 0.05 if s["max_share"] is None else s["max_share"]
    if set(tables) != set(TABLES):
        fail("balance", i, f"run.json tables {sorted(tables)}")
    for name, t in tables.items():
        if t["rows_read"] != t["rows_accepted"] + t["rows_rejected"]:
            fail("balance", i, f"{name}: read {t['rows_read']} != accepted {t['rows_accepted']}"
                 f" + rejected {t['rows_rejected']}")
        if t["rows_read"] != cohort["rows"].get(name):
            fail("balance", i, f"{name}: read {t['rows_read']}, synth wrote {cohort['rows'].get(name)}")
    # rejected.csv: one row per broken rule; its distinct lines are the rejected rows.
    lines = collections.defaultdict(set)
    reasons = collections.Counter()
    for r in read_csv(os.path.join(out_dir, "rejected.csv")):
        lines[r["table"]].add(int(r["line"]))
        reasons[(r["table"], r["reason"])] += 1
    for name, t in tables.items():
        if len(lines[name]) != t["rows_rejected"]:
            fail("rejected.csv", i, f"{name}: {len(lines[name])} rejected lines, run.json says "
                 f"{t['rows_rejected']}")
        by_reason = {k: v for (tb, k), v in reasons.items() if tb == name}
        if by_reason != t["rejections_by_reason"]:
            fail("rejected.csv", i, f"{name}: reasons {by_reason} != run.json "
                 f"{t['rejections_by_reason']}")
    # synth's defects.csv: exactly the rows its defects take down are rejected.
    keys = sorted((t, l) for t, ls in lines.items() for l in ls)
    digest = hashlib.sha256(repr(keys).encode()).hexdigest()
    if verified_rejections.get(cohort["name"]) != digest:
        defects_csv = os.path.join(cohort["path"], "defects.csv")
        expected = set()
        if os.path.exists(defects_csv):
            expected = {(r["table"], int(r["line"])) for r in read_csv(defects_csv)}
        got = set(keys)
        missing, extra = sorted(expected - got), sorted(got - expected)
        if missing:
            fail("defects", i, f"{len(missing)} rows taken down by a defect not rejected, "
                 f"e.g. {missing[:3]}")
        if extra:
            fail("defects", i, f"{len(extra)} rejected rows no defect takes down, e.g. {extra[:3]}")
        if not missing and not extra:
            verified_rejections[cohort["name"]] = digest
    # The quality gate and the exit code.
    over = sorted(n for n, t in tables.items() if t["rejected_share"] > max_share)
    gate = run["quality_gate"]
    if (code == 3) != bool(over) or gate["passed"] == bool(over) or sorted(gate["failed_tables"]) != over:
        fail("gate", i, f"exit {code}, shares above {max_share}: {over}, quality_gate {gate}")
    # run.json's outputs: each file once, nothing else in DIR.
    report = tree(out_dir)
    listed = collections.Counter(run["outputs"])
    twice = sorted(k for k, v in listed.items() if v > 1)
    if twice:
        fail("manifest", i, f"run.json lists {len(twice)} outputs more than once: {twice}")
    unlisted = sorted(set(report) - set(listed) - {"run.json"})
    absent = sorted(set(listed) - set(report))
    if unlisted or absent:
        fail("manifest", i, f"files not in run.json's outputs {unlisted}, listed but absent {absent}")
    classified = os.path.join(out_dir, "tables", "classified.csv")
    if os.path.exists(classified):
        n = sum(1 for _ in read_csv(classified))
        if n != tables["patients"]["rows_accepted"]:
            fail("balance", i, f"classified.csv has {n} patients, accepted {tables['patients']['rows_accepted']}")
    else:
        fail("manifest", i, "no tables/classified.csv")
    return report


def compare(i, s, report):
    """Equal cohort and settings, equal bytes (whatever the thread count)."""
    key = settings_key(s)
    if key not in seen:
        seen[key] = (report, i, s["threads"])
        return
    first, j, threads = seen[key]
    comparisons["same_threads" if threads == s["threads"] else "other_threads"] += 1
    differ = tree_diff(first, report)
    if differ:
        fail("determinism", i, f"differs from run {j} ({threads} vs {s['threads']} threads): {differ[:8]}")


def draw_settings():
    return {
        "cohort": rng.choice(cohorts)["name"],
        "min_cell": rng.randint(2, 11),
        "threads": rng.choice([1, 2]),
        "max_share": rng.choice([None, None, 0.5, 1.0]),
        "study": rng.choice(studies) if rng.random() < 0.3 else None,
    }


print(f"{args.runs} runs, seed {args.seed}, {len(cohorts)} cohorts ({n_cohorts} of 200-"
      f"{args.max_patients:,} patients{f' and one of {args.large:,}' if args.large else ''}); "
      f"synth identical twice: {synth_same}", flush=True)
if not synth_same:
    failures["determinism"].append("synth: the same seed gave different bytes")
pending_kill = None  # (out dir, tree after the kill) awaiting the next run
runs_started = time.perf_counter()
for i in range(args.runs):
    kind = "run"
    if pending_kill is not None:
        kind = "recover"
        s, out_dir = dict(records[-1]["settings"]), records[-1]["out"]
    elif i % KILL_EVERY == KILL_EVERY // 2 and i + 1 < args.runs:
        kind = "kill"
        s = draw_settings()
        # A cohort of the larger half: a run long enough for the kill to land in any stage.
        sizes = sorted(c["n"] for c in cohorts)
        s["cohort"] = rng.choice([c for c in cohorts if c["n"] >= sizes[len(sizes) // 2]])["name"]
        # Preferably into a directory holding a report, to see it survive.
        held = [d for d in OUT_DIRS if state.get(d)]
        out_dir = rng.choice(held or OUT_DIRS)
    elif seen and rng.random() < 0.33:
        kind = "repeat"
        key = rng.choice(sorted(seen, key=repr))
        s = dict(zip(("cohort", "min_cell", "study", "max_share"), key))
        s["threads"] = 3 - seen[key][2]
        out_dir = rng.choice(OUT_DIRS)
    else:
        s = draw_settings()
        out_dir = rng.choice(OUT_DIRS)
    cohort = cohorts_by_name[s["cohort"]]
    log = os.path.join(SCRATCH, "logs", f"run-{i:03d}")
    before = state.get(out_dir)
    kill_after = rng.uniform(0.05, 0.95) * estimate_wall(cohort) if kind == "kill" else None
    code, wall, rss = spawn(command(s, out_dir), log, timeout=300 + cohort["n"] / 500,
                            kill_after=kill_after)
    with open(log + ".err", errors="replace") as f:
        stages = [json.loads(l) for l in f if l.startswith("{")]
    last = f"{stages[-1]['stage']} {stages[-1]['event']}" if stages else "before any stage"
    rec = {"i": i, "kind": kind, "settings": s, "out": out_dir, "n": cohort["n"],
           "format": cohort["format"], "rate": cohort["rate"], "code": code, "wall_s": wall,
           "peak_rss": rss, "last_stage_event": last}
    records.append(rec)
    shown = f"{kind:<7} {i:>3}: {s['cohort']} ({cohort['n']:,}, {cohort['format']}, " \
            f"{cohort['rate']:.3f}) k={s['min_cell']} t={s['threads']} " \
            f"share={s['max_share']} study={os.path.basename(s['study'] or '-')} " \
            f"-> {os.path.basename(out_dir)}: exit {code}, {wall:.2f} s, {mib(rss)}"
    print(shown, flush=True)
    if kind == "kill" and code == -signal.SIGKILL:
        # Killed: DIR holds the previous report, or a whole new one if the swap was done.
        rec["killed_after_s"] = kill_after
        wait_ended(out_dir)
        after = tree(out_dir)
        rec["left_beside"] = beside(out_dir)
        parent, name = os.path.split(out_dir)
        if after == before:
            outcome = "previous report intact" if before else "no report, none before"
        elif after is None and any(tree(os.path.join(parent, n)) == before
                                   for n in rec["left_beside"] if ".previous-" in n):
            # The two-rename fallback (no RENAME_EXCHANGE), killed between the renames.
            outcome = "previous report moved aside whole"
        elif after is None:
            outcome = "previous report lost"
            fail("kill", i, f"{out_dir} is gone after the kill, and no whole copy beside it")
        else:
            outcome = "new report in place"
        rec["kill_outcome"] = outcome
        kill_outcomes[outcome] += 1
        print(f"  killed at {kill_after:.2f} s ({last}): {outcome}; left beside DIR: "
              f"{rec['left_beside'] or 'nothing'}", flush=True)
        pending_kill = (out_dir, after, outcome == "new report in place")
        continue
    if code not in (0, 3):
        with open(log + ".err", errors="replace") as f:
            tail = [l for l in f if not l.startswith("{")][-5:]
        fail("exit", i, f"exit {code}: {''.join(tail).strip()} ({' '.join(command(s, out_dir))})")
        if tree(out_dir) != before:
            fail("kill", i, "a failed run changed DIR")
        pending_kill = None
        continue
    cohort["walls"].append(wall)
    report = check_report(i, s, out_dir, code)
    left = beside(out_dir)
    if left:
        fail("leftovers", i, f"left beside {out_dir}: {left}")
    compare(i, s, report)
    if pending_kill is not None:
        killed_dir, after_kill, changed = pending_kill
        if changed:
            differ = tree_diff(after_kill, report)
            if differ:
                fail("kill", i, f"the killed run left a report that is not whole: {differ[:8]}")
        pending_kill = None
    state[out_dir] = report

wall_runs = time.perf_counter() - runs_started
left_at_end = leftovers(SCRATCH)
for path in left_at_end:
    failures["leftovers"].append(f"at the end: {os.path.relpath(path, SCRATCH)}")
with open(os.path.join(SCRATCH, "soak.json"), "w") as f:
    json.dump({"runs": records, "failures": failures, "seed": args.seed}, f, indent=1)

# Summary.
total = time.perf_counter() - started
killed = [r for r in records if r["kind"] == "kill" and r["code"] == -signal.SIGKILL]
completed = [r for r in records if r["code"] in (0, 3)]
codes = collections.Counter(r["code"] for r in records if r not in killed)
where = collections.Counter(r["last_stage_event"] for r in killed)
print()
print(f"soak: {args.runs} runs, seed {args.seed}, binary {args.binary or os.path.join(RELEASE, 'bonemet')}")
rows = [
    ("runs", len(records)),
    ("completed (exit 0 or 3)", len(completed)),
    ("killed (SIGKILL)", f"{len(killed)}; last stage event seen: "
     + ", ".join(f"{k} {v}" for k, v in sorted(where.items()))),
    ("kill outcomes", ", ".join(f"{k} {v}" for k, v in sorted(kill_outcomes.items())) or "-"),
    ("kills that came too late", sum(r["kind"] == "kill" and r not in killed for r in records)),
    ("exit codes", ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))),
    ("repeats of earlier settings", sum(r["kind"] == "repeat" for r in records)),
    ("determinism comparisons", f"{comparisons['other_threads']} with 1 vs 2 threads, "
     f"{comparisons['same_threads']} with the same; synth twice identical: {synth_same}"),
]
for check in ("exit", "balance", "rejected.csv", "defects", "gate", "manifest", "determinism",
              "kill", "leftovers"):
    rows.append((f"{check} failures", len(failures.get(check, []))))
rows.append(("leftovers under target/soak at the end", len(left_at_end)))
rows.append(("wall time", f"{total:.0f} s in all, {wall_runs:.0f} s of runs "
             f"(synth {sum(w for _, w, _ in synth_figures):.0f} s)"))
width = max(len(k) for k, _ in rows)
for k, v in rows:
    print(f"  {k:<{width}}  {v}")
print()
print("  completed runs by cohort size: runs, peak RSS median / max, wall median / max")
bands = [(0, 2_000), (2_000, 20_000), (20_000, 200_000), (200_000, 10**12)]
for lo, hi in bands:
    rs = [r for r in completed if lo <= r["n"] < hi]
    if not rs:
        continue
    rss = [r["peak_rss"] / 2**20 for r in rs if r["peak_rss"] is not None] or [0]
    walls = [r["wall_s"] for r in rs]
    label = f"{lo:,}-{hi - 1:,}" if hi < 10**12 else f">= {lo:,}"
    print(f"    {label:<18} {len(rs):>4}   {statistics.median(rss):>6.0f} / {max(rss):>6.0f} MiB"
          f"   {statistics.median(walls):>6.2f} / {max(walls):>6.2f} s")
if records:
    top = max(records, key=lambda r: r["peak_rss"] or 0)
    print(f"  peak RSS of all runs: {mib(top['peak_rss'])} (run {top['i']}, "
          f"{top['n']:,} patients, {top['format']})")
failed = {k: v for k, v in failures.items() if v}
if failed:
    print("\nFAILED:")
    for check, messages in failed.items():
        print(f"  {check}: {len(messages)}; first: {messages[0]}")
    sys.exit(1)
print("\nall checks passed")
