# Reference values for Cox models on heavily tied exit times: survival's mgus2 (Kyle et al.)
# with follow-up counted in whole years (year of follow-up 1, 2, ...: about 36 distinct times
# for 1,300 patients), so that every time is shared by dozens of rows. Efron and Breslow ties,
# strata, and delayed entry (entry = floor((year - 1) / 2)).
# Run: Rscript tests/reference/survival_tied.R   (Debian: r-base-core r-cran-survival
# r-cran-jsonlite). Writes tests/data/reference/mgus2_tied_cox.json (data and results).
suppressMessages({ library(survival); library(jsonlite) })
d <- na.omit(mgus2[, c("futime", "death", "age", "sex", "hgb", "creat")])
d$year <- d$futime %/% 12 + 1
d$entry <- (d$year - 1) %/% 2
d$male <- as.integer(d$sex == "M")
d <- d[, c("year", "entry", "death", "age", "male", "hgb", "creat")]
fit_one <- function(formula, ties) {
  f <- coxph(formula, data = d, ties = ties, control = coxph.control(eps = 1e-11, iter.max = 50))
  cc <- concordance(f)
  list(ties = ties, coef = unname(coef(f)), se = unname(sqrt(diag(f$var))), loglik = f$loglik,
       score = unname(f$score), wald = unname(f$wald.test),
       concordance = list(C = unname(cc$concordance), se = sqrt(unname(cc$var)),
                          counts = unname(colSums(rbind(cc$count))[1:4])))
}
res <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              data = "na.omit(mgus2[, c(futime, death, age, sex, hgb, creat)]); year = futime %/% 12 + 1; entry = (year - 1) %/% 2; male = sex == M",
              efron = "coxph(Surv(year, death) ~ age + male + hgb + creat, ties = 'efron', eps = 1e-11)",
              strata_efron = "coxph(Surv(year, death) ~ age + hgb + creat + strata(male), ties = 'efron')",
              strata_breslow = "coxph(Surv(year, death) ~ age + hgb + creat + strata(male), ties = 'breslow')",
              entry_efron = "coxph(Surv(entry, year, death) ~ age + male + hgb + creat, ties = 'efron')",
              fields = "concordance: concordance(fit): C, sqrt(var), counts summed over strata (concordant, discordant, tied.x, tied.y)"),
  data = d,
  efron = fit_one(Surv(year, death) ~ age + male + hgb + creat, "efron"),
  strata_efron = fit_one(Surv(year, death) ~ age + hgb + creat + strata(male), "efron"),
  strata_breslow = fit_one(Surv(year, death) ~ age + hgb + creat + strata(male), "breslow"),
  entry_efron = fit_one(Surv(entry, year, death) ~ age + male + hgb + creat, "efron")
)
write(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = FALSE, dataframe = "columns"),
      "tests/data/reference/mgus2_tied_cox.json")
