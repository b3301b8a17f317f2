/* The static HTML report's frame and escaping (see html.h). */
#include "reports/html.h"

void html__text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

void html__begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	html__text(f, title);
	fputs("</title>\n<style>\n"
	      "body { font-family: sans-serif; max-width: 1320px; margin: 1em auto; color: #222; }\n"
	      "table { border-collapse: collapse; margin: 0.5em 0 1em; }\n"
	      "th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }\n"
	      "th { background: #f0f0f0; } td.l, th.l { text-align: left; }\n"
	      "figure { display: inline-block; margin: 0.3em; } figcaption { font-size: 85%; }\n"
	      ".regression { color: #b02020; font-weight: bold; } .na { color: #888; }\n"
	      ".advice { background: #eef4ea; padding: 0.6em 1em; border-left: 4px solid #5a8f3c; }\n"
	      "</style>\n</head>\n<body>\n<h1>", f);
	html__text(f, title);
	fputs("</h1>\n", f);
}

void html__end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

void html__chart(FILE *f, const char *name, const char *caption)
{
	fprintf(f, "<figure><a href=\"%s.png\"><img src=\"%s.svg\" width=\"640\" alt=\"", name, name);
	html__text(f, caption);
	fputs("\"></a><figcaption>", f);
	html__text(f, caption);
	fputs("</figcaption></figure>\n", f);
}
