//! Skeletal-related events (A7–A11), from the bone-metastasis diagnosis: the first SRE with
//! death competing, by weight-bearing involvement, with the bone agent as a time-varying
//! exposure and at the landmark (A7); the risk without treatment, censored at the agent's start,
//! for the first SRE and each type (A8, F8, F9); the skeletal morbidity rate with person-time
//! split at the agent's start (A9); a second SRE after a first and recurrent SREs (A10); the
//! NTX class at bone diagnosis (A11, F11). Conventions: docs/analysis-plan.md.

use super::estimators::*;
use super::incidence::{model_json, split_rates};
use super::model::*;
use super::plan::{analysis, Population};
use super::timeline::{
    cox_time, months, split_person_time, AgentExposure, Timeline, DAYS_PER_MONTH, SRE_KINDS,
};
use super::Study;
use crate::classify::{resorption, NtxClass};

/// A7–A11.
pub struct SreAnalyses {
    /// A7–A11 declared.
    pub declared: Vec<AnalysisJson>,
    /// Cumulative incidences.
    pub cumulative: Vec<CompetingRiskJson>,
    /// Rates.
    pub rates: Vec<RatesJson>,
    /// Cox models.
    pub models: Vec<ModelJson>,
}

/// The first SRE from the bone diagnosis: status 1 the SRE (revealing ones at 0), 2 death
/// first, 0 censored; follow-up cut at day `cut` (the agent's start) when given: an event on
/// that day counts.
fn first_event(t: &Timeline, event_day: Option<i64>, cut: Option<i64>) -> (f64, u32) {
    let end = cut.map_or(t.end_from_bone, |c| c.min(t.end_from_bone));
    match event_day {
        Some(k) if k <= end => (months(k), 1),
        _ if t.dead && t.end_from_bone <= end => (months(t.end_from_bone), 2),
        _ => (months(end), 0),
    }
}

/// A7–A11.
pub fn analyses(s: &Study) -> SreAnalyses {
    let bone = Population::select(0..s.n(), |i| {
        if s.bone(i) {
            Ok(())
        } else {
            Err("no bone metastases")
        }
    });
    let ((a7, a8), (a9, (a10, a11))) = rayon::join(
        || rayon::join(|| first_sre(s, &bone), || untreated(s, &bone)),
        || {
            rayon::join(
                || rate(s, &bone),
                || rayon::join(|| second_sre(s, &bone), || ntx(s, &bone)),
            )
        },
    );
    let mut out = SreAnalyses {
        declared: Vec::new(),
        cumulative: Vec::new(),
        rates: Vec::new(),
        models: Vec::new(),
    };
    for part in [a7, a8, a9, a10, a11] {
        out.declared.push(part.declared);
        out.cumulative.extend(part.cumulative);
        out.rates.extend(part.rates);
        out.models.extend(part.models);
    }
    out
}

/// One analysis's results.
struct Part {
    declared: AnalysisJson,
    cumulative: Vec<CompetingRiskJson>,
    rates: Vec<RatesJson>,
    models: Vec<ModelJson>,
}

const FROM_BONE: &str = "months from the bone-metastasis diagnosis; death without an SRE competing; last contact censors";

/// Revealing SREs (before the bone diagnosis) among `rows`.
fn revealing(s: &Study, rows: &[usize]) -> u64 {
    rows.iter()
        .filter(|&&i| s.timelines[i].first_sre().is_some_and(|k| k < 0))
        .count() as u64
}

/// The weight-bearing involvement (C7), when assessable.
fn weight_bearing(s: &Study, i: usize) -> Option<bool> {
    s.classified[i]
        .baseline
        .weight_bearing
        .as_ref()
        .ok()
        .map(|w| !w.is_empty())
}

/// The rule of the SRE models with the agent and weight-bearing involvement as covariates: a
/// usable agent record and an assessable weight-bearing status.
fn agent_and_weight_bearing(s: &Study, i: usize) -> Result<(), &'static str> {
    if let Some(reason) = s.timelines[i].agent.unusable() {
        return Err(reason);
    }
    weight_bearing(s, i)
        .map(|_| ())
        .ok_or("weight-bearing involvement not assessable")
}

/// A7: the first SRE by weight-bearing involvement; the agent as a time-varying exposure in a
/// cause-specific Cox model; the landmark analysis.
fn first_sre(s: &Study, bone: &Population) -> Part {
    let horizons = &s.settings.horizons_months;
    let timing = |i: usize| first_event(&s.timelines[i], s.timelines[i].first_sre(), None);
    let by_weight_bearing = breakdown(
        &bone.rows,
        |i| weight_bearing(s, i),
        |w| match w {
            Some(true) => "weight-bearing bone involved".into(),
            Some(false) => "no weight-bearing bone".into(),
            None => "not assessable".into(),
        },
    );
    let mut cumulative_json = vec![cumulative(
        &CifSpec {
            analysis: "A7",
            id: "first_sre_by_weight_bearing",
            outcome: "first SRE",
            endpoint: FROM_BONE,
            population: "patients with bone metastases",
            by: "weight-bearing involvement at bone diagnosis",
            horizons,
        },
        &by_weight_bearing,
        &timing,
        revealing(s, &bone.rows),
    )];
    // The cause-specific Cox model: rows split at the agent's start.
    let usable = bone.refine(|i| agent_and_weight_bearing(s, i));
    let (mut start, mut stop, mut event, mut treated, mut wb) =
        (vec![], vec![], vec![], vec![], vec![]);
    for &i in &usable.rows {
        let t = &s.timelines[i];
        let (day, is_event) = match t.first_sre() {
            Some(k) if k <= t.end_from_bone => (k, true),
            _ => (t.end_from_bone, false),
        };
        let w = f64::from(u8::from(weight_bearing(s, i) == Some(true)));
        for (from, to, on, ends) in exposure_rows(cox_time(day), is_event, t.agent.treated_from()) {
            start.push(from);
            stop.push(to);
            event.push(ends);
            treated.push(f64::from(u8::from(on)));
            wb.push(w);
        }
    }
    let mut cox = model_json(
        ("A7", "first_sre_cause_specific"),
        "cause-specific Cox model of the first SRE, (start, stop] rows split at the agent's start (Efron ties)",
        "bone-targeted agent (time-varying) and weight-bearing involvement",
        "patients with bone metastases and a usable bone-agent record",
        (usable.n(), bone.n() - usable.n()),
    );
    cox.intervals = Some(Count::Shown(stop.len() as u64));
    fit_cox(
        &mut cox,
        CoxData {
            stop: &stop,
            start: Some(&start),
            event: &event,
            cluster: None,
            strata: None,
        },
        Design {
            names: vec![
                "bone-targeted agent (time-varying)".into(),
                "weight-bearing bone involved".into(),
            ],
            columns: vec![treated, wb],
        },
    );
    // The landmark: alive, under follow-up and SRE-free at L; grouped by the agent by L.
    let landmark = s.settings.landmark_months * DAYS_PER_MONTH;
    let at_landmark = bone.refine(|i| {
        let t = &s.timelines[i];
        if let Some(reason) = t.agent.unusable() {
            Err(reason)
        } else if t.first_sre().is_some_and(|k| k as f64 <= landmark) {
            Err("an SRE by the landmark")
        } else if t.end_from_bone as f64 <= landmark {
            Err("follow-up ended by the landmark")
        } else {
            Ok(())
        }
    });
    let treated_by = |i: usize| s.timelines[i].agent.started_by(landmark.floor() as i64);
    let from_landmark = |i: usize| {
        let t = &s.timelines[i];
        let (m, status) = first_event(t, t.first_sre(), None);
        (m - s.settings.landmark_months, status)
    };
    let landmark_groups = split(
        &at_landmark.rows,
        treated_by,
        "agent started by the landmark",
        "no agent by the landmark",
    );
    let population = format!(
        "patients with bone metastases alive, under follow-up and without an SRE {} months after the bone diagnosis",
        s.settings.landmark_months
    );
    cumulative_json.push(cumulative(
        &CifSpec {
            analysis: "A7",
            id: "first_sre_landmark",
            outcome: "first SRE",
            endpoint:
                "months from the landmark; death without an SRE competing; last contact censors",
            population: &population,
            by: "bone-targeted agent by the landmark",
            horizons,
        },
        &landmark_groups,
        &from_landmark,
        0,
    ));
    let (lm_stop, lm_event): (Vec<f64>, Vec<bool>) = at_landmark
        .rows
        .iter()
        .map(|&i| {
            let (m, status) = from_landmark(i);
            (m, status == 1)
        })
        .unzip();
    let landmark_cox = crude_cox(
        ("A7", "first_sre_landmark_cause_specific"),
        "cause-specific Cox model of the first SRE from the landmark (Efron ties)",
        &population,
        (&at_landmark.rows, 0),
        (&lm_stop, &lm_event),
        "agent started by the landmark",
        treated_by,
    );
    Part {
        declared: {
            let mut declared = bone.declare(analysis("A7"));
            declared
                .excluded
                .extend(sub_exclusions("cause-specific Cox", bone, &usable));
            declared
                .excluded
                .extend(sub_exclusions("landmark", bone, &at_landmark));
            declared
        },
        cumulative: cumulative_json,
        rates: Vec::new(),
        models: vec![cox, landmark_cox],
    }
}

/// A patient's (start, stop] rows up to `stop` (an event at the end when `event`), split where
/// the agent begins (`treated_from`, a Cox time): (start, stop, treated, event).
fn exposure_rows(stop: f64, event: bool, treated_from: Option<f64>) -> Vec<(f64, f64, bool, bool)> {
    match treated_from {
        Some(s) if s <= 0.0 => vec![(0.0, stop, true, event)],
        Some(s) if s < stop => vec![(0.0, s, false, false), (s, stop, true, event)],
        _ => vec![(0.0, stop, false, event)],
    }
}

/// A8: the risk of a first SRE, and of each type, without treatment: follow-up censored at the
/// agent's start; all histologies (F8) and NSCLC (F9).
fn untreated(s: &Study, bone: &Population) -> Part {
    let known = bone.refine(|i| s.timelines[i].agent.untreated_until().map(|_| ()));
    let horizons = with_horizon(&s.settings.horizons_months, s.settings.sre_horizon_months);
    let cut = |i: usize| s.timelines[i].agent.untreated_until().ok().flatten();
    let nsclc: Vec<usize> = known.rows.iter().copied().filter(|&i| s.nsclc(i)).collect();
    let endpoint = "months from the bone-metastasis diagnosis; death without the event competing; last contact and the start of a bone-targeted agent censor";
    let mut out = Vec::new();
    for (id, population, rows) in [
        (
            "sre_untreated",
            "patients with bone metastases and known untreated time",
            &known.rows,
        ),
        (
            "sre_untreated_nsclc",
            "NSCLC with bone metastases and known untreated time",
            &nsclc,
        ),
    ] {
        let all = vec![("all".to_string(), rows.to_vec())];
        let timing = |i: usize| first_event(&s.timelines[i], s.timelines[i].first_sre(), cut(i));
        let spec = CifSpec {
            analysis: "A8",
            id,
            outcome: "first SRE",
            endpoint,
            population,
            by: "overall",
            horizons: &horizons,
        };
        out.push(cumulative(&spec, &all, &timing, revealing(s, rows)));
        // Each kind's first occurrence: death competes, other kinds do not end follow-up.
        for (k, kind) in SRE_KINDS.iter().enumerate() {
            let timing = |i: usize| {
                first_event(
                    &s.timelines[i],
                    s.timelines[i].first_of_kind[k].map(i64::from),
                    cut(i),
                )
            };
            let at_zero = rows
                .iter()
                .filter(|&&i| s.timelines[i].first_of_kind[k].is_some_and(|x| x < 0))
                .count() as u64;
            let kind_id = format!("{id}_{}", kind.name().replace([' ', '-'], "_"));
            let spec = CifSpec {
                id: &kind_id,
                outcome: kind.name(),
                ..spec
            };
            out.push(cumulative(&spec, &all, &timing, at_zero));
        }
    }
    Part {
        declared: known.declare(analysis("A8")),
        cumulative: out,
        rates: Vec::new(),
        models: Vec::new(),
    }
}

/// A9: SREs on or after the bone diagnosis per patient-year, person-time split at the agent's
/// start.
fn rate(s: &Study, bone: &Population) -> Part {
    let usable = bone.refine(|i| s.timelines[i].agent.unusable().map_or(Ok(()), Err));
    let rates = split_rates(
        ("A9", "sre_rate_by_agent"),
        "SREs on or after the bone-metastasis diagnosis per patient-year (skeletal morbidity rate)",
        "patients with bone metastases and a usable bone-agent record",
        &usable.rows,
        |i| {
            let t = &s.timelines[i];
            split_person_time(t.end_from_bone, &t.sre_days, t.agent)
        },
    );
    Part {
        declared: usable.declare(analysis("A9")),
        cumulative: Vec::new(),
        rates: vec![rates],
        models: Vec::new(),
    }
}

/// A10: a second SRE after a first (death competing), by the agent started before the first
/// SRE; recurrent SREs as multiple events (Andersen–Gill), the agent time-varying.
fn second_sre(s: &Study, bone: &Population) -> Part {
    let with_first = bone.refine(|i| {
        let t = &s.timelines[i];
        if t.first_sre().is_none_or(|k| k > t.end_from_bone) {
            Err("no SRE")
        } else {
            Ok(())
        }
    });
    let usable = with_first.refine(|i| s.timelines[i].agent.unusable().map_or(Ok(()), Err));
    // Treated at the first SRE: the agent started before its day (an SRE on the day the agent
    // starts happened untreated).
    let treated_at_first = |i: usize| {
        let t = &s.timelines[i];
        matches!((t.agent, t.first_sre()), (AgentExposure::StartsOn(a), Some(k)) if a < k)
    };
    // From the first SRE's own date (a revealing one is before the bone diagnosis).
    let timing = |i: usize| {
        let t = &s.timelines[i];
        let first = t.first_sre().unwrap_or(0);
        let end = t.end_from_bone - first;
        match t.second_sre() {
            Some(k) if k - first <= end => (months(k - first), 1),
            _ => (months(end), if t.dead { 2 } else { 0 }),
        }
    };
    let spec = |id, by, population| CifSpec {
        analysis: "A10",
        id,
        outcome: "second SRE",
        endpoint:
            "months from the first SRE; death without a second SRE competing; last contact censors",
        population,
        by,
        horizons: &s.settings.horizons_months,
    };
    let cumulative_json = vec![
        cumulative(
            &spec(
                "second_sre",
                "overall",
                "patients with bone metastases and a first SRE",
            ),
            &vec![("all".to_string(), with_first.rows.clone())],
            &timing,
            0,
        ),
        cumulative(
            &spec(
                "second_sre_by_agent",
                "bone-targeted agent before the first SRE",
                "patients with bone metastases, a first SRE and a usable bone-agent record",
            ),
            &split(
                &usable.rows,
                treated_at_first,
                "agent before the first SRE",
                "no agent before the first SRE",
            ),
            &timing,
            0,
        ),
    ];
    let (model, model_population) = recurrent_sre_model(s, bone);
    let mut declared = with_first.declare(analysis("A10"));
    declared
        .excluded
        .extend(sub_exclusions("by agent", &with_first, &usable));
    declared.excluded.extend(sub_exclusions(
        "Andersen-Gill model",
        bone,
        &model_population,
    ));
    Part {
        declared,
        cumulative: cumulative_json,
        rates: Vec::new(),
        models: vec![model],
    }
}

/// A patient's intervals between SREs in the whole-day convention (day k → time k + 1), split
/// at the agent's start: (start, stop, event, after a first SRE, treated). SREs on one day count
/// once; a revealing SRE counts on day 0.
fn recurrent_rows(t: &Timeline) -> Vec<(f64, f64, bool, bool, bool)> {
    let mut days: Vec<i64> = t
        .sre_days
        .iter()
        .map(|&k| k.clamp(0, t.end_from_bone))
        .collect();
    days.dedup();
    let mut rows = Vec::new();
    let mut from = 0.0;
    let last = cox_time(t.end_from_bone);
    for (k, &day) in days.iter().enumerate() {
        let to = cox_time(day);
        for (a, b, on, ends) in shifted(from, to, true, t.agent.treated_from()) {
            rows.push((a, b, ends, k > 0, on));
        }
        from = to;
    }
    if from < last {
        for (a, b, on, ends) in shifted(from, last, false, t.agent.treated_from()) {
            rows.push((a, b, ends, !days.is_empty(), on));
        }
    }
    rows
}

/// [`exposure_rows`] for an interval starting at `from`.
fn shifted(
    from: f64,
    to: f64,
    event: bool,
    treated_from: Option<f64>,
) -> Vec<(f64, f64, bool, bool)> {
    match treated_from {
        Some(s) if s > from && s < to => vec![(from, s, false, false), (s, to, true, event)],
        Some(s) => vec![(from, to, s <= from, event)],
        None => vec![(from, to, false, event)],
    }
}

/// A10: the Andersen–Gill model of recurrent SREs, from the bone diagnosis to death or last
/// contact, with a patient-clustered robust variance.
fn recurrent_sre_model(s: &Study, bone: &Population) -> (ModelJson, Population) {
    let usable = bone.refine(|i| agent_and_weight_bearing(s, i));
    let (mut start, mut stop, mut event, mut cluster) = (vec![], vec![], vec![], vec![]);
    let mut columns = vec![Vec::new(), Vec::new(), Vec::new()];
    for &i in &usable.rows {
        let w = f64::from(u8::from(weight_bearing(s, i) == Some(true)));
        for (a, b, ends, after_first, on) in recurrent_rows(&s.timelines[i]) {
            start.push(a);
            stop.push(b);
            event.push(ends);
            cluster.push(i);
            columns[0].push(f64::from(u8::from(after_first)));
            columns[1].push(f64::from(u8::from(on)));
            columns[2].push(w);
        }
    }
    let mut model = model_json(
        ("A10", "recurrent_sres"),
        "Andersen-Gill model of recurrent SREs (Cox, Efron ties)",
        "after a first SRE, bone-targeted agent (time-varying), weight-bearing involvement",
        "patients with bone metastases and a usable bone-agent record, from the bone-metastasis diagnosis to death or last contact",
        (usable.n(), bone.n() - usable.n()),
    );
    model.variance = "robust, clustered by patient".into();
    model.intervals = Some(Count::Shown(stop.len() as u64));
    fit_cox(
        &mut model,
        CoxData {
            stop: &stop,
            start: Some(&start),
            event: &event,
            cluster: Some(&cluster),
            strata: None,
        },
        Design {
            names: vec![
                "after a first SRE (vs before any)".into(),
                "bone-targeted agent (time-varying)".into(),
                "weight-bearing bone involved".into(),
            ],
            columns,
        },
    );
    (model, usable)
}

/// A11: the first SRE (censored at the agent's start) and death by NTX class at the bone
/// diagnosis, from the later of the bone diagnosis and the NTX sample: a patient with an SRE,
/// the agent's start or the end of follow-up before the sample is left out, so that the class
/// is known at the origin and prevalent SREs are not counted as events.
fn ntx(s: &Study, bone: &Population) -> Part {
    let with_ntx = bone.refine(|i| {
        let t = &s.timelines[i];
        match t.ntx_at_bone {
            None => Err("no NTX sample within 30 days of the bone-metastasis diagnosis"),
            Some(sample) if sample.origin() > t.end_from_bone => {
                Err("follow-up ended before the NTX sample")
            }
            Some(_) => Ok(()),
        }
    });
    let origin = |i: usize| s.timelines[i].ntx_at_bone.map_or(0, |v| v.origin());
    let high = |i: usize| {
        s.timelines[i]
            .ntx_at_bone
            .is_some_and(|v| resorption::ntx_class(v.value, s.settings) == NtxClass::High)
    };
    let untreated = with_ntx.refine(|i| {
        let t = &s.timelines[i];
        let until = t.agent.untreated_until()?;
        if t.first_sre().is_some_and(|k| k < origin(i)) {
            Err("an SRE before the NTX sample (or a revealing SRE)")
        } else if until.is_some_and(|a| a < origin(i)) {
            Err("bone-targeted agent started before the NTX sample")
        } else {
            Ok(())
        }
    });
    // Whole days from the origin: an event on the origin's day happens within its first day.
    let (stop, event): (Vec<f64>, Vec<bool>) = untreated
        .rows
        .iter()
        .map(|&i| {
            let t = &s.timelines[i];
            let end = t
                .agent
                .untreated_until()
                .ok()
                .flatten()
                .map_or(t.end_from_bone, |c| c.min(t.end_from_bone));
            match t.first_sre() {
                Some(k) if k <= end => (cox_time(k - origin(i)), true),
                _ => (cox_time(end - origin(i)), false),
            }
        })
        .unzip();
    let sre_model = crude_cox(
        ("A11", "F11_first_sre_by_ntx"),
        "cause-specific Cox model of the first SRE (Efron ties); death and the agent's start censor",
        "patients with bone metastases, NTX at the bone diagnosis and known untreated time, SRE-free at the later of the bone diagnosis and the sample",
        (&untreated.rows, with_ntx.n() - untreated.n()),
        (&stop, &event),
        "NTX >= 100 (vs < 100)",
        high,
    );
    let (death_stop, death_event): (Vec<f64>, Vec<bool>) = with_ntx
        .rows
        .iter()
        .map(|&i| {
            let t = &s.timelines[i];
            (cox_time(t.end_from_bone - origin(i)), t.dead)
        })
        .unzip();
    let death_model = crude_cox(
        ("A11", "death_by_ntx"),
        "Cox model of death from the later of the bone diagnosis and the NTX sample (Efron ties)",
        "patients with bone metastases and NTX at the bone diagnosis",
        (&with_ntx.rows, 0),
        (&death_stop, &death_event),
        "NTX >= 100 (vs < 100)",
        high,
    );
    let mut declared = with_ntx.declare(analysis("A11"));
    declared
        .excluded
        .extend(sub_exclusions("first SRE", &with_ntx, &untreated));
    Part {
        declared,
        cumulative: Vec::new(),
        rates: Vec::new(),
        models: vec![sre_model, death_model],
    }
}

/// A crude Cox model of one indicator term (Efron ties) over right-censored rows, one per
/// patient of `rows`.
#[allow(clippy::too_many_arguments)]
fn crude_cox(
    ids: (&'static str, &str),
    model: &str,
    population: &str,
    (rows, dropped): (&[usize], u64),
    (stop, event): (&[f64], &[bool]),
    term: &str,
    exposed: impl Fn(usize) -> bool,
) -> ModelJson {
    let mut json = model_json(
        ids,
        model,
        "crude",
        population,
        (rows.len() as u64, dropped),
    );
    let column = rows
        .iter()
        .map(|&i| f64::from(u8::from(exposed(i))))
        .collect();
    fit_cox(
        &mut json,
        CoxData::right_censored(stop, event),
        Design::single(term, column),
    );
    json
}

/// The exclusions a sub-analysis adds to its analysis's population, named after it.
fn sub_exclusions(name: &str, population: &Population, sub: &Population) -> Vec<ExclusionJson> {
    sub.excluded
        .iter()
        .filter(|(reason, n)| {
            population
                .excluded
                .iter()
                .find(|(r, _)| r == reason)
                .is_none_or(|(_, k)| k != n)
        })
        .map(|&(reason, n)| {
            let before = population
                .excluded
                .iter()
                .find(|(r, _)| *r == reason)
                .map_or(0, |(_, k)| *k);
            ExclusionJson {
                reason: format!("{name}: {reason}"),
                n: Count::Shown(n - before),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(end: i64, dead: bool, sres: &[i64], agent: AgentExposure) -> Timeline {
        Timeline {
            dead,
            end_from_diagnosis: end,
            bone_from_diagnosis: Some(0),
            bone_at_diagnosis: true,
            end_from_bone: end,
            sre_days: sres.to_vec(),
            first_of_kind: [None; 6],
            agent,
            ntx_at_bone: None,
            crisis_days: Vec::new(),
        }
    }

    #[test]
    fn follow_up_censored_at_the_agent_keeps_an_event_on_its_day() {
        let m = |d: i64| d as f64 / DAYS_PER_MONTH;
        let t = timeline(100, true, &[40], AgentExposure::StartsOn(40));
        assert_eq!(first_event(&t, Some(40), Some(40)), (m(40), 1));
        assert_eq!(first_event(&t, Some(41), Some(40)), (m(40), 0));
        // Death on the agent's day counts as death; a revealing SRE counts at 0.
        let t = timeline(40, true, &[], AgentExposure::StartsOn(40));
        assert_eq!(first_event(&t, None, Some(40)), (m(40), 2));
        assert_eq!(first_event(&t, Some(-3), None), (0.0, 1));
        // An agent started after follow-up: the whole follow-up.
        let t = timeline(30, false, &[], AgentExposure::StartsOn(90));
        assert_eq!(first_event(&t, None, Some(90)), (m(30), 0));
    }

    #[test]
    fn exposure_rows_split_at_the_day_after_the_start() {
        assert_eq!(
            exposure_rows(50.0, true, Some(11.0)),
            [(0.0, 11.0, false, false), (11.0, 50.0, true, true)]
        );
        assert_eq!(
            exposure_rows(50.0, true, Some(0.0)),
            [(0.0, 50.0, true, true)]
        );
        assert_eq!(
            exposure_rows(11.0, true, Some(11.0)),
            [(0.0, 11.0, false, true)]
        );
        assert_eq!(exposure_rows(5.0, false, None), [(0.0, 5.0, false, false)]);
    }

    #[test]
    fn recurrent_rows_split_at_each_sre_and_at_the_agent() {
        // SREs on days -2 (revealing: day 0), 10, 10 (once) and 30; agent from day 20; end 99.
        let t = timeline(99, false, &[-2, 10, 10, 30], AgentExposure::StartsOn(20));
        assert_eq!(
            recurrent_rows(&t),
            [
                (0.0, 1.0, true, false, false),
                (1.0, 11.0, true, true, false),
                (11.0, 21.0, false, true, false),
                (21.0, 31.0, true, true, true),
                (31.0, 100.0, false, true, true),
            ]
        );
        // An SRE on the last day leaves no censored interval.
        let t = timeline(20, true, &[20], AgentExposure::Never);
        assert_eq!(recurrent_rows(&t), [(0.0, 21.0, true, false, false)]);
    }
}
