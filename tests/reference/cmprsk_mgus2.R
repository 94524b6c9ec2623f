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
