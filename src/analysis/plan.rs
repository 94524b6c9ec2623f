//! The analysis plan as data (docs/analysis-plan.md): each analysis A1–A12 declared once,
//! with its population, exposure and when it is known, outcome, origin, censoring, competing
//! event and estimator. summary.json's `analyses[]` and the report's Methods section are
//! rendered from these declarations and the populations the run drew.

use super::model::{AnalysisJson, Count, ExclusionJson};

/// An analysis of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Analysis {
    /// Stable id, A1 … A12.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// What it estimates, in words (the report's section title).
    pub title: &'static str,
    /// Among whom.
    pub population: &'static str,
    /// The exposure, and the moment it is known.
    pub exposure: &'static str,
    /// The outcome.
    pub outcome: &'static str,
    /// Time origin.
    pub origin: &'static str,
    /// What ends follow-up without the event.
    pub censoring: &'static str,
    /// The competing event.
    pub competing: &'static str,
    /// The estimators.
    pub estimator: &'static str,
}

const DEATH_OR_CONTACT: &str = "last contact (death is the event)";
const NONE: &str = "none";

/// The plan, in order.
pub const PLAN: [Analysis; 12] = [
    Analysis {
        id: "A1",
        name: "table_one",
        title: "Patient characteristics",
        population: "all accepted patients, overall and by bone metastases at diagnosis",
        exposure: "bone metastases at diagnosis (baseline)",
        outcome: "patient characteristics at diagnosis",
        origin: "lung-cancer diagnosis",
        censoring: NONE,
        competing: NONE,
        estimator: "n (%), median (IQR), missing counts; standardised mean differences",
    },
    Analysis {
        id: "A2",
        name: "bone_at_diagnosis",
        title: "Bone metastases at diagnosis",
        population: "all patients; stage IV non-squamous NSCLC for F3 and F4",
        exposure: "molecular subgroup, histology, sex, risk profile (baseline)",
        outcome: "bone metastases at diagnosis (C5 synchronous)",
        origin: "lung-cancer diagnosis",
        censoring: NONE,
        competing: NONE,
        estimator: "proportion with Wilson and exact CIs; crude odds ratio (Woolf, exact); logistic regression adjusted for sex, age, tumour size > 20 mm, N1-N3, non-bone sites, histology and molecular subgroup; F4 also adjusted for age, sex and ECOG",
    },
    Analysis {
        id: "A3",
        name: "bone_cumulative",
        title: "Bone metastases over follow-up",
        population: "advanced disease (stage III-IV), synchronous bone disease as an event at 0; and those without bone metastases at diagnosis (the metachronous risk)",
        exposure: "molecular subgroup, histology, sex, risk profile (baseline)",
        outcome: "bone metastases",
        origin: "lung-cancer diagnosis",
        censoring: "last contact",
        competing: "death without bone metastases",
        estimator: "Aalen-Johansen cumulative incidence at the horizons; Gray's test",
    },
    Analysis {
        id: "A4",
        name: "os_by_pattern",
        title: "Survival by metastatic pattern",
        population: "stage IV at diagnosis with a metastatic site recorded",
        exposure: "metastatic pattern at diagnosis (C5, baseline)",
        outcome: "death",
        origin: "lung-cancer diagnosis",
        censoring: DEATH_OR_CONTACT,
        competing: NONE,
        estimator: "Kaplan-Meier, log-rank; Cox crude and adjusted for age, sex, ECOG, histology and molecular subgroup (Efron ties), on the patients with ECOG recorded; visceral only is the reference pattern",
    },
    Analysis {
        id: "A5",
        name: "os_bone_at_diagnosis",
        title: "Survival with and without bone metastases at diagnosis",
        population: "stage IV non-squamous NSCLC: EGFR-mutant, KRAS-mutant, and all stratified by molecular family",
        exposure: "bone metastases at diagnosis (baseline)",
        outcome: "death",
        origin: "lung-cancer diagnosis",
        censoring: DEATH_OR_CONTACT,
        competing: NONE,
        estimator: "Kaplan-Meier medians, log-rank; Cox crude and adjusted for age, sex and ECOG",
    },
    Analysis {
        id: "A6",
        name: "os_from_bone",
        title: "Survival from the bone-metastasis diagnosis",
        population: "patients with bone metastases; adenocarcinoma with KRAS tested for the KRAS comparison (F7)",
        exposure: "molecular family; KRAS mutant vs wild type (no EGFR mutation, no ALK rearrangement); NTX class at bone diagnosis (all known at the bone-metastasis diagnosis)",
        outcome: "death",
        origin: "bone-metastasis diagnosis",
        censoring: DEATH_OR_CONTACT,
        competing: NONE,
        estimator: "Kaplan-Meier, log-rank, Cox (Efron ties)",
    },
    Analysis {
        id: "A7",
        name: "first_sre",
        title: "First skeletal-related event",
        population: "patients with bone metastases",
        exposure: "weight-bearing involvement (C7, from bone_sites, read as the sites at bone diagnosis: the contract does not date them); bone-targeted agent as a time-varying exposure (rows split at its start) and at the landmark",
        outcome: "first SRE (revealing SREs at 0)",
        origin: "bone-metastasis diagnosis (the landmark for the landmark analysis)",
        censoring: "last contact; death for the cause-specific Cox model",
        competing: "death without an SRE",
        estimator: "Aalen-Johansen at the horizons, Gray's test; cause-specific Cox with (start, stop] rows",
    },
    Analysis {
        id: "A8",
        name: "sre_untreated",
        title: "Skeletal-related events without a bone-targeted agent",
        population: "patients with bone metastases and known untreated time (all histologies; NSCLC for F9)",
        exposure: "none: the risk without bone-targeted treatment",
        outcome: "first SRE, and each SRE type's first occurrence (revealing SREs at 0)",
        origin: "bone-metastasis diagnosis",
        censoring: "last contact or the start of a bone-targeted agent",
        competing: "death without the event",
        estimator: "Aalen-Johansen cumulative incidence at the SRE horizon and the horizons",
    },
    Analysis {
        id: "A9",
        name: "sre_rate",
        title: "Skeletal morbidity rate",
        population: "patients with bone metastases and a usable bone-agent record",
        exposure: "bone-targeted agent: person-time split at its start",
        outcome: "SREs on or after the bone-metastasis diagnosis",
        origin: "bone-metastasis diagnosis",
        censoring: "death or last contact",
        competing: NONE,
        estimator: "rate per patient-year with the exact Poisson CI; exact conditional rate ratio treated vs untreated (crude: treated time is often after a first SRE, which raises the rate; A10's Andersen-Gill model adjusts the agent for SRE history)",
    },
    Analysis {
        id: "A10",
        name: "second_sre",
        title: "Second and recurrent skeletal-related events",
        population: "patients with bone metastases and a first SRE (and a usable bone-agent record)",
        exposure: "bone-targeted agent started before the first SRE (known at the origin); time-varying in the Andersen-Gill model",
        outcome: "a second SRE (a later date, outside the merge window); every SRE in the Andersen-Gill model",
        origin: "first SRE (bone-metastasis diagnosis for the Andersen-Gill model)",
        censoring: "last contact",
        competing: "death without a second SRE",
        estimator: "Aalen-Johansen, Gray's test; Andersen-Gill Cox with a patient-clustered robust variance",
    },
    Analysis {
        id: "A11",
        name: "ntx",
        title: "NTX at the bone-metastasis diagnosis",
        population: "patients with bone metastases and an NTX sample within 30 days of the bone-metastasis diagnosis",
        exposure: "NTX class at bone diagnosis (C9)",
        outcome: "first SRE; death",
        origin: "bone-metastasis diagnosis",
        censoring: "last contact and the start of a bone-targeted agent (first SRE); last contact (death)",
        competing: "death (cause-specific model of the first SRE)",
        estimator: "cause-specific Cox hazard ratio NTX >= 100 vs < 100; Kaplan-Meier and Cox for death",
    },
    Analysis {
        id: "A12",
        name: "calcaemia",
        title: "Hypercalcaemia",
        population: "all patients (a crisis at diagnosis: patients with a baseline corrected calcium)",
        exposure: "none; bone-targeted agent for the rates (person-time split at its start)",
        outcome: "laboratory hypercalcaemic crisis (corrected calcium above the threshold)",
        origin: "lung-cancer diagnosis",
        censoring: "last contact",
        competing: "death without a crisis",
        estimator: "proportion at diagnosis; Aalen-Johansen cumulative incidence of a first crisis; crises per person-year",
    },
];

/// The declaration of analysis `id`.
pub fn analysis(id: &str) -> &'static Analysis {
    PLAN.iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| unreachable!("the plan declares {id}"))
}

/// An analysis's population: the patients in it, and those left out with the reason.
#[derive(Debug, Clone, Default)]
pub struct Population {
    /// The patients, in patient order.
    pub rows: Vec<usize>,
    /// Reasons in the order first met, with their counts.
    pub excluded: Vec<(&'static str, u64)>,
}

impl Population {
    /// The candidates that pass `rule`; each one that does not is counted under its reason.
    pub fn select(
        candidates: impl IntoIterator<Item = usize>,
        rule: impl Fn(usize) -> Result<(), &'static str>,
    ) -> Self {
        let mut population = Population::default();
        for i in candidates {
            match rule(i) {
                Ok(()) => population.rows.push(i),
                Err(reason) => population.exclude(reason, 1),
            }
        }
        population
    }

    /// Counts `n` patients left out for `reason`.
    pub fn exclude(&mut self, reason: &'static str, n: u64) {
        match self.excluded.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, k)) => *k += n,
            None => self.excluded.push((reason, n)),
        }
    }

    /// The population's rows that also pass `rule`, the others counted as excluded.
    pub fn refine(&self, rule: impl Fn(usize) -> Result<(), &'static str>) -> Population {
        let mut refined = Population::select(self.rows.iter().copied(), rule);
        let mut excluded = self.excluded.clone();
        for (reason, n) in refined.excluded {
            match excluded.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, k)) => *k += n,
                None => excluded.push((reason, n)),
            }
        }
        refined.excluded = excluded;
        refined
    }

    /// The declaration of `analysis` with this population.
    pub fn declare(&self, analysis: &'static Analysis) -> AnalysisJson {
        AnalysisJson {
            declared: *analysis,
            n: Count::Shown(self.rows.len() as u64),
            excluded: self
                .excluded
                .iter()
                .map(|&(reason, n)| ExclusionJson {
                    reason: reason.into(),
                    n: Count::Shown(n),
                })
                .collect(),
        }
    }

    /// Patients in the population.
    pub fn n(&self) -> u64 {
        self.rows.len() as u64
    }
}

/// A count shown or suppressed, for the declarations' readers.
pub fn shown(c: Count) -> Option<u64> {
    c.shown()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_declares_a1_to_a12_once_each_in_order() {
        let ids: Vec<&str> = PLAN.iter().map(|a| a.id).collect();
        let expected: Vec<String> = (1..=12).map(|k| format!("A{k}")).collect();
        assert_eq!(ids, expected);
        for a in &PLAN {
            for field in [a.population, a.exposure, a.outcome, a.origin, a.estimator] {
                assert!(!field.is_empty(), "{}", a.id);
            }
        }
    }

    #[test]
    fn a_population_counts_each_exclusion_under_its_reason() {
        let p = Population::select(0..6, |i| match i {
            1 | 4 => Err("odd one"),
            5 => Err("last"),
            _ => Ok(()),
        });
        assert_eq!(p.rows, [0, 2, 3]);
        assert_eq!(p.excluded, [("odd one", 2), ("last", 1)]);
        let q = p.refine(|i| if i == 2 { Err("last") } else { Ok(()) });
        assert_eq!(q.rows, [0, 3]);
        assert_eq!(q.excluded, [("odd one", 2), ("last", 2)]);
    }
}
