#ifndef VIOSCOPE__LIB_FILE_H
#define VIOSCOPE__LIB_FILE_H

#include <stddef.h>

/* A whole (text) file, NUL-terminated, in a malloc'd buffer; NULL on error
 * with errno set. For result and report files, not guest images. */
char *file__read_text(const char *path);
/* The same for any file: *size gets its length (the NUL is extra). */
char *file__read(const char *path, size_t *size);

struct cJSON;

/* JSON-lines output (vioscope trace --json): the last line whose "type"
 * is type, parsed; NULL when there is none (or no file). */
struct cJSON *file__json_line(const char *path, const char *type);

#endif /* VIOSCOPE__LIB_FILE_H */
