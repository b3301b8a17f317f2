#ifndef VIOSCOPE__LIB_FILE_H
#define VIOSCOPE__LIB_FILE_H

/* A whole (text) file, NUL-terminated, in a malloc'd buffer; NULL on error
 * with errno set. For result and report files, not guest images. */
char *file__read_text(const char *path);

#endif /* VIOSCOPE__LIB_FILE_H */
