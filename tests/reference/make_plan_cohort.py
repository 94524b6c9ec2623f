#!/usr/bin/env python3
"""Builds the fixture cohort tests/data/plan_cohort/ for tests/reference/plan_cohort.R.

Run (from the repository root):
    target/debug/bonemet synth --patients 1500 --seed 4242 --out /tmp/plan_raw
    python3 tests/reference/make_plan_cohort.py /tmp/plan_raw tests/data/plan_cohort
    target/debug/bonemet validate tests/data/plan_cohort      # 0 rejected rows
    Rscript tests/reference/plan_cohort.R

It copies the synthetic patients.csv and events.csv (labs.csv is optional and dropped) and
edits chosen patients so that every edge convention of docs/analysis-plan.md occurs at least
twice. Patients are chosen by rule (the first patients, by id, that fit a case and are not
used by another case), so the output is a pure function of the synth output. Every edit keeps
the rows valid under the input contract: events within [diagnosis_date, last_contact_date],
bone_mets_date <= last_contact_date, death_date = last_contact_date for the dead. The list of
edits is written to tests/data/plan_cohort/EDITS.csv (patient, case, what was changed).
"""
import csv
import datetime as dt
import os
import sys
from collections import defaultdict

SRE_TYPES = ("radiotherapy_bone", "pathologic_fracture", "bone_surgery", "spinal_cord_compression")
L_DAY = 91  # landmark 3 months = 91.3125 days: day <= 91 is before it, day >= 92 after


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/plan_raw"
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/data/plan_cohort"
    with open(os.path.join(src, "patients.csv"), newline="") as f:
        reader = csv.DictReader(f)
        pcols = reader.fieldnames
        patients = list(reader)
    with open(os.path.join(src, "events.csv"), newline="") as f:
        reader = csv.DictReader(f)
        ecols = reader.fieldnames
        events = list(reader)

    D = dt.date.fromisoformat
    iso = lambda x: x.isoformat()
    by_id = {p["patient_id"]: p for p in patients}
    ev = defaultdict(list)
    for e in events:
        ev[e["patient_id"]].append(e)
    used = set()
    edits = []

    def diag(p): return D(p["diagnosis_date"])
    def bone(p): return D(p["bone_mets_date"])
    def last(p): return D(p["last_contact_date"])
    def dead(p): return p["vital_status"] == "dead"
    def end_day(p): return (last(p) - bone(p)).days
    def bone_day(p): return (bone(p) - diag(p)).days
    def srd(p): return [e for e in ev[p["patient_id"]] if e["event_type"] in SRE_TYPES]
    def no_events(p): return not ev[p["patient_id"]]
    def agent(p): return p["bone_agent"] not in ("", "none") and p["bone_agent_start"] != ""
    def advanced(p): return p["stage"] in ("iii", "iv", "iva", "ivb")

    def pick(case, n, pred, pool=None):
        pool = patients if pool is None else pool
        got = []
        for p in sorted(pool, key=lambda q: q["patient_id"]):
            if p["patient_id"] in used:
                continue
            if pred(p):
                got.append(p)
                used.add(p["patient_id"])
                if len(got) == n:
                    return got
        raise SystemExit(f"case {case}: only {len(got)} of {n} patients fit")

    def note(p, case, what):
        edits.append({"patient_id": p["patient_id"], "case": case, "edit": what})

    def add_event(p, day_from_bone, etype, site, case):
        date = bone(p) + dt.timedelta(days=day_from_bone)
        assert diag(p) <= date <= last(p), (p["patient_id"], case)
        row = {c: "" for c in ecols}
        row.update(patient_id=p["patient_id"], event_date=iso(date), event_type=etype, site=site)
        events.append(row)
        ev[p["patient_id"]].append(row)
        note(p, case, f"event {etype} site={site or '-'} on day {day_from_bone} ({iso(date)})")

    def set_agent(p, agent_name, start_day, case):
        p["bone_agent"] = agent_name
        p["bone_agent_start"] = "" if start_day is None else iso(bone(p) + dt.timedelta(days=start_day))
        note(p, case, f"bone_agent={agent_name or '(empty)'} start day={start_day}")

    bone_pts = [p for p in patients if p["bone_mets_date"]]

    # --- The bone agent relative to bone_mets_date -----------------------------------------
    for p in pick("agent_on_bone_day", 2, lambda p: end_day(p) > 60 and no_events(p), bone_pts):
        set_agent(p, "zoledronic_acid", 0, "agent_on_bone_day")
    p1, = pick("agent_on_bone_day_sre_day0", 1, lambda p: end_day(p) > 60 and no_events(p), bone_pts)
    set_agent(p1, "denosumab", 0, "agent_on_bone_day_sre_day0")
    add_event(p1, 0, "radiotherapy_bone", "spine_lumbar", "agent_on_bone_day_sre_day0")
    for p, a in zip(pick("agent_before_bone", 3,
                         lambda p: bone_day(p) > 45 and end_day(p) > 60 and no_events(p), bone_pts),
                    (-10, -3, -1)):
        set_agent(p, "denosumab" if a == -3 else "zoledronic_acid", a, "agent_before_bone")
    for p, (a, k) in zip(pick("agent_late_sre_before_start", 2, lambda p: end_day(p) > 150 and no_events(p), bone_pts),
                         ((60, 20), (75, 5))):
        set_agent(p, "zoledronic_acid", a, "agent_late_sre_before_start")
        add_event(p, k, "pathologic_fracture", "femur", "agent_late_sre_before_start")
    for p, (a, k) in zip(pick("agent_late_sre_after_start", 2, lambda p: end_day(p) > 150 and no_events(p), bone_pts),
                         ((60, 100), (40, 41))):
        set_agent(p, "denosumab", a, "agent_late_sre_after_start")
        add_event(p, k, "radiotherapy_bone", "pelvis", "agent_late_sre_after_start")
    for p, a in zip(pick("agent_late_sre_on_start_day", 2, lambda p: end_day(p) > 150 and no_events(p), bone_pts),
                    (45, 120)):
        set_agent(p, "zoledronic_acid", a, "agent_late_sre_on_start_day")
        add_event(p, a, "spinal_cord_compression", "spine_thoracic", "agent_late_sre_on_start_day")
    for p, name in zip(pick("agent_without_start", 2, lambda p: agent(p) and end_day(p) > 30, bone_pts),
                       ("zoledronic_acid", "denosumab")):
        set_agent(p, name, None, "agent_without_start")
    for p in pick("agent_not_recorded", 2, lambda p: end_day(p) > 30 and len(srd(p)) > 0, bone_pts):
        set_agent(p, "", None, "agent_not_recorded")
    for p, extra in zip(pick("agent_after_last_contact", 2, lambda p: agent(p) and end_day(p) > 30, bone_pts), (10, 1)):
        set_agent(p, p["bone_agent"], end_day(p) + extra, "agent_after_last_contact")
    for p in pick("death_on_agent_start_day", 2, lambda p: dead(p) and 10 < end_day(p) < 400 and no_events(p), bone_pts):
        set_agent(p, "denosumab", end_day(p), "death_on_agent_start_day")

    # --- Revealing SREs (before bone_mets_date, on or after diagnosis), metachronous -------
    for p, (k, site, name) in zip(pick("revealing_sre", 3, lambda p: bone_day(p) > 60 and end_day(p) > 30, bone_pts),
                                  ((-3, "spine_thoracic", None), (-5, "femur", None), (-1, "", "none"))):
        if name is not None:
            set_agent(p, "none", None, "revealing_sre")
        add_event(p, k, "pathologic_fracture", site, "revealing_sre")

    for p, k in zip(pick("revealing_sre_radiotherapy", 2, lambda p: bone_day(p) > 60 and end_day(p) > 30
                         and p["histology"] == "small_cell", bone_pts), (-2, -4)):
        add_event(p, k, "radiotherapy_bone", "spine_lumbar", "revealing_sre_radiotherapy")

    # --- Same-day ties and zero follow-up ---------------------------------------------------
    for p, name in zip(pick("sre_and_death_same_day", 2, lambda p: dead(p) and 5 < end_day(p) < 300 and not srd(p), bone_pts),
                       ("none", "zoledronic_acid")):
        if name == "none":
            set_agent(p, "none", None, "sre_and_death_same_day")
        else:
            set_agent(p, name, end_day(p) // 2, "sre_and_death_same_day")
        add_event(p, end_day(p), "radiotherapy_bone", "spine_cervical", "sre_and_death_same_day")
    for p in pick("sre_on_last_contact_alive", 2, lambda p: not dead(p) and 5 < end_day(p) and not srd(p), bone_pts):
        add_event(p, end_day(p), "bone_surgery", "humerus", "sre_on_last_contact_alive")
    zero = pick("zero_follow_up", 3, lambda p: bone_day(p) > 40 and end_day(p) > 20 and no_events(p), bone_pts)
    for p, (name, sre) in zip(zero, (("none", True), ("zoledronic_acid", False), ("none", False))):
        p["bone_mets_date"] = p["last_contact_date"]
        note(p, "zero_follow_up", f"bone_mets_date = last_contact_date {p['last_contact_date']} ({p['vital_status']})")
        set_agent(p, name, None if name == "none" else 0, "zero_follow_up")
        if sre:
            add_event(p, 0, "pathologic_fracture", "pelvis", "zero_follow_up")

    # --- Several SREs on one date; fractures with and without a site; hypercalcaemia ----------
    for p in pick("two_sres_same_date", 2, lambda p: end_day(p) > 100 and not srd(p), bone_pts):
        add_event(p, 30, "pathologic_fracture", "spine_lumbar", "two_sres_same_date")
        add_event(p, 30, "bone_surgery", "spine_lumbar", "two_sres_same_date")
    for p in pick("fracture_no_site", 2, lambda p: end_day(p) > 100 and not srd(p), bone_pts):
        add_event(p, 50, "pathologic_fracture", "", "fracture_no_site")
    for p in pick("hypercalcemia_before_sre", 2, lambda p: end_day(p) > 100 and not srd(p), bone_pts):
        add_event(p, 0, "hypercalcemia", "", "hypercalcemia_before_sre")
        add_event(p, 40, "radiotherapy_bone", "ribs", "hypercalcemia_before_sre")
    for p in pick("hypercalcemia_only", 2, lambda p: end_day(p) > 100 and no_events(p), bone_pts):
        add_event(p, 10, "hypercalcemia", "", "hypercalcemia_only")

    # --- Weight-bearing involvement not assessable (bone_sites missing) ---------------------
    for p in pick("bone_sites_missing", 3, lambda p: end_day(p) > 30 and (agent(p) or p["bone_agent"] == "none"), bone_pts):
        p["bone_sites"] = ""
        note(p, "bone_sites_missing", "bone_sites emptied")

    # --- The landmark (L = 91.3125 days): days 91 and 92 on both sides ----------------------
    lm = lambda p: end_day(p) > 200 and not srd(p)
    for p, k in zip(pick("landmark_sre_day", 4, lm, bone_pts), (L_DAY, L_DAY, L_DAY + 1, L_DAY + 1)):
        add_event(p, k, "radiotherapy_bone", "spine_lumbar", "landmark_sre_day")
    for p, a in zip(pick("landmark_agent_day", 4, lambda p: lm(p) and agent(p), bone_pts), (L_DAY, L_DAY, L_DAY + 1, L_DAY + 1)):
        set_agent(p, p["bone_agent"], a, "landmark_agent_day")
    for p, e in zip(pick("landmark_end_day", 4, lambda p: end_day(p) > 200 and no_events(p) and
                         (p["visceral_mets_date"] == "" or (D(p["visceral_mets_date"]) - bone(p)).days <= L_DAY), bone_pts),
                    (L_DAY, L_DAY, L_DAY + 1, L_DAY + 1)):
        new_last = bone(p) + dt.timedelta(days=e)
        assert all(D(x["event_date"]) <= new_last for x in ev[p["patient_id"]])
        p["last_contact_date"] = iso(new_last)
        if dead(p):
            p["death_date"] = iso(new_last)
        note(p, "landmark_end_day", f"last_contact_date (and death_date if dead) = day {e} ({p['vital_status']})")

    # --- A3: synchronous window edges, bone_mets_date before diagnosis_date -----------------
    for p, k in zip(pick("a3_bone_day_edges", 6, lambda p: advanced(p) and p["bone_mets_date"] and
                         not ev[p["patient_id"]] and not agent(p) and (last(p) - diag(p)).days > 60),
                    (30, 30, 31, 31, -7, -1)):
        p["bone_mets_date"] = iso(diag(p) + dt.timedelta(days=k))
        note(p, "a3_bone_day_edges", f"bone_mets_date = diagnosis_date + {k} days")
    for p in pick("a3_bone_on_death_day", 2, lambda p: advanced(p) and not p["bone_mets_date"] and dead(p) and
                  (last(p) - diag(p)).days > 60 and not ev[p["patient_id"]]):
        p["bone_mets_date"] = p["last_contact_date"]
        p["bone_sites"] = "ribs"
        p["bone_agent"] = "none"
        note(p, "a3_bone_on_death_day", "bone_mets_date = death_date (metachronous, zero follow-up), bone_sites=ribs, agent none")

    os.makedirs(out, exist_ok=True)
    for stale in ("labs.csv",):
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))
    events.sort(key=lambda e: (e["patient_id"], e["event_date"], e["event_type"]))
    with open(os.path.join(out, "patients.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, pcols, lineterminator="\n")
        w.writeheader()
        w.writerows(patients)
    with open(os.path.join(out, "events.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ecols, lineterminator="\n")
        w.writeheader()
        w.writerows(events)
    with open(os.path.join(out, "EDITS.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ["patient_id", "case", "edit"], lineterminator="\n")
        w.writeheader()
        w.writerows(edits)
    print(f"{len(patients)} patients, {len(events)} events, {len(edits)} edits, {len(used)} patients edited -> {out}")


if __name__ == "__main__":
    main()
