# Table 1 (A1) on the plan fixture, as tableone prints it: median (IQR) with R's default
# (type 7) quantiles, n (%) of the patients with a value, and standardised mean differences
# (tableone's: |mean difference| / sqrt((var1 + var2) / 2) for a number; Yang and Dalton's
# multinomial form for a factor, written out here with MASS-free algebra).
#
# Run from the repository root:  Rscript tests/reference/table_one.R
# Writes tests/data/reference/table_one.json.
library(jsonlite)

p <- read.csv("tests/data/plan_cohort/patients.csv", stringsAsFactors = FALSE,
              na.strings = "")
dx <- as.Date(p$diagnosis_date)
bone <- as.Date(p$bone_mets_date)
at_dx <- !is.na(bone) & as.numeric(bone - dx) <= 30
groups <- list(overall = rep(TRUE, nrow(p)), bone = at_dx, no_bone = !at_dx)

median_iqr <- function(x) {
  x <- x[!is.na(x)]
  q <- quantile(x, c(0.5, 0.25, 0.75), type = 7)
  sprintf("%.1f (%.1f\u2013%.1f)", q[1], q[2], q[3])
}
smd_number <- function(a, b) {
  a <- a[!is.na(a)]; b <- b[!is.na(b)]
  abs(mean(a) - mean(b)) / sqrt((var(a) + var(b)) / 2)
}
smd_factor <- function(a, b, levels) {
  a <- a[!is.na(a)]; b <- b[!is.na(b)]
  pa <- as.numeric(table(factor(a, levels)) / length(a))
  pb <- as.numeric(table(factor(b, levels)) / length(b))
  keep <- (pa + pb) > 0
  pa <- pa[keep][-1]; pb <- pb[keep][-1]
  s <- (diag(pa * (1 - pa) + pb * (1 - pb), length(pa)) - outer(pa, pa) - outer(pb, pb) +
        diag(pa * pa + pb * pb, length(pa))) / 2
  d <- pa - pb
  sqrt(as.numeric(t(d) %*% solve(s) %*% d))
}
count_cells <- function(x, level) {
  sapply(groups, function(g) {
    v <- x[g]; known <- sum(!is.na(v)); k <- sum(v == level, na.rm = TRUE)
    sprintf("%d (%.1f%%)", k, 100 * k / known)
  })
}

out <- list(
  meta = list(R = R.version.string, data = "tests/data/plan_cohort/patients.csv",
              notes = "bone metastases at diagnosis: bone_mets_date - diagnosis_date <= 30 days (also when negative); percentages of the patients with a value"),
  n = sapply(groups, sum),
  age = list(cells = sapply(groups, function(g) median_iqr(p$age_at_diagnosis[g])),
             smd = smd_number(p$age_at_diagnosis[at_dx], p$age_at_diagnosis[!at_dx])),
  tumour_size = list(cells = sapply(groups, function(g) median_iqr(p$tumor_size_mm[g])),
                     smd = smd_number(p$tumor_size_mm[at_dx], p$tumor_size_mm[!at_dx])),
  sex_m = list(cells = count_cells(p$sex, "m"),
               smd = smd_factor(p$sex[at_dx], p$sex[!at_dx], c("m", "f"))),
  ecog = list(cells = lapply(0:4, function(k) count_cells(p$ecog, k)),
              smd = smd_factor(p$ecog[at_dx], p$ecog[!at_dx], 0:4)),
  stage = list(levels = c("i", "ii", "iii", "iva", "ivb", "iv"),
               smd = smd_factor(p$stage[at_dx], p$stage[!at_dx],
                                c("i", "ii", "iii", "iva", "ivb", "iv")))
)
write_json(out, "tests/data/reference/table_one.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
