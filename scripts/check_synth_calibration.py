#!/usr/bin/env python3
"""Checks the synthetic-cohort calibration against the published figures, with the analysis
plan's estimands (docs/analysis-plan.md), independently of bonemet's own statistics.

Usage: python3 scripts/check_synth_calibration.py DIR   (DIR: a `bonemet synth` CSV output;
e.g. `bonemet synth --patients 2000000 --seed 1 --out /tmp/big`). Needs numpy and pandas.

What it computes (months = days / 30.4375; ties as the plan says):
- F1: A3, stage III-IV, bone metastases from diagnosis (synchronous, i.e. within 30 days or
  before, at 0), death competing: Aalen-Johansen cumulative incidence at 24 months.
- F3/F4: stage IV non-squamous NSCLC, share with bone metastases at diagnosis.
- F5/F6: A5, stage IV non-squamous NSCLC, Kaplan-Meier median OS from diagnosis by bone
  metastases at diagnosis, EGFR-mutant and KRAS-mutant.
- F7: A6, adenocarcinoma with bone metastases, KM median OS from bone_mets_date, KRAS wild
  type (no EGFR mutation, no ALK rearrangement) vs KRAS-mutant; beside it the naive medians
  from diagnosis.
- F8/F9: A8, bone metastases (all; NSCLC), first SRE (each type's first occurrence) from
  bone_mets_date, revealing SREs at 0, follow-up censored at agent start (agent started on or
  before bone_mets_date, recorded without a start date, or not recorded: left out), death
  competing: Aalen-Johansen at 21 months; beside it the naive share of `bone_agent = none`
  patients with >= 1 SRE over follow-up.
- F11: A11, NTX sample nearest bone_mets_date within +-30 days (labs, or the baseline ntx at
  diagnosis; the earlier on a tie), class >= 100 vs < 100, first SRE censored at agent start:
  cause-specific Cox HR (Breslow ties, whole days: day k is time k + 1).
"""

import sys

import numpy as np
import pandas as pd

DPM = 30.4375
NSCLC = {"adenocarcinoma", "squamous", "large_cell", "nsclc_nos"}
NON_SQUAMOUS = {"adenocarcinoma", "large_cell", "nsclc_nos"}
SRE = {"pathologic_fracture", "radiotherapy_bone", "bone_surgery", "spinal_cord_compression"}


def aalen_johansen(time, status, horizon):
    """status: 1 event, 2 competing, 0 censored. CIF of cause 1 at horizon (right-continuous);
    at one time, events before censorings (all counted among those at risk)."""
    order = np.argsort(time, kind="stable")
    t, s = np.asarray(time)[order], np.asarray(status)[order]
    uniq, idx = np.unique(t, return_index=True)
    n = len(t)
    surv, cif = 1.0, 0.0
    counts = np.split(s, idx[1:])
    at_risk = n
    for u, group in zip(uniq, counts):
        if u > horizon:
            break
        d1 = np.sum(group == 1)
        d2 = np.sum(group == 2)
        if at_risk > 0:
            cif += surv * d1 / at_risk
            surv *= 1 - (d1 + d2) / at_risk
        at_risk -= len(group)
    return cif


def km_median(time, dead):
    order = np.argsort(time, kind="stable")
    t, d = np.asarray(time)[order], np.asarray(dead)[order]
    uniq, idx = np.unique(t, return_index=True)
    groups = np.split(d, idx[1:])
    at_risk, s = len(t), 1.0
    for u, g in zip(uniq, groups):
        deaths = g.sum()
        if deaths:
            s *= 1 - deaths / at_risk
            if s <= 0.5:
                return u
        at_risk -= len(g)
    return float("nan")


def cox_binary(time, event, x):
    """Cause-specific Cox HR of a binary covariate (Breslow), with its Wald 95% CI."""
    time, event, x = map(np.asarray, (time, event, x))
    order = np.argsort(-time, kind="stable")
    t, e, xx = time[order], event[order], x[order]
    beta = 0.0
    for _ in range(30):
        r = np.exp(beta)
        n1 = np.cumsum(xx)
        n0 = np.cumsum(1 - xx)
        # at each distinct time: risk set = all with time >= t (cumulative from the end)
        uniq, first = np.unique(-t, return_index=True)
        last = np.r_[first[1:], len(t)] - 1
        u_score, info = 0.0, 0.0
        for a, b in zip(first, last):
            d = e[a : b + 1]
            if not d.any():
                continue
            dx = xx[a : b + 1][d == 1].sum()
            dn = d.sum()
            m1, m0 = n1[b], n0[b]
            p = m1 * r / (m1 * r + m0)
            u_score += dx - dn * p
            info += dn * p * (1 - p)
        step = u_score / info
        beta += step
        if abs(step) < 1e-10:
            break
    se = 1 / np.sqrt(info)
    return np.exp(beta), np.exp(beta - 1.96 * se), np.exp(beta + 1.96 * se)


def main(directory):
    pt = pd.read_csv(f"{directory}/patients.csv", dtype=str)
    ev = pd.read_csv(f"{directory}/events.csv", dtype=str)
    labs = pd.read_csv(f"{directory}/labs.csv", dtype=str)
    for c in ["diagnosis_date", "bone_mets_date", "last_contact_date", "bone_agent_start"]:
        pt[c] = pd.to_datetime(pt[c])
    dx, bone, last = pt.diagnosis_date, pt.bone_mets_date, pt.last_contact_date
    dead = (pt.vital_status == "dead").to_numpy()
    has_bone = bone.notna().to_numpy()
    sync = (has_bone & ((bone - dx).dt.days <= 30)).to_numpy()
    stage = pt.stage.fillna("")
    advanced = stage.isin(["iii", "iv", "iva", "ivb"]).to_numpy()
    stage_iv = stage.isin(["iv", "iva", "ivb"]).to_numpy()
    hist = pt.histology
    egfr_mut = pt.egfr.isin(["exon19_del", "l858r", "other_mutation"]).to_numpy()
    alk = (pt.alk == "rearranged").to_numpy()
    kras_mut = pt.kras.isin(["g12a", "g12c", "g12d", "g12v", "other_mutation"]).to_numpy()
    kras_fam = kras_mut & ~egfr_mut & ~alk
    kras_wt = (pt.kras == "wild_type").to_numpy() & ~egfr_mut & ~alk
    rows = []

    def row(name, target, value, n):
        rows.append((name, target, value, n))

    # F1
    a = advanced
    t_bone = np.where(sync, 0.0, (bone - dx).dt.days / DPM)
    t_end = ((last - dx).dt.days / DPM).to_numpy()
    time = np.where(has_bone, t_bone, t_end)[a]
    status = np.where(has_bone, 1, np.where(dead, 2, 0))[a]
    row("F1 A3 CIF bone mets 24 mo, stage III-IV (sync at 0)", 0.36, aalen_johansen(time, status, 24.0), a.sum())
    row("   bone metastases ever, all patients (share)", float("nan"), has_bone.mean(), len(pt))
    # F3/F4
    ivns = stage_iv & hist.isin(NON_SQUAMOUS).to_numpy()
    tn = ivns & kras_wt & (pt.egfr == "wild_type").to_numpy() & (pt.alk == "negative").to_numpy()
    row("F3 bone at dx, stage IV non-sq EGFR", 0.538, sync[ivns & egfr_mut].mean(), (ivns & egfr_mut).sum())
    row("F3 bone at dx, triple-negative", 0.315, sync[tn].mean(), tn.sum())
    row("F4 bone at dx, KRAS G12A", 0.429, sync[ivns & (pt.kras == "g12a").to_numpy() & ~egfr_mut & ~alk].mean(), 0)
    row("F3 bone at dx, all stage IV non-sq", 0.34, sync[ivns].mean(), ivns.sum())
    # F5/F6
    os_dx = t_end
    for name, target, sel in [
        ("F5 EGFR with bone at dx", 18.5, ivns & egfr_mut & sync),
        ("F5 EGFR without", 17.8, ivns & egfr_mut & ~sync),
        ("F6 KRAS with bone at dx", 6.8, ivns & kras_fam & sync),
        ("F6 KRAS without", 9.8, ivns & kras_fam & ~sync),
    ]:
        row(name + " (median OS from dx)", target, km_median(os_dx[sel], dead[sel]), sel.sum())
    # F7
    adeno_bone = (hist == "adenocarcinoma").to_numpy() & has_bone
    os_bone = ((last - bone).dt.days / DPM).to_numpy()
    for name, target, sel in [
        ("F7 KRAS wild type", 9.7, adeno_bone & kras_wt),
        ("F7 KRAS-mutant", 3.7, adeno_bone & kras_fam),
    ]:
        row(name + " median OS from bone (plan)", target, km_median(os_bone[sel], dead[sel]), sel.sum())
        row(name + " median OS from dx (naive)", target, km_median(os_dx[sel], dead[sel]), sel.sum())
    for name, sel in [("sync", adeno_bone & kras_fam & sync), ("meta", adeno_bone & kras_fam & ~sync)]:
        row(f"   KRAS-mutant {name} median from bone", float("nan"), km_median(os_bone[sel], dead[sel]), sel.sum())
    # F8/F9: first SRE per patient and per type
    ev = ev[ev.event_type.isin(SRE)].copy()
    ev["event_date"] = pd.to_datetime(ev.event_date)
    pid_index = pd.Series(np.arange(len(pt)), index=pt.patient_id)
    ev["i"] = pid_index[ev.patient_id].to_numpy()
    first_any = ev.groupby("i").event_date.min()
    first_type = ev.groupby(["i", "event_type"]).event_date.min()
    agent = pt.bone_agent
    start = pt.bone_agent_start
    excluded = agent.isna() | ((agent != "none") & start.isna()) | (start.notna() & (start <= bone))
    pop = has_bone & ~excluded.to_numpy()
    end = np.where(start.notna() & (start < last), start, last)
    end = pd.Series(end)
    died_in = dead & ~(start.notna() & (start < last)).to_numpy()

    def first_sre_cif(first, sel, horizon=21.0):
        f = pd.Series(pd.NaT, index=pt.index, dtype="datetime64[ns]")
        f.iloc[first.index.to_numpy()] = first.to_numpy()
        hit = (f.notna() & (f <= end)).to_numpy()
        t_sre = np.maximum((f - bone).dt.days.to_numpy() / DPM, 0.0)
        t_fu = ((end - bone).dt.days / DPM).to_numpy()
        time = np.where(hit, t_sre, t_fu)[sel]
        status = np.where(hit, 1, np.where(died_in, 2, 0))[sel]
        return aalen_johansen(time, status, horizon)

    nsclc = hist.isin(NSCLC).to_numpy()
    row("F8 A8 first SRE CIF 21 mo, all histologies", 0.50, first_sre_cif(first_any, pop), pop.sum())
    none = has_bone & (agent == "none").to_numpy()
    any_sre = np.zeros(len(pt), bool)
    any_sre[first_any.index.to_numpy()] = True
    row("F8 naive share with >=1 SRE, agent none", 0.50, any_sre[none].mean(), none.sum())
    row("F9 A8 any SRE CIF 21 mo, NSCLC", 0.48, first_sre_cif(first_any, pop & nsclc), (pop & nsclc).sum())
    for ty, target in [
        ("pathologic_fracture", 0.22),
        ("radiotherapy_bone", 0.34),
        ("bone_surgery", 0.05),
        ("spinal_cord_compression", 0.04),
    ]:
        first = first_type.xs(ty, level="event_type")
        row(f"F9 {ty}", target, first_sre_cif(first, pop & nsclc), (pop & nsclc).sum())
    revealing = (first_any < bone.iloc[first_any.index.to_numpy()].to_numpy())
    row("   revealing SREs (patients)", float("nan"), revealing.sum(), 0)
    row("   agent none / not recorded / no start / start <= bone (share of bone pts)", float("nan"),
        float("nan"), 0)
    print(
        "   agent shares among bone patients:",
        agent[has_bone].fillna("(missing)").value_counts(normalize=True).round(3).to_dict(),
    )
    # F11: NTX nearest bone date within 30 days
    ntx = labs[labs.analyte == "ntx"].copy()
    ntx["day"] = pd.to_datetime(ntx.sampled_at.str[:10])
    ntx["value"] = ntx.value.astype(float)
    ntx["i"] = pid_index[ntx.patient_id].to_numpy()
    base = pd.DataFrame({"i": np.arange(len(pt)), "day": dx, "value": pd.to_numeric(pt.ntx)})
    base = base[base.value.notna()]
    allntx = pd.concat([ntx[["i", "day", "value"]], base])
    allntx = allntx[allntx.i.isin(np.flatnonzero(has_bone))]
    allntx["gap"] = (allntx.day - bone.iloc[allntx.i.to_numpy()].to_numpy()).dt.days
    allntx = allntx[allntx.gap.abs() <= 30]
    allntx = allntx.assign(absgap=allntx.gap.abs()).sort_values(["i", "absgap", "day"])
    nearest = allntx.groupby("i").first()
    high = np.full(len(pt), -1)
    high[nearest.index.to_numpy()] = (nearest.value >= 100).astype(int).to_numpy()
    sel = pop & (high >= 0)
    f = pd.Series(pd.NaT, index=pt.index, dtype="datetime64[ns]")
    f.iloc[first_any.index.to_numpy()] = first_any.to_numpy()
    hit = (f.notna() & (f <= end)).to_numpy()
    days = np.where(hit, np.maximum((f - bone).dt.days.to_numpy(), 0), (end - bone).dt.days.to_numpy()) + 1
    hr, lo, hi = cox_binary(days[sel], hit[sel].astype(int), high[sel])
    row(f"F11 A11 cause-specific HR NTX>=100 (95% CI {lo:.2f}-{hi:.2f})", 1.79, hr, sel.sum())

    print(f"{'figure':<72} {'target':>7} {'cohort':>8} {'n':>8}")
    for name, target, value, n in rows:
        print(f"{name:<72} {target:>7.3f} {value:>8.3f} {n:>8}")


if __name__ == "__main__":
    main(sys.argv[1])
