# Reference values for the Andersen–Gill model of recurrent events with a cluster-robust
# (sandwich) variance, on survival's bladder2 (recurrences of bladder cancer, counting-process
# form) and cgd (infections in chronic granulomatous disease), Efron and Breslow ties.
# Run: Rscript tests/reference/survival_recurrent.R   (Debian: r-base-core r-cran-survival
# r-cran-jsonlite). Writes tests/data/reference/recurrent.json (data and results) and
# tests/data/reference/bladder2.csv (the same rows, for the command-line test).
suppressMessages({ library(survival); library(jsonlite) })
b <- bladder2[, c("id", "start", "stop", "event", "rx", "number", "size")]
g <- cgd[, c("id", "tstart", "tstop", "status", "treat", "sex", "age", "hos.cat")]
g$treat <- as.integer(g$treat == "rIFN-g")
g$sex <- as.integer(g$sex == "female")
g$hos <- as.integer(g$hos.cat)
g$hos.cat <- NULL
fit_one <- function(formula, data, ties) {
  f <- coxph(formula, data = data, ties = ties)
  list(ties = ties, coef = unname(coef(f)), se = unname(sqrt(diag(f$naive.var))),
       robust_se = unname(sqrt(diag(f$var))), loglik = f$loglik,
       robust_wald = unname(f$wald.test))
}
res <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              bladder2 = "coxph(Surv(start, stop, event) ~ rx + number + size + cluster(id), data = bladder2, ties = ...)",
              cgd = "coxph(Surv(tstart, tstop, status) ~ treat + sex + age + cluster(id) + strata(hos), cgd with treat = rIFN-g, sex = female, hos = as.integer(hos.cat)",
              fields = "se: model-based (naive.var); robust_se: sqrt(diag(var)); robust_wald: fit$wald.test (uses the robust variance)"),
  bladder2 = list(data = b,
                  efron = fit_one(Surv(start, stop, event) ~ rx + number + size + cluster(id), b, "efron"),
                  breslow = fit_one(Surv(start, stop, event) ~ rx + number + size + cluster(id), b, "breslow")),
  cgd = list(data = g,
             efron = fit_one(Surv(tstart, tstop, status) ~ treat + sex + age + cluster(id) + strata(hos), g, "efron"),
             breslow = fit_one(Surv(tstart, tstop, status) ~ treat + sex + age + cluster(id) + strata(hos), g, "breslow"))
)
write(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = FALSE, dataframe = "columns"), "tests/data/reference/recurrent.json")
write.csv(b, "tests/data/reference/bladder2.csv", row.names = FALSE)
