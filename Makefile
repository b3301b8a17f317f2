# vioscope build. Quiet by default: `make V=1` prints full commands;
# `make WERROR=0` keeps warnings from failing the build.

V ?= 0
WERROR ?= 1
CC ?= gcc
# The probe guest needs gcc's -fno-tree-loop-distribute-patterns, whatever CC is.
GUEST_CC ?= gcc
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

OUT := build
BIN := bin

GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wundef -Wno-unused-parameter \
	    -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

PKGS := libcjson gsl liburing libbpf libtracefs libtraceevent sqlite3 libusb-1.0 libpng virglrenderer egl
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) -std=gnu11 $(WARNINGS) -I. -D_GNU_SOURCE -MD -MP \
	      $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lcjson -lgsl -lgslcblas -lm -luring -lbpf -ltracefs -ltraceevent -lsqlite3 -lusb-1.0 -lpng16 -lvirglrenderer -lEGL) -lpthread

# BPF programs (probes/*.bpf.c): clang for the bpf target, CO-RE against
# the kernel's BTF (vmlinux.h generated at build time), libbpf skeletons.
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
# usdt.bpf.h includes <linux/errno.h>, which wants the multiarch <asm/...>.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(OUT)/probes -I. -Wall \
	-I/usr/include/$(shell gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

# ---- objects, listed explicitly --------------------------------------------
LIB_OBJS := \
	lib/log.o \
	lib/env.o \
	lib/metric.o \
	lib/file.o \
	lib/json.o \
	lib/regions.o \
	lib/tap.o \
	lib/frame.o \
	analyzers/hist.o \
	analyzers/stats.o \
	analyzers/stages.o \
	analyzers/ab.o \
	analyzers/changepoint.o \
	analyzers/recommend.o

# The block backend and the USB device models: the VMM's, and the USB/IP
# server's in the CLI.
BLK_OBJS := \
	hypervisor/backends/blk.o \
	hypervisor/backends/sync.o \
	hypervisor/backends/uring.o

USB_OBJS := \
	hypervisor/usb/core.o \
	hypervisor/usb/storage.o \
	hypervisor/usb/hid.o \
	hypervisor/usb/host.o \
	hypervisor/usb/usbip.o

VMM_CORE_OBJS := \
	collectors/perf_event.o \
	hypervisor/kvm.o \
	hypervisor/vcpu.o \
	hypervisor/bus.o \
	hypervisor/regions.o \
	hypervisor/irq.o \
	hypervisor/pci.o \
	hypervisor/msix.o \
	hypervisor/virtq.o \
	hypervisor/virtio-pci.o \
	$(BLK_OBJS) \
	$(USB_OBJS) \
	hypervisor/backends/net.o \
	hypervisor/ioeventfd.o \
	hypervisor/evloop.o \
	hypervisor/device.o \
	hypervisor/metrics.o \
	hypervisor/results.o \
	hypervisor/display.o \
	hypervisor/boot/x86.o \
	hypervisor/boot/file.o \
	hypervisor/boot/elf.o \
	hypervisor/boot/linux.o \
	hypervisor/boot/mptable.o \
	hypervisor/boot/bzimage.o \
	hypervisor/boot/vmlinux.o \
	hypervisor/devices/uart.o \
	hypervisor/devices/i8042.o \
	hypervisor/devices/rtc.o \
	hypervisor/devices/vioctl.o \
	hypervisor/devices/bench.o \
	hypervisor/devices/vfio-pci.o \
	hypervisor/devices/disk-args.o \
	hypervisor/devices/virtio-blk.o \
	hypervisor/devices/ahci.o \
	hypervisor/devices/virtio-net.o \
	hypervisor/devices/e1000.o \
	hypervisor/devices/e1000-ring.o \
	hypervisor/devices/xhci.o \
	hypervisor/devices/xhci-ring.o \
	hypervisor/devices/virtio-usbip.o \
	hypervisor/devices/bochs-display.o \
	hypervisor/devices/virtio-gpu.o \
	hypervisor/devices/virtio-gpu-virgl.o

VMM_OBJS := hypervisor/main.o $(VMM_CORE_OBJS) $(LIB_OBJS)

COLLECTOR_OBJS := \
	collectors/kvm_exits.o \
	collectors/kvm_exits_bpf.o \
	collectors/kvm_exits_tracefs.o \
	collectors/reqs.o \
	collectors/bpf_util.o \
	collectors/exit_reasons.o \
	collectors/attribute.o

# The results side: database, suites (the CLI and the tests, not the VMM).
RESULTS_OBJS := \
	lib/db.o \
	lib/schema.o \
	lib/suite.o \
	lib/resultsdb.o \
	lib/fio.o \
	lib/iperf3.o \
	lib/glmark2.o \
	lib/netns.o \
	hypervisor/qemu/qemu.o \
	hypervisor/qemu/trace.o \
	reports/charts.o \
	reports/html.o

CLI_OBJS := \
	cli/vioscope.o \
	cli/run.o \
	cli/run_disk.o \
	cli/run_net.o \
	cli/run_net_frames.o \
	cli/run_usb.o \
	cli/run_gfx.o \
	cli/run_qemu.o \
	cli/ab_opts.o \
	cli/compare.o \
	cli/history.o \
	cli/advice.o \
	cli/recommend.o \
	cli/report.o \
	cli/report_with.o \
	cli/export.o \
	cli/peer.o \
	cli/usbip_server.o \
	cli/doctor.o \
	cli/testbed_result.o \
	cli/fio_summary.o \
	cli/trace.o \
	cli/trace_stages.o \
	$(COLLECTOR_OBJS) \
	$(RESULTS_OBJS) \
	$(BLK_OBJS) \
	$(USB_OBJS) \
	$(LIB_OBJS)

TEST_OBJS := \
	tests/hypervisor/test_bus.o \
	tests/hypervisor/test_pci.o \
	tests/hypervisor/test_evloop.o \
	tests/hypervisor/test_msix.o \
	tests/hypervisor/test_virtq.o \
	tests/hypervisor/backends/test_blk.o \
	tests/hypervisor/test_bzimage.o \
	tests/hypervisor/test_elf.o \
	tests/hypervisor/test_mptable.o \
	tests/hypervisor/test_uart.o \
	tests/hypervisor/test_results.o \
	tests/hypervisor/test_vfio_pci.o \
	tests/hypervisor/devices/test_virtio_blk.o \
	tests/hypervisor/devices/test_virtio_net.o \
	tests/hypervisor/devices/test_e1000.o \
	tests/hypervisor/devices/test_xhci.o \
	tests/hypervisor/devices/test_virtio_usbip.o \
	tests/hypervisor/devices/test_bochs_display.o \
	tests/hypervisor/devices/test_virtio_gpu.o \
	tests/hypervisor/usb/test_storage.o \
	tests/hypervisor/usb/test_usbip.o \
	tests/hypervisor/usb/test_hid.o \
	tests/hypervisor/devices/test_ahci.o \
	tests/hypervisor/devices/test_i8042.o \
	tests/analyzers/test_hist.o \
	tests/analyzers/test_stages.o \
	tests/analyzers/test_ab.o \
	tests/analyzers/test_recommend.o \
	tests/lib/test_suite.o \
	tests/lib/test_db.o \
	tests/lib/test_fio.o \
	tests/lib/test_iperf3.o \
	tests/lib/test_glmark2.o \
	tests/lib/test_frame.o \
	tests/lib/test_tap.o \
	tests/reports/test_charts.o \
	tests/hypervisor/test_qemu.o \
	tests/hypervisor/test_qemu_trace.o \
	tests/collectors/test_exit_reasons.o \
	tests/collectors/test_attribute.o \
	tests/collectors/test_perf_event.o \
	tests/probes/test_usdt.o \
	tests/cli/test_cli.o \
	tests/integration/test_vmm.o \
	tests/integration/test_micro.o \
	tests/integration/test_trace.o \
	tests/integration/test_run.o \
	tests/integration/test_compare.o \
	tests/integration/test_qemu_run.o \
	tests/integration/test_qemu_agent.o \
	tests/integration/test_peer.o \
	tests/integration/test_net.o \
	tests/helpers.o

# The probe guest: freestanding x86-64, flags from HOST-FACTS (the CPL0
# emulator on PVM rejects SSE, so general registers only).
GUEST_OBJS := \
	hypervisor/guest/entry.o \
	hypervisor/guest/isr.o \
	hypervisor/guest/main.o \
	hypervisor/guest/lib.o \
	hypervisor/guest/printf.o \
	hypervisor/guest/serial.o \
	hypervisor/guest/pci.o \
	hypervisor/guest/intr.o \
	hypervisor/guest/workload.o \
	hypervisor/guest/micro.o \
	hypervisor/guest/poke.o \
	hypervisor/guest/virtio.o \
	hypervisor/guest/ahci.o \
	hypervisor/guest/disk.o \
	hypervisor/guest/nic-virtio.o \
	hypervisor/guest/nic-e1000.o \
	hypervisor/guest/net.o \
	hypervisor/guest/xhci.o \
	hypervisor/guest/bot.o \
	hypervisor/guest/usbip.o \
	hypervisor/guest/hid.o \
	hypervisor/guest/gpu.o \
	hypervisor/guest/virgl.o \
	hypervisor/guest/gfx.o

GUEST_CFLAGS := -O2 -g -std=gnu11 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -fno-stack-protector -mcmodel=small -mgeneral-regs-only \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
	-Wall -Wextra -Wno-unused-parameter $(if $(filter 1,$(WERROR)),-Werror) \
	-I. -MD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,hypervisor/guest/guest.lds \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

VMM := $(BIN)/vioscope-vmm
CLI := $(BIN)/vioscope
GUEST := $(BIN)/vioscope-guest.elf
TESTS := $(BIN)/vioscope-tests

.PHONY: all deps check check-slow check-nested demo bench bench-disk bench-disk-nested bench-net bench-net-nested bench-usb bench-gfx bench-probes \
	bench-regression bench-analyzers fuzz clean FORCE
all: $(VMM) $(CLI) $(GUEST) $(TESTS)

deps:
	$(Q)scripts/install-deps

# ---- rules -------------------------------------------------------------------
$(OUT)/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# lib/schema.sql compiled in as one C string (lib/db.c applies it).
$(OUT)/lib/schema.c: lib/schema.sql
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo 'const char vioscope_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/.*/"&\\n"/' $<; echo ';'; } > $@.tmp && mv $@.tmp $@
$(OUT)/lib/schema.o: $(OUT)/lib/schema.c
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/lib/env.o: ALL_CFLAGS += -DVIOSCOPE_GIT_REV='"$(GIT_REV)"'
$(OUT)/lib/env.o: FORCE

# vmlinux.h from this kernel's BTF; without BTF, the shipped minimal one
# (only the tracepoint records the probes read; CO-RE cannot relocate then).
$(OUT)/probes/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)if [ -r $(BTF_VMLINUX) ]; then \
		$(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp && mv $@.tmp $@; \
	else cp probes/vmlinux_min.h $@; fi

$(OUT)/probes/%.bpf.o: probes/%.bpf.c $(OUT)/probes/vmlinux.h
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MD -MP -c $< -o $@

$(OUT)/probes/%.skel.h: $(OUT)/probes/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUT)/collectors/kvm_exits_bpf.o: $(OUT)/probes/kvm_exits.skel.h
$(OUT)/collectors/kvm_exits_bpf.o: ALL_CFLAGS += -I$(OUT)/probes
$(OUT)/collectors/reqs.o: $(OUT)/probes/reqs.skel.h
$(OUT)/collectors/reqs.o: ALL_CFLAGS += -I$(OUT)/probes

$(OUT)/guest/%.o: hypervisor/guest/%.c
	$(call msg,GUEST-CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(OUT)/guest/%.o: hypervisor/guest/%.S
	$(call msg,GUEST-AS,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(VMM): $(addprefix $(OUT)/,$(VMM_OBJS))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(CLI): $(addprefix $(OUT)/,$(CLI_OBJS))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(GUEST): $(patsubst hypervisor/guest/%,$(OUT)/guest/%,$(GUEST_OBJS)) hypervisor/guest/guest.lds
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(TESTS): $(addprefix $(OUT)/,$(TEST_OBJS) $(VMM_CORE_OBJS) $(COLLECTOR_OBJS) $(RESULTS_OBJS) $(LIB_OBJS))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# ---- entry points ----------------------------------------------------------
# make check: install, build, run every test (CI reads Criterion's Synthesis).
check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)VIOSCOPE_BIN=$(abspath $(BIN)) $(TESTS) --jobs 1 $(TESTFLAGS)

# make check-slow: boots Debian's stock kernel on vioscope-vmm (minutes).
check-slow: deps all
	$(Q)scripts/install-deps nested
	$(Q)scripts/check-slow

# make check-nested: the nested test-bed suites (several minutes, not in CI).
check-nested: deps all
	$(Q)scripts/install-deps nested
	$(Q)scripts/check-nested

# make demo: the default comparison on embedded defaults, with a report.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo

# make bench: the exit microbenchmarks with larger counts.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench

# make fuzz: libFuzzer + ASan/UBSan on the image loaders (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -I. -D_GNU_SOURCE
FUZZERS := $(BIN)/fuzz-elf $(BIN)/fuzz-bzimage $(BIN)/fuzz-virtq $(BIN)/fuzz-ahci \
	$(BIN)/fuzz-e1000 $(BIN)/fuzz-virtio-net $(BIN)/fuzz-usbip $(BIN)/fuzz-xhci \
	$(BIN)/fuzz-virtio-gpu
FUZZ_AHCI_SRCS := tests/fuzz/fuzz_ahci.c hypervisor/devices/ahci.c hypervisor/devices/disk-args.c \
	hypervisor/backends/blk.c hypervisor/backends/sync.c hypervisor/backends/uring.c \
	hypervisor/device.c hypervisor/metrics.c hypervisor/msix.c hypervisor/pci.c hypervisor/bus.c \
	hypervisor/irq.c hypervisor/kvm.c hypervisor/evloop.c analyzers/hist.c lib/log.c \
	collectors/perf_event.c hypervisor/vcpu.c
$(BIN)/fuzz-ahci: $(FUZZ_AHCI_SRCS) tests/fuzz/fuzz_kvm.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson) -o $@ $(filter %.c,$^) -lcjson -luring -lpthread
# The NIC models: their rings, headers and control commands.
FUZZ_NET_SRCS := hypervisor/backends/net.c lib/tap.c hypervisor/device.c hypervisor/metrics.c \
	hypervisor/msix.c hypervisor/pci.c hypervisor/bus.c hypervisor/irq.c hypervisor/kvm.c \
	hypervisor/evloop.c hypervisor/virtq.c hypervisor/virtio-pci.c hypervisor/ioeventfd.c \
	analyzers/hist.c lib/log.c collectors/perf_event.c hypervisor/vcpu.c
$(BIN)/fuzz-e1000: tests/fuzz/fuzz_e1000.c hypervisor/devices/e1000.c hypervisor/devices/e1000-ring.c \
		   $(FUZZ_NET_SRCS) tests/fuzz/fuzz_kvm.h hypervisor/devices/e1000.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson) -o $@ $(filter %.c,$^) -lcjson -lpthread
$(BIN)/fuzz-virtio-net: tests/fuzz/fuzz_virtio_net.c hypervisor/devices/virtio-net.c $(FUZZ_NET_SRCS) \
			tests/fuzz/fuzz_kvm.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson) -o $@ $(filter %.c,$^) -lcjson -lpthread
# virtio-gpu's command parser (2D and cursor; 3D is virglrenderer's).
$(BIN)/fuzz-virtio-gpu: tests/fuzz/fuzz_virtio_gpu.c hypervisor/devices/virtio-gpu.c \
			hypervisor/devices/virtio-gpu-virgl.c hypervisor/display.c \
			$(filter-out hypervisor/backends/net.c lib/tap.c,$(FUZZ_NET_SRCS)) \
			tests/fuzz/fuzz_kvm.h hypervisor/devices/virtio-gpu.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson) -o $@ $(filter %.c,$^) \
		-lcjson -lpng16 -lvirglrenderer -lEGL -lpthread
$(BIN)/fuzz-usbip: tests/fuzz/fuzz_usbip.c hypervisor/usb/usbip.c hypervisor/usb/core.c \
		   hypervisor/usb/storage.c hypervisor/backends/blk.c hypervisor/backends/sync.c \
		   hypervisor/backends/uring.c lib/log.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ -luring -lpthread
# The xHCI rings, with the USB disk behind them.
$(BIN)/fuzz-xhci: tests/fuzz/fuzz_xhci.c hypervisor/devices/xhci.c hypervisor/devices/xhci-ring.c \
		  hypervisor/devices/disk-args.c hypervisor/usb/core.c hypervisor/usb/storage.c \
		  hypervisor/usb/hid.c hypervisor/usb/host.c \
		  $(filter-out tests/fuzz/fuzz_ahci.c hypervisor/devices/ahci.c hypervisor/devices/disk-args.c,\
		  $(FUZZ_AHCI_SRCS)) tests/fuzz/fuzz_kvm.h hypervisor/devices/xhci.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson libusb-1.0) -o $@ $(filter %.c,$^) \
		-lcjson -luring -lusb-1.0 -lpthread
$(BIN)/fuzz-virtq: tests/fuzz/fuzz_virtq.c hypervisor/virtq.c hypervisor/kvm.c hypervisor/irq.c \
		   hypervisor/pci.c hypervisor/bus.c lib/log.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^
$(BIN)/fuzz-elf: tests/fuzz/fuzz_elf.c hypervisor/boot/elf.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^
$(BIN)/fuzz-bzimage: tests/fuzz/fuzz_bzimage.c hypervisor/boot/bzimage.c hypervisor/boot/linux.c \
		     hypervisor/boot/mptable.c \
		     hypervisor/boot/file.c \
		     hypervisor/kvm.c hypervisor/irq.c hypervisor/pci.c hypervisor/bus.c lib/log.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^
# Seeds: the probe guest for the ELF loader, Debian's kernel (if fetched) for bzImage.
fuzz: deps $(GUEST)
	$(Q)scripts/install-deps fuzz
	$(Q)$(MAKE) --no-print-directory $(FUZZERS)
	$(Q)mkdir -p $(OUT)/fuzz/elf $(OUT)/fuzz/bzimage
	$(Q)cp $(GUEST) $(OUT)/fuzz/elf/seed
	$(Q)if ls .cache/kernel/boot/vmlinuz-* >/dev/null 2>&1; then \
		head -c 131072 $$(ls .cache/kernel/boot/vmlinuz-* | head -1) > $(OUT)/fuzz/bzimage/seed; fi
	$(Q)mkdir -p $(OUT)/fuzz/virtq $(OUT)/fuzz/ahci $(OUT)/fuzz/e1000 $(OUT)/fuzz/virtio-net \
		$(OUT)/fuzz/usbip $(OUT)/fuzz/xhci $(OUT)/fuzz/virtio-gpu
	$(Q)cp tests/fuzz/seeds/usbip/* $(OUT)/fuzz/usbip/
	$(Q)cp tests/fuzz/seeds/xhci/* $(OUT)/fuzz/xhci/
	$(Q)cp tests/fuzz/seeds/virtio-gpu/* $(OUT)/fuzz/virtio-gpu/
	$(Q)set -e; for t in elf bzimage virtq ahci e1000 virtio-net usbip xhci virtio-gpu; do \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(BIN)/fuzz-$$t $(OUT)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=131072 -timeout=10 \
			> $(OUT)/fuzz/$$t.log 2>&1 || { tail -40 $(OUT)/fuzz/$$t.log; exit 1; }; \
		tail -1 $(OUT)/fuzz/$$t.log; \
	done

# make bench-disk: emul vs pv vs host-native for the workloads/disk patterns.
bench-disk: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-disk

# make bench-usb: xHCI vs the USB/IP channel vs disk-native, 4k reads at QD1 and QD32.
bench-usb: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-usb

# make bench-gfx: bochs-display vs virtio-gpu 2D vs virgl, full frames and small rectangles.
bench-gfx: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-gfx

# make bench-net: e1000 vs virtio-net vs host-native for the workloads/net frames.
bench-net: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-net

# make bench-net-nested: vioscope-vmm beside QEMU-KVM per NIC mode in the test bed.
bench-net-nested: deps all
	$(Q)scripts/install-deps nested
	$(Q)scripts/bench-net-nested

# make bench-analyzers: the stage analyzer's speed on 10 M synthetic events.
$(BIN)/bench-analyzers: $(OUT)/tests/bench/bench_analyzers.o $(addprefix $(OUT)/,$(LIB_OBJS))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
bench-analyzers: deps $(BIN)/bench-analyzers
	$(Q)$(BIN)/bench-analyzers

# make bench-regression: vioscope compare on real runs, with and without an
# injected backend delay.
bench-regression: deps all
	$(Q)scripts/bench-regression

# make bench-probes: what the collectors cost on the virtio-blk path.
bench-probes: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-probes

# make bench-disk-nested: the same patterns in the nested test bed, with
# NVMe pass-through and QEMU-KVM beside vioscope-vmm (about 15 minutes).
bench-disk-nested: deps
	$(Q)scripts/install-deps nested
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench-disk-nested

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUT) $(BIN)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
