# Writes the regression fixture of tests/unit/tags_stats_ols.cpp: a seeded synthetic data set
# (tests/fixtures/stats/ols_data.csv: doc, y, x1..x6) and R's fit of it
# (tests/fixtures/stats/ols_expected.json: lm() coefficients and CR1 cluster-robust standard
# errors from sandwich::vcovCL(type = "HC1", cadjust = TRUE, cluster = ~doc)).
# Run from the repository root:  Rscript tools/make_stats_fixture.R
# Needs Debian's r-base-core and r-cran-sandwich (for this fixture only; CI does not run R).
suppressPackageStartupMessages(library(sandwich))
set.seed(20260611)
out_dir <- file.path("tests", "fixtures", "stats")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

n_docs <- 60
sizes <- sample(3:90, n_docs, replace = TRUE)
doc <- rep(seq_len(n_docs), sizes)
n <- length(doc)
doc_effect <- rnorm(n_docs, sd = 0.4)[doc]
doc_shift <- rnorm(n_docs)[doc]
x1 <- rbinom(n, 1, 0.3)                          # a category indicator
x2 <- rbinom(n, 1, 0.15) * (1 - x1)              # a second, disjoint one
x3 <- rgamma(n, shape = 2, rate = 0.7)           # "difficulty"-like, positive
x4 <- log(sample(1:5000, n, replace = TRUE))     # "log frequency"-like
x5 <- log1p(unlist(lapply(sizes, function(s) seq_len(s) - 1)))  # log position in the document
x6 <- 0.5 * doc_shift + rnorm(n)                 # correlated within documents
y <- 0.05 + 0.04 * x1 - 0.02 * x2 + 0.03 * x3 - 0.01 * x4 + 0.02 * x5 + 0.01 * x6 +
  doc_effect + rnorm(n, sd = 0.5) * (1 + 0.3 * x1)
d <- data.frame(doc = doc, y = y, x1 = x1, x2 = x2, x3 = x3, x4 = x4, x5 = x5, x6 = x6)

fmt <- function(v) sprintf("%.17g", v)
csv <- file.path(out_dir, "ols_data.csv")
lines <- c(paste(names(d), collapse = ","),
           do.call(paste, c(lapply(d, function(col) if (all(col == round(col))) sprintf("%d", as.integer(col)) else fmt(col)), sep = ",")))
writeLines(lines, csv)
# Fit what was written (the CSV round-trips doubles exactly with 17 significant digits).
d <- read.csv(csv)
fit <- lm(y ~ x1 + x2 + x3 + x4 + x5 + x6, data = d)
V <- vcovCL(fit, cluster = ~doc, type = "HC1", cadjust = TRUE)
coefs <- coef(fit)
ses <- sqrt(diag(V))

json <- c(
  "{",
  sprintf("  \"generator\": \"tools/make_stats_fixture.R\","),
  sprintf("  \"r_version\": \"%s\",", R.version.string),
  sprintf("  \"sandwich_version\": \"%s\",", as.character(packageVersion("sandwich"))),
  sprintf("  \"n_obs\": %d,", nrow(d)),
  sprintf("  \"n_clusters\": %d,", length(unique(d$doc))),
  sprintf("  \"names\": [%s],", paste(sprintf("\"%s\"", names(coefs)), collapse = ", ")),
  sprintf("  \"coef\": [%s],", paste(fmt(coefs), collapse = ", ")),
  sprintf("  \"se\": [%s],", paste(fmt(ses), collapse = ", ")),
  sprintf("  \"r_squared\": %s", fmt(summary(fit)$r.squared)),
  "}")
writeLines(json, file.path(out_dir, "ols_expected.json"))
cat("wrote", csv, "and", file.path(out_dir, "ols_expected.json"), "\n")
