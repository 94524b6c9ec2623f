# Reference values for delayed entry (left truncation) and the concordance standard error, on
# survival::lung with an artificial entry time, entry = floor(time / 3) days (every entry before
# its exit), so that risk sets shrink from below as well as from above.
# Run: Rscript tests/reference/survival_lung_entry.R   (Debian: r-base-core r-cran-survival
# r-cran-jsonlite). Writes tests/data/reference/lung_entry.json.
suppressMessages({ library(survival); library(jsonlite) })
d <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])
d$entry <- floor(d$time / 3)
fit <- coxph(Surv(entry, time, status) ~ age + sex + ph.ecog, data = d)
cc <- fit$concordance
plain <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = d)
res <- list(
  meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
              data = "na.omit(lung[, c('time','status','age','sex','ph.ecog')]); entry = floor(time / 3)",
              call = "coxph(Surv(entry, time, status) ~ age + sex + ph.ecog, data = d) (Efron); concordance std = fit$concordance['std']"),
  coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))), loglik = fit$loglik,
  concordance = list(C = unname(cc["concordance"]), se = unname(cc["std"]),
                     concordant = unname(cc["concordant"]), discordant = unname(cc["discordant"]),
                     tied_x = unname(cc["tied.x"]), tied_y = unname(cc["tied.y"])),
  no_entry_concordance = list(C = unname(plain$concordance["concordance"]), se = unname(plain$concordance["std"]))
)
write(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/data/reference/lung_entry.json")
