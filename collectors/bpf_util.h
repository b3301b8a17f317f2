#ifndef VIOSCOPE__COLLECTORS_BPF_UTIL_H
#define VIOSCOPE__COLLECTORS_BPF_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/*
 * What every BPF collector needs before opening its object: kernel BTF
 * (CO-RE), tracefs (libbpf finds tracepoint ids there; mounted when
 * absent), and libbpf quiet unless VIOSCOPE_BPF_DEBUG is set. 0, or -errno
 * with one line in why.
 */
int bpf_util__prepare(char *why, size_t why_len);
/* The loaded programs' run count and run time so far (kernel BPF stats,
 * which stay on while a bpf_enable_stats() fd is open). */
void bpf_util__cost(struct bpf_object *obj, uint64_t *runs, uint64_t *ns);

#endif /* VIOSCOPE__COLLECTORS_BPF_UTIL_H */
