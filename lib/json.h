#ifndef VIOSCOPE__LIB_JSON_H
#define VIOSCOPE__LIB_JSON_H

struct cJSON;

/* The number at o.k1[.k2[.k3]] (NULL keys end the path), or absent. */
double json__num(const struct cJSON *o, double absent, const char *k1, const char *k2,
		 const char *k3);

#endif /* VIOSCOPE__LIB_JSON_H */
