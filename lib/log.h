#ifndef VIOSCOPE__LOG_H
#define VIOSCOPE__LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;
extern const char *log_prog;	/* prefix of every line, e.g. "vioscope-vmm" */

void log__print(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_perror(const char *what);

#define pr_err(...)	log__print(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	log__print(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log__print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log__print(LOG_DEBUG, __VA_ARGS__)

/*
 * For events a guest can trigger at will (unmapped ports, bad descriptors):
 * the first 10 are logged, then one line per 10000 so a hostile guest cannot
 * flood the host's log.
 */
#define pr_warn_ratelimited(fmt, ...) do {					\
	static unsigned long __seen;						\
	unsigned long __n = __atomic_add_fetch(&__seen, 1, __ATOMIC_RELAXED);	\
	if (__n <= 10 || __n % 10000 == 0)					\
		pr_warn(fmt " [seen %lu times]", ##__VA_ARGS__, __n);		\
} while (0)

#endif /* VIOSCOPE__LOG_H */
