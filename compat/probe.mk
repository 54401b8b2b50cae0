# SPDX-License-Identifier: GPL-2.0-only
#
# Compile probes for kernel API differences, run inside the Kbuild pass.
#
# Each compat/probes/NAME.c is a tiny translation unit that compiles (with
# -Werror and the kernel's own flags) only when the API it describes is
# present. A probe may also name exported symbols it needs, with a line
# "nvgrace-probe: symbol SYM" in its comment; those are looked up in the
# kernel's Module.symvers. The result of NAME becomes HAVE_<NAME in upper
# case> in a generated header that Kbuild force-includes into every object.
#
# Probes are declared by the code that consumes them: a source or header
# file that tests HAVE_<NAME> carries a comment line
#	nvgrace-probes: NAME [NAME...]
# and only declared probes run. A file that loses a feature when no probe of
# a group fires declares that too (see compat/gen-config.sh):
#	nvgrace-feature: NAME [if CONFIG_X] needs A|B [C...]: what is lost
#
# Probes are independent make targets, so they run in parallel under -j.
# Results are cached in .compat/<release>-<key>/, where the key hashes the
# kernel build directory, the compiler (its name and version), ARCH and the
# flags the probes compile with: another compiler, flag set or architecture
# gets its own results. A probe runs again only when its source, this
# engine or the kernel configuration changes.
#
# NVGRACE_PROBE_DISABLE="NAME..." makes the named probes fail without
# compiling them (tests: a build without a feature's probes).

nvgrace_kobjtree := $(realpath $(objtree))

# The files that may declare probes, and what they declare.
nvgrace_consumers := $(sort $(wildcard $(src)/src/*/*.[ch] $(src)/compat/*.h \
	$(src)/tests/modules/*.[ch]))
nvgrace_declared := $(sort $(shell sed -n \
	's@^.*nvgrace-probes:\(.*\)$$@\1@p' $(nvgrace_consumers) /dev/null | \
	sed 's@\*/@@'))
nvgrace_probe_names := $(filter-out $(NVGRACE_PROBE_DISABLE),$(nvgrace_declared))
nvgrace_probe_unknown := $(filter-out \
	$(basename $(notdir $(wildcard $(src)/compat/probes/*.c))),$(nvgrace_declared))
ifneq ($(nvgrace_probe_unknown),)
$(error nvgrace-dkms: probe(s) $(nvgrace_probe_unknown) declared in a source file have no compat/probes/<name>.c)
endif

# The flags of a module object, minus dependency tracking and our own
# force-include (which is what the probes produce).
nvgrace_probe_cflags := $(NOSTDINC_FLAGS) $(LINUXINCLUDE) $(KBUILD_CPPFLAGS) \
	$(KBUILD_CFLAGS) $(KBUILD_CFLAGS_MODULE) \
	-DKBUILD_BASENAME='"nvgrace_probe"' -DKBUILD_MODNAME='"nvgrace_probe"' \
	-D__KBUILD_MODNAME=kmod_nvgrace_probe -Werror

nvgrace_cc_version := $(shell $(CC) --version 2>/dev/null | head -n 1)
nvgrace_key_text := $(nvgrace_kobjtree) $(ARCH) $(SRCARCH) $(CC) \
	$(nvgrace_cc_version) $(nvgrace_probe_cflags) disabled: $(NVGRACE_PROBE_DISABLE)
nvgrace_key := $(KERNELRELEASE)-$(shell printf '%s' \
	'$(subst ','\'',$(nvgrace_key_text))' | md5sum | cut -c1-8)
nvgrace_probe_dir := $(obj)/.compat/$(nvgrace_key)
nvgrace_probe_results := $(addprefix $(nvgrace_probe_dir)/,$(addsuffix .h,$(nvgrace_probe_names)))
nvgrace_probe_disabled := $(addprefix $(nvgrace_probe_dir)/,$(addsuffix .h, \
	$(filter $(NVGRACE_PROBE_DISABLE),$(nvgrace_declared))))
nvgrace_config_h := $(nvgrace_probe_dir)/nvgrace-config.h

nvgrace_probe_deps := $(src)/compat/probe.mk $(src)/compat/run-probe.sh \
	$(wildcard $(objtree)/include/config/auto.conf)

# NVGRACE_PROBE_CACHE=DIR (off unless set; the test bed's build matrix sets
# it): results are also kept in DIR, so that a fresh copy of the source
# builds without compiling probes that ran before. A result is reused only
# under the same key as above, the same kernel header trees (every file's
# path, size and modification time, Module.symvers included: a patched or
# re-extracted kernel misses) and the same probe source and run-probe.sh
# (compared by content, see run-probe.sh).
ifneq ($(NVGRACE_PROBE_CACHE),)
nvgrace_kernel_fp := $(shell find -L $(srctree)/include \
	$(srctree)/arch/$(SRCARCH)/include $(objtree)/include \
	$(objtree)/arch/$(SRCARCH)/include $(objtree)/Module.symvers \
	-type f -printf '%p %s %T@\n' 2>/dev/null | md5sum | cut -c1-16)
nvgrace_probe_cache := $(NVGRACE_PROBE_CACHE)/$(nvgrace_key)-$(nvgrace_kernel_fp)
endif

$(nvgrace_probe_dir)/%.h: $(src)/compat/probes/%.c $(nvgrace_probe_deps)
	@mkdir -p $(nvgrace_probe_dir)
	$(Q)NVGRACE_PROBE_CACHE_DIR='$(nvgrace_probe_cache)' $(CONFIG_SHELL) \
		$(src)/compat/run-probe.sh $* $< $(nvgrace_probe_dir) \
		$(objtree)/Module.symvers -- $(CC) $(nvgrace_probe_cflags)

$(nvgrace_probe_disabled): $(nvgrace_probe_deps)
	@mkdir -p $(nvgrace_probe_dir)
	$(Q)$(CONFIG_SHELL) $(src)/compat/run-probe.sh --disabled \
		$(basename $(notdir $@)) - $(nvgrace_probe_dir) -

$(nvgrace_config_h): $(nvgrace_probe_results) $(nvgrace_probe_disabled) \
		$(src)/compat/gen-config.sh FORCE
	$(Q)$(CONFIG_SHELL) $(src)/compat/gen-config.sh $@ '$(KERNELRELEASE)' \
		'$(nvgrace_kobjtree)' '$(subst ','\'',$(CC) $(nvgrace_cc_version))' \
		'$(wildcard $(objtree)/include/config/auto.conf)' \
		'$(nvgrace_consumers)' \
		$(sort $(nvgrace_probe_results) $(nvgrace_probe_disabled))

clean-files += .compat
