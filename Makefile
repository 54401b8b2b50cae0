# SPDX-License-Identifier: GPL-2.0-only
#
# nvgrace-dkms: user-facing Makefile. The modules themselves are described
# in Kbuild, which the kernel's build system reads.
#
#   make [KDIR=/lib/modules/<release>/build] [ARCH=arm64 CROSS_COMPILE=...]
#   make probes          list the compat probe results for KDIR
#   make probe P=NAME    run one probe again, showing the compiler output
#   make check           the test suite CI runs (see README)
#   make check-full      every tier at full size (custom and debug kernels,
#                        install VMs, benchmarks)
#   make clean | install

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

# compat/probe.mk keys its results by kernel release and a hash of the
# kernel build directory, compiler, ARCH and flags, and records the build
# directory in each result directory's build-info: the newest results for
# KDIR are the ones shown.
kdir_abs = $(realpath $(KDIR))
probe_dir = $(shell ls -td $(PWD)/.compat/*/ 2>/dev/null | while read -r d; do \
	if grep -qxF 'kdir=$(kdir_abs)' "$${d}build-info" 2>/dev/null; then \
		echo "$${d%/}"; break; fi; done)

.PHONY: all modules clean install probes probe check check-full kernel-check

all: modules

kernel-check:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "nvgrace-dkms: no kernel build tree at $(KDIR): install the headers for kernel $(KVER) (Debian/Ubuntu: apt install linux-headers-$(KVER); Fedora/RHEL: dnf install kernel-devel-$(KVER)) or pass KDIR=/path/to/kernel/build." >&2; \
		exit 1; \
	fi
	@if [ ! -f "$(KDIR)/include/config/auto.conf" ]; then \
		echo "nvgrace-dkms: $(KDIR) is not a configured kernel build tree (include/config/auto.conf is missing): run 'make modules_prepare' there or install the complete headers package." >&2; \
		exit 1; \
	fi

modules: kernel-check
	$(MAKE) -C $(KDIR) M=$(PWD) modules

install: kernel-check
	$(MAKE) -C $(KDIR) M=$(PWD) modules_install

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C $(KDIR) M=$(PWD) clean; fi
	rm -rf $(PWD)/.compat

probes: kernel-check
	@if [ ! -f "$(probe_dir)/nvgrace-config.h" ]; then \
		echo "nvgrace-dkms: no probe results for $(KDIR) yet: run 'make KDIR=$(KDIR)' first." >&2; \
		exit 1; \
	fi
	@echo "compat probes for $$(sed -n 's/^release=//p' $(probe_dir)/build-info) ($(kdir_abs)):"
	@sed -n 's/^cc=/  compiler: /p' $(probe_dir)/build-info
	@for f in $(probe_dir)/*.h; do \
		case $$f in */nvgrace-config.h) continue;; esac; \
		if grep -q '^#define' $$f; then r=yes; else r=no; fi; \
		printf '  %-44s %s\n' "$$(basename $$f .h)" $$r; \
	done
	@sed -n 's/^#define NVGRACE_BUILD_FEATURES "\(.*\)"/features: \1/p; s/^#define NVGRACE_BUILD_FEATURES_LOST "\(.*\)"/features lost: \1/p' \
		$(probe_dir)/nvgrace-config.h

probe: kernel-check
	@if [ -z "$(P)" ]; then echo "usage: make probe P=NAME (see 'make probes')" >&2; exit 1; fi
	@if [ ! -f "$(probe_dir)/$(P).cmd" ]; then \
		echo "nvgrace-dkms: no recorded probe '$(P)' for $(KDIR): check the name with 'make probes', or build first." >&2; \
		exit 1; \
	fi
	@echo "re-running probe $(P) for $$(sed -n 's/^release=//p' $(probe_dir)/build-info):"
	@sh -c "$$(cat $(probe_dir)/$(P).cmd)" && echo "probe $(P): compiles" || echo "probe $(P): does not compile"
	@rm -f $(probe_dir)/$(P).o

check:
	./tests/run.sh

check-full:
	./tests/run.sh --full
