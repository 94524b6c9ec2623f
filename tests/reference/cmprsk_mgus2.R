# Reference values for the competing-risks estimators, on survival::mgus2 (Kyle et al.):
# time to progression to a plasma-cell malignancy (event 1) with death as a competing
# event (2), 0 = censored, as in the survival package's competing-risks vignette.
# Run: Rscript tests/reference/cmprsk_mgus2.R   (Debian: r-base-core r-cran-survival
# r-cran-cmprsk r-cran-jsonlite). Writes tests/data/reference/mgus2.csv and mgus2_cuminc.json.
suppressMessages({ library(survival); library(cmprsk); library(jsonlite) })
d <- mgus2
d$etime <- with(d, ifelse(pstat == 0, futime, ptime))
d$event <- with(d, ifelse(pstat == 0, 2 * death, 1))
out <- d[, c("id", "etime", "event", "sex", "age")]
write.csv(out, "tests/data/reference/mgus2.csv", row.names = FALSE)
fit <- cuminc(d$etime, d$event, group = d$sex, cencode = 0)
times <- c(60, 120, 240, 360)
tp <- timepoints(fit, times)
res <- list(
  meta = list(R = R.version.string, cmprsk = as.character(packageVersion("cmprsk")),
              call = "cuminc(etime, event, group = sex, cencode = 0) on survival::mgus2; timepoints(fit, c(60, 120, 240, 360))"),
  times = times,
  groups = rownames(tp$est),
  est = unname(split(tp$est, row(tp$est))),
  var = unname(split(tp$var, row(tp$var))),
  tests = list(stat = unname(fit$Tests[, "stat"]), pv = unname(fit$Tests[, "pv"]), df = unname(fit$Tests[, "df"]), cause = rownames(fit$Tests))
)
write(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/data/reference/mgus2_cuminc.json")

# Fine–Gray regression, crr(etime, event, cbind(age, male), failcode = 1 and 2), R's defaults
# (gtol 1e-6, maxiter 10) and fully converged (gtol 1e-14): the two agree to ~1e-8 relative.
# p-values as 2 * pnorm(-|z|) (summary.crr rounds them with signif).
# Writes tests/data/reference/mgus2_crr.json.
X <- cbind(age = d$age, male = as.numeric(d$sex == "M"))
crr_fit <- function(failcode, gtol = 1e-6, maxiter = 10) {
  f <- crr(d$etime, d$event, X, failcode = failcode, cencode = 0, gtol = gtol, maxiter = maxiter)
  se <- sqrt(diag(f$var))
  z <- f$coef / se
  list(call = sprintf("crr(etime, event, cbind(age, male = sex == 'M'), failcode = %d, gtol = %g, maxiter = %d)", failcode, gtol, maxiter),
       terms = names(f$coef), coef = unname(f$coef), se = unname(se), z = unname(z),
       p = unname(2 * pnorm(-abs(z))), shr = unname(exp(f$coef)),
       shr_lower = unname(exp(f$coef - qnorm(0.975) * se)), shr_upper = unname(exp(f$coef + qnorm(0.975) * se)),
       var = unname(split(f$var, row(f$var))), loglik = f$loglik, loglik_null = f$loglik.null,
       converged = f$converged, n = f$n)
}
crr_res <- list(
  meta = list(R = R.version.string, cmprsk = as.character(packageVersion("cmprsk"))),
  progression = crr_fit(1), death = crr_fit(2),
  progression_tight = crr_fit(1, 1e-14, 100), death_tight = crr_fit(2, 1e-14, 100))
write(toJSON(crr_res, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/data/reference/mgus2_crr.json")
