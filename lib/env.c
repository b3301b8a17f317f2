#include "lib/env.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef VIOSCOPE_VERSION
#define VIOSCOPE_VERSION "0.1"
#endif
#ifndef VIOSCOPE_GIT_REV
#define VIOSCOPE_GIT_REV "unknown"
#endif

const char *env__version(void)
{
	return VIOSCOPE_VERSION " (git " VIOSCOPE_GIT_REV ")";
}

const char *env__kvm_kind(void)
{
	/* The loaded KVM vendor module tells the technology. */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "PVM";
	if (access("/sys/module/kvm_intel", F_OK) == 0)
		return "VT-x";
	if (access("/sys/module/kvm_amd", F_OK) == 0)
		return "SVM";
	return "unknown";
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 2;
		colon[strcspn(colon, "\n")] = 0;
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

cJSON *env__to_json(void)
{
	cJSON *o = cJSON_CreateObject();
	struct utsname u;
	char cpu[128];

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	cJSON_AddStringToObject(o, "kernel", u.release);
	cJSON_AddStringToObject(o, "machine", u.machine);
	cJSON_AddStringToObject(o, "cpu", cpu);
	cJSON_AddNumberToObject(o, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddStringToObject(o, "kvm_kind", env__kvm_kind());
	/* Set by the nested test bed: figures from there compare only with
	 * each other (every exit is emulated by QEMU-TCG). */
	if (getenv("VIOSCOPE_ENV_LABEL")) {
		cJSON_AddStringToObject(o, "label", getenv("VIOSCOPE_ENV_LABEL"));
		cJSON_AddBoolToObject(o, "relative_only", true);
	}
	cJSON_AddStringToObject(o, "vioscope_version", VIOSCOPE_VERSION);
	cJSON_AddStringToObject(o, "git_revision", VIOSCOPE_GIT_REV);
	cJSON_AddStringToObject(o, "compiler", __VERSION__);
	return o;
}
