#ifndef VIOSCOPE__REPORTS_CHARTS_H
#define VIOSCOPE__REPORTS_CHARTS_H

#include <stddef.h>

/*
 * Report charts with gnuplot: each chart is a data file and a gnuplot
 * snippet (DIR/NAME.dat, DIR/NAME.gp) drawn by one gnuplot run into
 * NAME.svg and NAME.png, or all of them as pages of one PDF.
 */
struct charts;

/* A chart set in dir (which must exist); NULL on error. */
struct charts *charts__new(const char *dir);
/* Bars with 95% confidence whiskers: one per label. */
void charts__bars(struct charts *c, const char *name, const char *title, const char *ylabel,
		  const char *const *labels, const double *mean, const double *lo,
		  const double *hi, int n);
/* Empirical CDFs of latency samples (sorted, ns), one line per label. */
void charts__cdf(struct charts *c, const char *name, const char *title,
		 const char *const *labels, const double *const *sorted_ns, const size_t *counts,
		 int n);
/* Stacked bars: rows (e.g. modes) x cols (e.g. stages) of values in ns. */
void charts__stacked(struct charts *c, const char *name, const char *title,
		     const char *const *rows, int nrows, const char *const *cols, int ncols,
		     const double *vals);
/* Lines over runs: for each of n series, points (x = run id, mean, lo,
 * hi); marks: run ids where a regression starts (drawn as red lines). */
void charts__trend(struct charts *c, const char *name, const char *title, const char *ylabel,
		   const char *const *labels, const double *const *pts, const size_t *npts, int n,
		   const double *marks, size_t nmarks);
/* Draws every chart: "svg" (SVG and PNG files) or "pdf" (DIR/report.pdf,
 * a title page with the given lines, then one page per chart). 0, or -1
 * with one line in why (gnuplot missing or failing). */
int charts__render(struct charts *c, const char *format, const char *const *title_lines,
		   size_t ntitle, char *why, size_t why_len);
/* Chart names in the order they were added. */
size_t charts__count(const struct charts *c);
const char *charts__name(const struct charts *c, size_t i);
void charts__free(struct charts *c);

#endif /* VIOSCOPE__REPORTS_CHARTS_H */
