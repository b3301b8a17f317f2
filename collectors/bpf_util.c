/* Shared by the BPF collectors (kvm_exits_bpf.c, reqs.c). */
#include "collectors/bpf_util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "collectors/kvm_exits_backend.h"

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int bpf_util__prepare(char *why, size_t why_len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, why_len, "no kernel BTF (/sys/kernel/btf/vmlinux): CO-RE cannot relocate");
		return -ENOENT;
	}
	libbpf_set_print(getenv("VIOSCOPE_BPF_DEBUG") ? NULL : silent);
	return kx__need_tracefs(why, why_len);
}

void bpf_util__cost(struct bpf_object *obj, uint64_t *runs, uint64_t *ns)
{
	struct bpf_program *prog;

	*runs = *ns = 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
			*runs += info.run_cnt;
			*ns += info.run_time_ns;
		}
	}
}
