#ifndef VIOSCOPE__REPORTS_HTML_H
#define VIOSCOPE__REPORTS_HTML_H

#include <stdio.h>

/* Small helpers for the static HTML report: escaped text, the page frame. */
void html__text(FILE *f, const char *s);
void html__begin(FILE *f, const char *title);
void html__end(FILE *f);
/* <figure> with the SVG (and a link to the PNG) of chart name. */
void html__chart(FILE *f, const char *name, const char *caption);

#endif /* VIOSCOPE__REPORTS_HTML_H */
