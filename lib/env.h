#ifndef VIOSCOPE__ENV_H
#define VIOSCOPE__ENV_H

struct cJSON;

/* Which hypervisor technology /dev/kvm is: "PVM", "VT-x", "SVM" or "unknown". */
const char *env__kvm_kind(void);
/* "0.1 (git 1234abcd)": the version and revision this build came from. */
const char *env__version(void);
/* The environment every measurement is stored with: kernel, CPU, KVM kind,
 * versions and the vioscope git revision. */
struct cJSON *env__to_json(void);

#endif /* VIOSCOPE__ENV_H */
