// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_GHES_REGISTER_REPORT_CHAIN: GHES exports a notifier chain for the
 * memory errors it reports (ghes_register_report_chain()), so a module can
 * see firmware-first memory error reports.
 * Not in v6.1; present from v6.2 ("ACPI: APEI: GHES: add notifier chain for
 * reported memory errors", for the EDAC drivers). Needs CONFIG_ACPI_APEI_GHES.
 *
 * nvgrace-probe: symbol ghes_register_report_chain
 */
#include <acpi/ghes.h>

static int probe(struct notifier_block *nb) __maybe_unused;
static int probe(struct notifier_block *nb)
{
	ghes_register_report_chain(nb);
	ghes_unregister_report_chain(nb);
	return 0;
}
