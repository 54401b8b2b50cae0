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
# Probes are independent make targets, so they run in parallel under -j.
# Results are cached per kernel: the directory is keyed by the kernel release
# and a hash of the kernel build directory's path, and a probe runs again
# only when its source, this engine or the kernel configuration changes.

nvgrace_kobjtree := $(realpath $(objtree))
nvgrace_key := $(KERNELRELEASE)-$(shell printf '%s' '$(nvgrace_kobjtree)' | md5sum | cut -c1-8)
nvgrace_probe_dir := $(obj)/.compat/$(nvgrace_key)
nvgrace_probe_src := $(sort $(wildcard $(src)/compat/probes/*.c))
nvgrace_probe_names := $(basename $(notdir $(nvgrace_probe_src)))
nvgrace_probe_results := $(addprefix $(nvgrace_probe_dir)/,$(addsuffix .h,$(nvgrace_probe_names)))
nvgrace_config_h := $(nvgrace_probe_dir)/nvgrace-config.h

# The flags of a module object, minus dependency tracking and our own
# force-include (which is what the probes produce).
nvgrace_probe_cflags := $(NOSTDINC_FLAGS) $(LINUXINCLUDE) $(KBUILD_CPPFLAGS) \
	$(KBUILD_CFLAGS) $(KBUILD_CFLAGS_MODULE) \
	-DKBUILD_BASENAME='"nvgrace_probe"' -DKBUILD_MODNAME='"nvgrace_probe"' \
	-D__KBUILD_MODNAME=kmod_nvgrace_probe -Werror

nvgrace_probe_deps := $(src)/compat/probe.mk $(src)/compat/run-probe.sh \
	$(wildcard $(objtree)/include/config/auto.conf)

$(nvgrace_probe_dir)/%.h: $(src)/compat/probes/%.c $(nvgrace_probe_deps)
	@mkdir -p $(nvgrace_probe_dir)
	$(Q)$(CONFIG_SHELL) $(src)/compat/run-probe.sh $* $< $(nvgrace_probe_dir) \
		$(objtree)/Module.symvers -- $(CC) $(nvgrace_probe_cflags)

$(nvgrace_config_h): $(nvgrace_probe_results) $(src)/compat/gen-config.sh FORCE
	$(Q)$(CONFIG_SHELL) $(src)/compat/gen-config.sh $@ '$(KERNELRELEASE)' \
		'$(nvgrace_kobjtree)' $(nvgrace_probe_results)

clean-files += .compat
