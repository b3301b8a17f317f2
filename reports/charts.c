/* gnuplot charts for the report (see charts.h). */
#include "reports/charts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MAX_CHARTS 256
#define CDF_POINTS 400	/* per line: enough for a smooth curve, small files */

struct charts {
	char dir[256];
	char *names[MAX_CHARTS];
	size_t n;
};

struct charts *charts__new(const char *dir)
{
	struct charts *c = calloc(1, sizeof(*c));

	if (c)
		snprintf(c->dir, sizeof(c->dir), "%s", dir);
	return c;
}

void charts__free(struct charts *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c);
}

size_t charts__count(const struct charts *c)
{
	return c->n;
}

const char *charts__name(const struct charts *c, size_t i)
{
	return c->names[i];
}

static void close_chart(FILE *dat, FILE *gp)
{
	if (dat)
		fclose(dat);
	if (gp)
		fclose(gp);
}

/* Opens DIR/NAME.EXT for writing and registers NAME once. */
static FILE *open_part(struct charts *c, const char *name, const char *ext)
{
	char path[512];
	size_t i;

	for (i = 0; i < c->n && strcmp(c->names[i], name); i++)
		;
	if (i == c->n) {
		if (c->n == MAX_CHARTS)
			return NULL;
		c->names[c->n++] = strdup(name);
	}
	snprintf(path, sizeof(path), "%s/%s.%s", c->dir, name, ext);
	return fopen(path, "w");
}

/* A chart's data file and snippet, both or neither (then false). */
static bool open_chart(struct charts *c, const char *name, FILE **dat, FILE **gp)
{
	*dat = open_part(c, name, "dat");
	*gp = open_part(c, name, "gp");
	if (*dat && *gp)
		return true;
	close_chart(*dat, *gp);
	return false;
}

/* gnuplot strings are single-quoted: no quotes in labels. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\'' || *s == '"' ? '_' : *s, f);
}

/* Ten distinguishable colours (stacked stages need that many). */
static const char *const palette[] = {
	"#4878a8", "#e08030", "#58a058", "#c04848", "#8868b0", "#906050", "#d078b8", "#808080",
	"#b8b830", "#40b0c0",
};

static void common(FILE *gp, const char *title)
{
	size_t i;

	fputs("reset\nset border 3\nset tics nomirror\nset grid ytics lc rgb '#dddddd'\n"
	      "set key top left noopaque\n", gp);
	for (i = 0; i < sizeof(palette) / sizeof(palette[0]); i++)
		fprintf(gp, "set linetype %zu lc rgb '%s' lw 2 pt %zu\n", i + 1, palette[i], i + 1);
	fputs("set title '", gp);
	label(gp, title);
	fputs("'\n", gp);
}

void charts__bars(struct charts *c, const char *name, const char *title, const char *ylabel,
		  const char *const *labels, const double *mean, const double *lo,
		  const double *hi, int n)
{
	FILE *dat, *gp;
	int i;

	if (!open_chart(c, name, &dat, &gp))
		return;
	for (i = 0; i < n; i++) {
		fputc('"', dat);
		label(dat, labels[i]);
		fprintf(dat, "\" %g %g %g\n", mean[i], lo[i], hi[i]);
	}
	common(gp, title);
	fputs("set style fill solid 0.6 noborder\nset boxwidth 0.6\nset yrange [0:*]\n"
	      "set xrange [-0.6:*]\nset ylabel '", gp);
	label(gp, ylabel);
	fprintf(gp, "'\nplot '%s.dat' using 0:2:xtic(1) with boxes lc rgb '#4878a8' notitle, "
		"'' using 0:2:3:4 with yerrorbars lc rgb '#202020' pt 0 title '95%% CI'\n", name);
	close_chart(dat, gp);
}

void charts__cdf(struct charts *c, const char *name, const char *title,
		 const char *const *labels, const double *const *sorted_ns, const size_t *counts,
		 int n)
{
	FILE *dat, *gp;
	int i, drawn = 0;

	if (!open_chart(c, name, &dat, &gp))
		return;
	/* One gnuplot data block per line drawn (two blank lines apart; an
	 * empty block would not count as one, so lines without data get none). */
	for (i = 0; i < n; i++) {
		size_t k, step = counts[i] > CDF_POINTS ? counts[i] / CDF_POINTS : 1;

		if (!counts[i])
			continue;
		fputs("# ", dat);
		label(dat, labels[i]);
		fputc('\n', dat);
		for (k = 0; k < counts[i]; k += step)
			fprintf(dat, "%g %g\n", sorted_ns[i][k] / 1e3, (double)(k + 1) / (double)counts[i]);
		if (counts[i])
			fprintf(dat, "%g 1\n", sorted_ns[i][counts[i] - 1] / 1e3);
		fputs("\n\n", dat);
	}
	common(gp, title);
	fputs("set logscale x\nset xlabel 'latency (us, log scale)'\nset ylabel 'fraction of I/Os'\n"
	      "set yrange [0:1]\nset key bottom right\nplot ", gp);
	for (i = 0; i < n; i++) {
		if (!counts[i])
			continue;
		fprintf(gp, "%s'%s.dat' index %d using 1:2 with lines lw 2 title '", drawn ? ", " : "",
			name, drawn);
		drawn++;
		label(gp, labels[i]);
		fputc('\'', gp);
	}
	fputs(drawn ? "\n" : "NaN notitle\n", gp);
	close_chart(dat, gp);
}

void charts__stacked(struct charts *c, const char *name, const char *title,
		     const char *const *rows, int nrows, const char *const *cols, int ncols,
		     const double *vals)
{
	FILE *dat, *gp;
	int r, k;

	if (!open_chart(c, name, &dat, &gp))
		return;
	fputs("mode", dat);
	for (k = 0; k < ncols; k++) {
		fputc(' ', dat);
		label(dat, cols[k]);
	}
	fputc('\n', dat);
	for (r = 0; r < nrows; r++) {
		label(dat, rows[r]);
		for (k = 0; k < ncols; k++)
			fprintf(dat, " %g", vals[r * ncols + k] / 1e3);
		fputc('\n', dat);
	}
	common(gp, title);
	fprintf(gp, "set style data histograms\nset style histogram rowstacked\n"
		"set style fill solid 0.8 border -1\nset boxwidth 0.6\nset ylabel 'mean us per request'\n"
		"set key outside right\nset yrange [0:*]\n"
		"plot for [i=2:%d] '%s.dat' using i:xtic(1) title columnheader(i)\n", ncols + 1, name);
	close_chart(dat, gp);
}

void charts__trend(struct charts *c, const char *name, const char *title, const char *ylabel,
		   const char *const *labels, const double *const *pts, const size_t *npts, int n,
		   const double *marks, size_t nmarks)
{
	FILE *dat, *gp;
	size_t k;
	int i, drawn = 0;

	if (!open_chart(c, name, &dat, &gp))
		return;
	for (i = 0; i < n; i++) {
		if (!npts[i])
			continue;	/* no block: see charts__cdf */
		for (k = 0; k < npts[i]; k++)
			fprintf(dat, "%g %g %g %g\n", pts[i][4 * k], pts[i][4 * k + 1], pts[i][4 * k + 2],
				pts[i][4 * k + 3]);
		fputs("\n\n", dat);
	}
	common(gp, title);
	fputs("set xlabel 'run'\nset xtics 1 format '%.0f'\nset offsets 0.3, 0.3, 0, 0\n"
	      "set ylabel '", gp);
	label(gp, ylabel);
	fputs("'\nset yrange [0:*]\nset key outside right\n", gp);
	for (k = 0; k < nmarks; k++)
		fprintf(gp, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb '#c03030' lw 2 dt 2\n",
			marks[k] - 0.5, marks[k] - 0.5);
	fputs("plot ", gp);
	for (i = 0; i < n; i++) {
		if (!npts[i])
			continue;
		fprintf(gp, "%s'%s.dat' index %d using 1:2:3:4 with yerrorlines lw 2 title '",
			drawn ? ", " : "", name, drawn);
		drawn++;
		label(gp, labels[i]);
		fputc('\'', gp);
	}
	fputs(drawn ? "\n" : "NaN notitle\n", gp);
	close_chart(dat, gp);
}

int charts__render(struct charts *c, const char *format, const char *const *title_lines,
		   size_t ntitle, char *why, size_t why_len)
{
	char path[512], cmd[640];
	size_t i;
	FILE *f;
	int rc;

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		snprintf(why, why_len, "gnuplot is not installed (scripts/install-deps)");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/render.gp", c->dir);
	f = fopen(path, "w");
	if (!f) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!strcmp(format, "pdf")) {
		fputs("set terminal pdfcairo size 8in,5in noenhanced font 'sans,10'\n"
		      "set output 'report.pdf'\n"
		      "unset border\nunset tics\nunset key\n", f);
		for (i = 0; i < ntitle; i++) {
			fprintf(f, "set label %zu '", i + 1);
			label(f, title_lines[i]);
			fprintf(f, "' at screen 0.06, screen %g font 'sans,%d'\n", 0.92 - 0.045 * (double)i,
				i ? 9 : 16);
		}
		fputs("plot [0:1][0:1] NaN notitle\nunset label\n", f);
		for (i = 0; i < c->n; i++)
			fprintf(f, "load '%s.gp'\n", c->names[i]);
	} else {
		for (i = 0; i < c->n; i++)
			fprintf(f, "set terminal svg size 640,380 dynamic noenhanced font 'sans,11'\n"
				"set output '%s.svg'\nload '%s.gp'\n"
				"set terminal pngcairo size 640,380 noenhanced font 'sans,10'\n"
				"set output '%s.png'\nload '%s.gp'\n", c->names[i], c->names[i],
				c->names[i], c->names[i]);
	}
	fputs("set output\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot render.gp > render.log 2>&1", c->dir);
	rc = system(cmd);
	if (rc) {
		snprintf(why, why_len, "gnuplot failed (exit %d): see %s/render.log", WEXITSTATUS(rc),
			 c->dir);
		return -1;
	}
	return 0;
}
