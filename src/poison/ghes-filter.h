/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-poison: which firmware-first (GHES) memory-error reports poison a
 * page. Header-only so that the KUnit suite tests the same code.
 *
 * The GHES report chain (v6.2+) passes the record's severity and the
 * memory-error section's payload (struct cper_sec_mem_err), not the section
 * itself. The kernel's own handler (ghes_handle_memory_failure()) poisons a
 * page only when both the record and the section are recoverable: a record
 * can carry a corrected memory section next to an uncorrected section of
 * another type. So the filter finds the section header that precedes the
 * payload (ACPI "Generic Error Data Entry", 72 bytes, or 80 from revision
 * 0x300 on) and reads the section's own severity.
 */
#ifndef NVGRACE_POISON_GHES_FILTER_H
#define NVGRACE_POISON_GHES_FILTER_H

#include <linux/cper.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/uuid.h>

/* The leading fields of an ACPI Generic Error Data Entry (ACPI 6.x 18.3.2.7.1). */
struct nvgrace_ghes_entry {
	u8 section_type[16];
	u32 error_severity;		/* CPER_SEV_* */
	u16 revision;			/* major in the high byte */
	u8 validation_bits;
	u8 flags;
	u32 error_data_length;
} __packed;

#define NVGRACE_GHES_ENTRY_LEN		72	/* revision < 0x300 */
#define NVGRACE_GHES_ENTRY_LEN_V300	80	/* revision >= 0x300 */

/*
 * The entry header in front of @payload, or NULL when neither layout holds
 * a memory-error section header there. GHES always passes a payload that
 * follows its header inside the error status block, whose own 20-byte
 * header comes first: reading 80 bytes back stays inside it.
 */
static inline const struct nvgrace_ghes_entry *
nvgrace_ghes_mem_entry(const void *payload)
{
	static const guid_t mem = CPER_SEC_PLATFORM_MEM;
	const struct nvgrace_ghes_entry *e;

	e = payload - NVGRACE_GHES_ENTRY_LEN;
	if ((e->revision >> 8) < 3 && guid_equal((const guid_t *)e->section_type, &mem))
		return e;
	e = payload - NVGRACE_GHES_ENTRY_LEN_V300;
	if ((e->revision >> 8) >= 3 && guid_equal((const guid_t *)e->section_type, &mem))
		return e;
	return NULL;
}

/* CPER severity: recoverable (0) or fatal (1) means the data is lost. */
static inline bool nvgrace_cper_sev_lost(u32 sev)
{
	return sev == CPER_SEV_RECOVERABLE || sev == CPER_SEV_FATAL;
}

/**
 * nvgrace_ghes_mem_poisons() - does this GHES memory-error report poison?
 * @record_lost: the record's severity is recoverable or worse (the chain's
 *		 GHES_SEV_* value >= GHES_SEV_RECOVERABLE)
 * @payload: the struct cper_sec_mem_err the chain passed
 *
 * Return: true when the section's severity is recoverable or fatal too and
 * the section has a valid physical address.
 */
static inline bool nvgrace_ghes_mem_poisons(bool record_lost,
					    const struct cper_sec_mem_err *payload)
{
	const struct nvgrace_ghes_entry *e;

	if (!record_lost || !(payload->validation_bits & CPER_MEM_VALID_PA))
		return false;
	e = nvgrace_ghes_mem_entry(payload);
	return e && nvgrace_cper_sev_lost(e->error_severity);
}

#endif /* NVGRACE_POISON_GHES_FILTER_H */
