# Reference values for the analysis plan (docs/analysis-plan.md) on the fixture cohort
# tests/data/plan_cohort/ (made by tests/reference/make_plan_cohort.py): A7 (cause-specific
# Cox of the first SRE with the bone agent time-varying; the 3-month landmark), A8 (first SRE
# and each SRE type censored at the agent start), A3 (cumulative incidence of bone metastases
# in advanced disease) and A9 (SRE rates, person-time split at the agent start).
# Computed from the plan's words, independently of bonemet's code.
# Run: Rscript tests/reference/plan_cohort.R   (from the repository root; Debian: r-base-core
# r-cran-survival r-cran-cmprsk r-cran-jsonlite). Writes tests/data/reference/plan_cohort.json.
suppressMessages({ library(survival); library(cmprsk); library(jsonlite) })

dir <- "tests/data/plan_cohort"
pat <- read.csv(file.path(dir, "patients.csv"), colClasses = "character", na.strings = character(0))
ev <- read.csv(file.path(dir, "events.csv"), colClasses = "character", na.strings = character(0))

MONTH <- 30.4375
L <- 3 * MONTH                        # landmark, days after bone_mets_date (91.3125)
SRE_TYPES <- c("radiotherapy_bone", "pathologic_fracture", "bone_surgery", "spinal_cord_compression")
SPINAL <- c("spine_cervical", "spine_thoracic", "spine_lumbar", "sacrum")
WEIGHT_BEARING <- c("femur", "tibia", "spine_cervical", "spine_thoracic", "spine_lumbar", "sacrum", "pelvis")
NSCLC <- c("adenocarcinoma", "squamous", "large_cell", "nsclc_nos")
ADVANCED <- c("iii", "iv", "iva", "ivb")
AGENTS <- c("zoledronic_acid", "denosumab", "other_bisphosphonate")

dt <- function(x) as.Date(ifelse(x == "", NA, x))
P <- data.frame(id = pat$patient_id, histology = pat$histology, stage = pat$stage,
                agent = pat$bone_agent, bone_sites = pat$bone_sites, stringsAsFactors = FALSE)
diag <- dt(pat$diagnosis_date); bone <- dt(pat$bone_mets_date); start <- dt(pat$bone_agent_start)
P$dead <- pat$vital_status == "dead"
end <- as.Date(ifelse(P$dead, pat$death_date, pat$last_contact_date))
P$has_bone <- !is.na(bone)
P$e <- as.numeric(end - bone)                   # follow-up end, days after bone_mets_date
P$a <- as.numeric(start - bone)                 # agent start, days after bone_mets_date
P$bday <- as.numeric(bone - diag)               # bone_mets_date, days after diagnosis
P$end_from_diag <- as.numeric(end - diag)
P$agent_known <- P$agent == "none" | (P$agent %in% AGENTS & !is.na(start))
P$weight_bearing <- sapply(strsplit(P$bone_sites, ";", fixed = TRUE), function(s) any(s %in% WEIGHT_BEARING))

ev$date <- as.Date(ev$event_date)
ev$k <- as.numeric(ev$date - bone[match(ev$patient_id, P$id)])  # day after bone_mets_date
sre <- ev[ev$event_type %in% SRE_TYPES, ]
sre$vertebral <- sre$event_type == "pathologic_fracture" & sre$site %in% SPINAL
first_day <- function(rows) {
  m <- tapply(rows$k, rows$patient_id, min)
  out <- rep(NA_real_, nrow(P)); i <- match(names(m), P$id); out[i] <- m; out
}
P$k_sre <- first_day(sre)                       # first SRE of any type (several on a day: once)
type_sets <- list(
  radiotherapy_bone = sre[sre$event_type == "radiotherapy_bone", ],
  pathologic_fracture = sre[sre$event_type == "pathologic_fracture", ],
  bone_surgery = sre[sre$event_type == "bone_surgery", ],
  spinal_cord_compression = sre[sre$event_type == "spinal_cord_compression", ],
  pathologic_fracture_vertebral = sre[sre$vertebral, ],
  pathologic_fracture_non_vertebral = sre[sre$event_type == "pathologic_fracture" & !sre$vertebral, ])
K_type <- lapply(type_sets, first_day)

B <- P[P$has_bone, ]
Kb_type <- lapply(K_type, function(k) k[P$has_bone])

ci_block <- function(ftime, fstatus, times, causes = c(sre = 1, death = 2)) {
  fit <- cuminc(ftime, fstatus, cencode = 0)
  tp <- timepoints(fit, times)
  # Cross-check the estimates with survival's Aalen-Johansen (survfit, multi-state).
  aj <- summary(survfit(Surv(ftime, factor(fstatus, 0:2)) ~ 1), times = times, extend = TRUE)
  for (j in 1:2) {
    ok <- !is.na(tp$est[j, ])
    stopifnot(max(abs(tp$est[j, ok] - aj$pstate[ok, j + 1])) < 1e-12)
  }
  out <- list(times = times)
  for (nm in names(causes)) {
    row <- paste("1", causes[[nm]])
    out[[nm]] <- list(est = unname(tp$est[row, ]), var = unname(tp$var[row, ]))
  }
  out
}
count <- function(x) sum(x)

# ---------------------------------------------------------------------------------------
# (a) A7: cause-specific Cox of the first SRE, bone agent time-varying (tmerge), Efron ties.
ex_nr <- B$agent == ""
ex_ns <- B$agent %in% AGENTS & is.na(B$a)
ex_wb <- !ex_nr & !ex_ns & B$bone_sites == ""
A <- B[!ex_nr & !ex_ns & !ex_wb, ]
A$event <- as.integer(!is.na(A$k_sre))
A$stop <- ifelse(A$event == 1, pmax(A$k_sre, 0) + 1, A$e + 1)
A$wb <- as.integer(A$weight_bearing)
A$tdc_time <- ifelse(A$agent == "none", NA, ifelse(A$a < 0, 0, A$a + 1))
base <- data.frame(id = A$id, wb = A$wb, stop = A$stop, event = A$event)
tv <- tmerge(base[, c("id", "wb")], base, id = id, tstop = stop)
tv <- tmerge(tv, base, id = id, sre = event(stop, event))
tr <- A[!is.na(A$tdc_time), ]
tv <- tmerge(tv, data.frame(id = tr$id, t = tr$tdc_time), id = id, treated = tdc(t))
# Cross-check the rows against a direct construction of (0, a+1] untreated, (a+1, stop] treated.
hand <- do.call(rbind, lapply(seq_len(nrow(A)), function(i) {
  r <- A[i, ]; t0 <- r$tdc_time
  if (is.na(t0) || t0 >= r$stop) return(data.frame(id = r$id, tstart = 0, tstop = r$stop, sre = r$event, treated = 0))
  if (t0 <= 0) return(data.frame(id = r$id, tstart = 0, tstop = r$stop, sre = r$event, treated = 1))
  data.frame(id = r$id, tstart = c(0, t0), tstop = c(t0, r$stop), sre = c(0, r$event), treated = c(0, 1))
}))
o1 <- order(tv$id, tv$tstart); o2 <- order(hand$id, hand$tstart)
stopifnot(nrow(tv) == nrow(hand), all(tv$tstop[o1] == hand$tstop[o2]), all(tv$sre[o1] == hand$sre[o2]),
          all(tv$treated[o1] == hand$treated[o2]))
cox_tv <- coxph(Surv(tstart, tstop, sre) ~ treated + wb, data = tv, ties = "efron")
cox_out <- function(fit, terms) {
  b <- unname(coef(fit)); se <- unname(sqrt(diag(vcov(fit)))); z <- qnorm(0.975)
  list(terms = terms, coef = b, se = se, hr = exp(b), hr_lower = exp(b - z * se), hr_upper = exp(b + z * se),
       loglik = unname(fit$loglik), n = fit$n, events = fit$nevent)
}
a7_tv <- list(
  population = list(bone_mets = nrow(B), excluded_agent_not_recorded = count(ex_nr),
                    excluded_agent_without_start = count(ex_ns), excluded_weight_bearing_not_assessable = count(ex_wb),
                    patients = nrow(A), rows = nrow(tv), treated_rows = count(tv$treated == 1),
                    events = count(A$event), revealing_sres = count(A$event == 1 & A$k_sre < 0),
                    treated_from_0 = count(!is.na(A$tdc_time) & A$tdc_time == 0),
                    agent_start_at_or_after_stop = count(!is.na(A$tdc_time) & A$tdc_time >= A$stop)),
  events_treated = count(tv$sre == 1 & tv$treated == 1), events_untreated = count(tv$sre == 1 & tv$treated == 0),
  cox = cox_out(cox_tv, c("treated", "weight_bearing")))

# ---------------------------------------------------------------------------------------
# (b) A8: first SRE (and each type) censored at the agent start; death competes; months.
a8_times <- c(6, 12, 21, 24)
a8_population <- function(S) {
  ex_nr <- S$agent == ""
  ex_ns <- S$agent %in% AGENTS & is.na(S$a)
  ex_on <- S$agent %in% AGENTS & !is.na(S$a) & S$a <= 0
  list(keep = !(ex_nr | ex_ns | ex_on),
       counts = list(bone_mets = nrow(S), excluded_agent_not_recorded = count(ex_nr),
                     excluded_agent_without_start = count(ex_ns),
                     excluded_agent_on_or_before_bone_mets = count(ex_on)))
}
a8_outcome <- function(S, k) {           # k: day of the event's first occurrence (NA: none)
  cens <- ifelse(S$agent == "none", S$e, pmin(S$a, S$e))   # last day at risk untreated
  is_event <- !is.na(k) & k <= cens                        # a tie with the agent start: event
  is_death <- !is_event & S$dead & S$e <= cens             # death on the agent start day: death
  status <- ifelse(is_event, 1, ifelse(is_death, 2, 0))
  day <- ifelse(is_event, pmax(k, 0), ifelse(is_death, S$e, cens))
  list(time = day / MONTH, status = status, revealing = count(is_event & k < 0))
}
a8_run <- function(sel) {
  S <- B[sel, ]; pop <- a8_population(S); S <- S[pop$keep, ]
  kt <- lapply(Kb_type, function(k) k[sel][pop$keep])
  one <- function(k) {
    o <- a8_outcome(S, k)
    c(list(n = nrow(S), events = count(o$status == 1), deaths = count(o$status == 2),
           censored = count(o$status == 0), revealing = o$revealing),
      ci_block(o$time, o$status, a8_times, c(event = 1, death = 2)))
  }
  list(population = pop$counts, n = nrow(S), first_sre = one(S$k_sre), types = lapply(kt, one))
}
a8 <- list(all = a8_run(rep(TRUE, nrow(B))), nsclc = a8_run(B$histology %in% NSCLC))
a8$all$types <- NULL                     # each type is asked for in NSCLC (F9)

# ---------------------------------------------------------------------------------------
# (c) A7 landmark at L = 91.3125 days: alive, under follow-up and SRE-free at L.
S <- B
lm_nr <- S$agent == ""
lm_ns <- !lm_nr & S$agent %in% AGENTS & is.na(S$a)
lm_sre <- !lm_nr & !lm_ns & !is.na(S$k_sre) & S$k_sre <= L
lm_end <- !lm_nr & !lm_ns & !lm_sre & S$e <= L
M <- S[!(lm_nr | lm_ns | lm_sre | lm_end), ]
M$treated <- as.integer(M$agent != "none" & M$a <= L)
M$status <- ifelse(!is.na(M$k_sre), 1, ifelse(M$dead, 2, 0))
M$time <- (ifelse(M$status == 1, M$k_sre, M$e) - L) / MONTH
M$group <- ifelse(M$treated == 1, "treated", "untreated")
lm_fit <- cuminc(M$time, M$status, group = M$group, cencode = 0)
lm_times <- c(6, 12, 24)
lm_tp <- timepoints(lm_fit, lm_times)
lm_group <- function(g) {
  sel <- M$group == g
  list(n = count(sel), sre = count(sel & M$status == 1), deaths = count(sel & M$status == 2),
       censored = count(sel & M$status == 0),
       sre_est = unname(lm_tp$est[paste(g, 1), ]), sre_var = unname(lm_tp$var[paste(g, 1), ]),
       death_est = unname(lm_tp$est[paste(g, 2), ]), death_var = unname(lm_tp$var[paste(g, 2), ]))
}
lm_cox <- coxph(Surv(time, status == 1) ~ treated, data = M, ties = "efron")
a7_landmark <- list(
  landmark_days = L, times = lm_times,
  population = list(bone_mets = nrow(S), excluded_agent_not_recorded = count(lm_nr),
                    excluded_agent_without_start = count(lm_ns), excluded_sre_by_landmark = count(lm_sre),
                    excluded_follow_up_ended_by_landmark = count(lm_end), patients = nrow(M)),
  treated = lm_group("treated"), untreated = lm_group("untreated"),
  gray = list(sre = list(stat = unname(lm_fit$Tests["1", "stat"]), pv = unname(lm_fit$Tests["1", "pv"]),
                         df = unname(lm_fit$Tests["1", "df"])),
              death = list(stat = unname(lm_fit$Tests["2", "stat"]), pv = unname(lm_fit$Tests["2", "pv"]),
                           df = unname(lm_fit$Tests["2", "df"]))),
  cox = cox_out(lm_cox, "treated_by_landmark"))

# ---------------------------------------------------------------------------------------
# (d) A3: bone metastases from diagnosis in advanced disease; death competes.
V <- P[P$stage %in% ADVANCED, ]
V$sync <- V$has_bone & V$bday <= 30
V$meta <- V$has_bone & V$bday > 30
a3_times <- c(6, 12, 24)
a3_block <- function(S, sync_at_zero) {
  status <- ifelse(S$meta | (sync_at_zero & S$sync), 1, ifelse(S$dead, 2, 0))
  day <- ifelse(S$sync & sync_at_zero, 0, ifelse(S$meta, S$bday, S$end_from_diag))
  c(list(n = nrow(S), bone_events = count(status == 1), synchronous_at_0 = count(sync_at_zero & S$sync),
         deaths = count(status == 2), censored = count(status == 0)),
    ci_block(day / MONTH, status, a3_times, c(bone = 1, death = 2)))
}
a3 <- list(advanced = nrow(V), synchronous = count(V$sync),
           synchronous_before_diagnosis = count(V$sync & V$bday < 0),
           metachronous_risk = a3_block(V[!V$sync, ], FALSE),
           all_advanced = a3_block(V, TRUE))

# ---------------------------------------------------------------------------------------
# (e) A9: SREs on or after bone_mets_date per person-year, split at the agent start.
R <- B[B$agent_known, ]
ex9_nr <- count(B$agent == ""); ex9_ns <- count(B$agent %in% AGENTS & is.na(B$a))
untreated_days <- ifelse(R$agent == "none", R$e + 1, ifelse(R$a < 0, 0, pmin(R$a + 1, R$e + 1)))
total_days <- R$e + 1
rs <- sre[sre$patient_id %in% R$id & sre$k >= 0, ]
ra <- R$a[match(rs$patient_id, R$id)]; rn <- R$agent[match(rs$patient_id, R$id)]
rs_untreated <- rn == "none" | (!is.na(ra) & ra >= 0 & rs$k <= ra)
ue <- count(rs_untreated); te <- count(!rs_untreated)
ud <- sum(untreated_days); td <- sum(total_days) - ud
upy <- ud / 365.25; tpy <- td / 365.25
pt <- poisson.test(c(te, ue), c(tpy, upy))
rate <- function(x, t) { p <- poisson.test(x, t); list(events = x, person_years = t, rate = x / t,
                                                       lower = p$conf.int[1], upper = p$conf.int[2]) }
a9 <- list(
  population = list(bone_mets = nrow(B), excluded_agent_not_recorded = ex9_nr,
                    excluded_agent_without_start = ex9_ns, patients = nrow(R)),
  sres_before_bone_mets_not_counted = count(sre$patient_id %in% R$id & sre$k < 0),
  untreated = c(rate(ue, upy), list(days = ud)), treated = c(rate(te, tpy), list(days = td)),
  all = c(rate(ue + te, upy + tpy), list(days = ud + td)),
  rate_ratio = list(estimate = unname(pt$estimate), lower = pt$conf.int[1], upper = pt$conf.int[2],
                    p_value = pt$p.value, call = "poisson.test(c(treated_events, untreated_events), c(treated_py, untreated_py))"))

# ---------------------------------------------------------------------------------------
res <- list(
  meta = list(
    R = R.version.string, survival = as.character(packageVersion("survival")),
    cmprsk = as.character(packageVersion("cmprsk")), jsonlite = as.character(packageVersion("jsonlite")),
    data = "tests/data/plan_cohort/ (patients.csv, events.csv; tests/reference/make_plan_cohort.py on bonemet synth --patients 1500 --seed 4242)",
    conventions = c(
      "Follow-up ends at death_date for the dead, last_contact_date for the alive; day k = days after the origin.",
      "SREs: event types other than hypercalcemia; merge window 0 (every event row counts in A9); several SREs on one date are one first SRE.",
      "Cox (A7 time-varying): day k is (k, k+1]; first SRE at max(k, 0) + 1 (revealing SRE -> 1), else censored at e + 1; death censors; an SRE and death on one day is the SRE.",
      "Agent start day a: a < 0 treated from 0; a >= 0 untreated on (0, a+1], treated after a+1 when a+1 < stop (an SRE on day a is untreated). Rows from survival::tmerge (tdc), checked against a direct construction. coxph(Surv(tstart, tstop, sre) ~ treated + weight_bearing, ties = 'efron'); se model-based; CI exp(coef +- qnorm(0.975) se).",
      "Weight-bearing: any bone_sites of femur, tibia, spine_cervical, spine_thoracic, spine_lumbar, sacrum, pelvis; bone_sites empty = not assessable.",
      "Cumulative incidence: cmprsk::cuminc(ftime, fstatus, cencode = 0), ftime in months = days / 30.4375; timepoints() (NA, written null, past the last follow-up time of the curve).",
      "A8: excluded in order agent not recorded (bone_agent empty), agent recorded without start, agent start day <= 0. Last untreated day c = e for agent none, min(a, e) otherwise; event if its first day k <= c (at max(k, 0)); else death if dead and e <= c; else censored at c.",
      "A8 types: radiotherapy_bone, pathologic_fracture, bone_surgery, spinal_cord_compression, and pathologic fractures split vertebral (site spine_cervical/thoracic/lumbar, sacrum) and non-vertebral (any other site or none); each type's first occurrence is the event, other types do not end follow-up.",
      "A7 landmark: L = 91.3125 days; kept when agent known, first SRE day > L (none counts), follow-up end day > L; treated_by_landmark = agent != none and a <= L; time (k - L) / 30.4375 or (e - L) / 30.4375; cuminc by group (Gray's test), coxph(Surv(time, sre) ~ treated_by_landmark, ties = 'efron').",
      "A3: advanced = stage iii, iv, iva, ivb; synchronous = bone_mets_date - diagnosis_date <= 30 days (negative included); metachronous bone metastases are the event at bone day / 30.4375 months, death competes, else censored at end.",
      "A9: bone patients with agent known; person-days e + 1, untreated min(a + 1, e + 1) for a >= 0, 0 for a < 0, all for agent none; an SRE on day k >= 0 is untreated iff agent none or k <= a; person-years = days / 365.25; poisson.test exact CIs."),
    notes = c(
      "Exclusions are counted sequentially in the order listed for each analysis (a patient is counted under the first reason that applies); in this fixture the reasons do not overlap.",
      "other_bisphosphonate is a recorded bone agent like zoledronic_acid and denosumab (excluded when without a start date).",
      "An agent start dated after the end of follow-up (valid under the input contract) leaves all follow-up untreated in A7, A8 and A9.",
      "A8 death on the agent start day counts as death (an event on the day of a censoring counts as the event).",
      "A7 landmark: a patient with an SRE on day <= L is counted as excluded for the SRE even when follow-up also ended by L; a revealing SRE (day < 0) excludes from the landmark. The landmark has no weight-bearing exclusion.",
      "A3: bone metastases dated on the death day are the event (death does not compete on that day), as for an SRE and death on one day.",
      "A3: synchronous disease in the 'all advanced' estimate is an event at time 0 whatever its day within the window (0-30, or before diagnosis).",
      "A9: two SRE rows on one date are two SREs (merge window 0 counts every event); hypercalcemia is never counted.")),
  a7_time_varying = a7_tv,
  a7_landmark = a7_landmark,
  a8 = a8,
  a3 = a3,
  a9 = a9)
write(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), "tests/data/reference/plan_cohort.json")
