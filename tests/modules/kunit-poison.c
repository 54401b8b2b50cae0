// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the nvgrace-poison range registry, through its exported
 * API. Built only for kernels with CONFIG_KUNIT (the custom test kernels).
 */

#include <kunit/test.h>
#include <linux/module.h>

#include "nvgrace-poison.h"
#include "../../src/poison/ghes-filter.h"

/* nvgrace-probes: register_pfn_address_space */

static int tst_pgoff(struct vm_area_struct *vma, unsigned long pfn,
		     pgoff_t *pgoff)
{
	return -EINVAL;
}

/*
 * A mapping with no VMAs: the handler walks it (and zaps and signals
 * nothing), the registry stores the pointer.
 */
static struct address_space tst_mapping;

static int tst_suite_init(struct kunit_suite *suite)
{
	tst_mapping.i_mmap = RB_ROOT_CACHED;
	init_rwsem(&tst_mapping.i_mmap_rwsem);
	return 0;
}

/*
 * Ranges live on the heap: each holds a work item, which debug objects
 * refuse on the stack.
 */
static struct nvgrace_pfn_space *tst_new(struct kunit *test)
{
	struct nvgrace_pfn_space *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	return s;
}

static void tst_space(struct nvgrace_pfn_space *s, unsigned long first,
		      unsigned long last)
{
	memset(s, 0, sizeof(*s));
	s->pfn_first = first;
	s->pfn_last = last;
	s->mapping = &tst_mapping;
	s->pfn_to_vma_pgoff = tst_pgoff;
}

static void poison_register_lookup(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);

	tst_space(a, 0x1000, 0x1fff);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x1000));
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x1fff));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0xfff));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x2000));
	nvgrace_poison_unregister(a);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x1800));
}

static void poison_register_overlap(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);
	struct nvgrace_pfn_space *b = tst_new(test);
	struct nvgrace_pfn_space *c = tst_new(test);
	struct nvgrace_pfn_space *d = tst_new(test);

	tst_space(a, 0x1000, 0x1fff);
	tst_space(b, 0x1fff, 0x2fff);	/* shares the last PFN */
	tst_space(c, 0x0, 0x5000);		/* covers it whole */
	tst_space(d, 0x2000, 0x2fff);	/* adjacent: fine */
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(b), -EBUSY);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(c), -EBUSY);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(d), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x2000));
	nvgrace_poison_unregister(d);
	nvgrace_poison_unregister(a);
}

static void poison_register_bad_input(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);

	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(NULL), -EINVAL);
	tst_space(a, 0x2000, 0x1000);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), -EINVAL);
	tst_space(a, 0x1000, 0x2000);
	a->mapping = NULL;
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), -EINVAL);
	tst_space(a, 0x1000, 0x2000);
	a->pfn_to_vma_pgoff = NULL;
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), -EINVAL);

	/* Double registration is refused, double unregistration harmless. */
	tst_space(a, 0x1000, 0x2000);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), -EINVAL);
	nvgrace_poison_unregister(a);
	nvgrace_poison_unregister(a);
	nvgrace_poison_unregister(NULL);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x1000));
}

static void poison_register_many(struct kunit *test)
{
	const unsigned int n = 1000;
	struct nvgrace_pfn_space *s;
	unsigned int i;

	s = kunit_kcalloc(test, n, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	/* Insert in a scrambled order: ranges of 16 PFNs with 16-PFN gaps. */
	for (i = 0; i < n; i++) {
		unsigned int k = (i * 7) % n;

		tst_space(&s[k], k * 32UL, k * 32UL + 15);
		KUNIT_ASSERT_EQ(test, nvgrace_poison_register(&s[k]), 0);
	}
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(i * 32UL + 15));
		KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(i * 32UL + 16));
	}
	for (i = 0; i < n; i++)
		nvgrace_poison_unregister(&s[i]);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0));
}

/* Reported PFNs are refused by check(), alone and inside a huge block. */
static void poison_report_check(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);

	tst_space(a, 0x10000, 0x1ffff);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10000, 0x10000));

	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x10203,
						    NVGRACE_POISON_SRC_INJECT), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x10203, 1));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10202, 1));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10204, 1));
	/* The 512-page block around it, and blocks ending just before it. */
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x10200, 512));
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x10000, 0x10000));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10000, 0x203));
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x10000, 0x204));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10203, 0));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(NULL, 0x10203, 1));

	/* Again: already poisoned. Outside every range: nothing recorded. */
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x10203,
						    NVGRACE_POISON_SRC_INJECT),
			-EHWPOISON);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x20000,
						    NVGRACE_POISON_SRC_INJECT),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), 1U);
	nvgrace_poison_flush();

	/* Unregistering drops the records; a new registration starts clean. */
	nvgrace_poison_unregister(a);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), 0U);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10203, 1));
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x10203, 1));
	nvgrace_poison_unregister(a);
}

/* Records stay sorted whatever the report order; the PFN list shows them. */
static void poison_report_many(struct kunit *test)
{
	const unsigned int n = 200;
	struct nvgrace_pfn_space *a = tst_new(test);
	unsigned long *pfns, dropped = 1;
	unsigned int i;

	pfns = kunit_kcalloc(test, n, sizeof(*pfns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pfns);
	tst_space(a, 0x40000, 0x40000 + 4 * n - 1);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test,
				nvgrace_poison_report(0x40000 + 4 * ((i * 37) % n),
						      NVGRACE_POISON_SRC_INJECT),
				0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), n);
	for (i = 0; i < 4 * n; i++)
		KUNIT_EXPECT_EQ(test, nvgrace_poison_check(a, 0x40000 + i, 1),
				i % 4 == 0);
	/* Counting only copies nothing. */
	KUNIT_EXPECT_EQ(test, nvgrace_poison_pfns(a, NULL, 0, &dropped), n);
	KUNIT_EXPECT_EQ(test, dropped, 0UL);
	/* A short array gets the first PFNs, the return says how many exist. */
	KUNIT_EXPECT_EQ(test, nvgrace_poison_pfns(a, pfns, 3, &dropped), n);
	KUNIT_EXPECT_EQ(test, pfns[0], 0x40000UL);
	KUNIT_EXPECT_EQ(test, pfns[2], 0x40008UL);
	KUNIT_EXPECT_EQ(test, pfns[3], 0UL);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_pfns(a, pfns, n, &dropped), n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, pfns[i], 0x40000UL + 4 * i);
	/* Unregister with handling possibly still queued. */
	nvgrace_poison_unregister(a);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_pfns(a, pfns, n, &dropped), 0U);
	nvgrace_poison_flush();
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x40000));
}

/*
 * Records outlive nvgrace_poison_unregister_keep() (device close) and a new
 * registration; nvgrace_poison_clear() and nvgrace_poison_unregister() drop
 * them.
 */
static void poison_keep_clear(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);

	tst_space(a, 0x50000, 0x50fff);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x50010,
						    NVGRACE_POISON_SRC_INJECT), 0);
	nvgrace_poison_unregister_keep(a);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x50010));
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), 1U);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x50010, 1));
	/* Closed: reports on the range are not accepted. */
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x50020,
						    NVGRACE_POISON_SRC_INJECT),
			-ENXIO);
	/* Opened again: the known-bad page is still refused. */
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x50010, 1));
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x50010,
						    NVGRACE_POISON_SRC_INJECT),
			-EHWPOISON);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_clear(a), 1U);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), 0U);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x50010, 1));
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x50010,
						    NVGRACE_POISON_SRC_INJECT), 0);
	/* Unbind: the records go even from a range that is not registered. */
	nvgrace_poison_unregister_keep(a);
	nvgrace_poison_unregister(a);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), 0U);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x50010, 1));
}

/*
 * max_records is a bound on records, not a switch that disables the range:
 * past it a report is refused with -ENOSPC and counted, every clean page
 * stays usable and every recorded page stays refused. Reports never
 * allocate, so this is the only way a report is not recorded.
 */
static void poison_bound(struct kunit *test)
{
	struct nvgrace_pfn_space *a = tst_new(test);
	unsigned long dropped = 0;
	unsigned int cap, i;

	tst_space(a, 0x100000, 0x1fffff);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(a), 0);
	cap = a->cap_recs;
	KUNIT_ASSERT_GT(test, cap, 0U);
	KUNIT_ASSERT_LE(test, cap, 0x80000U);
	for (i = 0; i < cap; i++)
		KUNIT_ASSERT_EQ(test,
				nvgrace_poison_report(0x100000 + 2 * i,
						      NVGRACE_POISON_SRC_INJECT),
				0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_report(0x100000 + 2 * cap,
						    NVGRACE_POISON_SRC_INJECT),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_count(a), cap);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x100001, 1));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_check(a, 0x100000 + 2 * cap, 1));
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_check(a, 0x100000 + 2 * (cap - 1), 1));
	KUNIT_EXPECT_EQ(test, nvgrace_poison_pfns(a, NULL, 0, &dropped), cap);
	KUNIT_EXPECT_EQ(test, dropped, 1UL);
	nvgrace_poison_flush();
	nvgrace_poison_unregister(a);
}

/* A GHES error status block with one memory-error section. */
struct tst_ghes_block {
	u8 estatus[20];
	u8 entry[NVGRACE_GHES_ENTRY_LEN_V300];
	struct cper_sec_mem_err mem;
};

static const struct cper_sec_mem_err *
tst_ghes(struct tst_ghes_block *b, bool v300, u32 sec_sev, bool pa,
	 bool mem_guid)
{
	const guid_t mem = CPER_SEC_PLATFORM_MEM, pcie = CPER_SEC_PCIE;
	unsigned int len = v300 ? NVGRACE_GHES_ENTRY_LEN_V300 :
				  NVGRACE_GHES_ENTRY_LEN;
	struct nvgrace_ghes_entry *e;
	u8 *payload = (u8 *)&b->mem;

	memset(b, 0, sizeof(*b));
	e = (struct nvgrace_ghes_entry *)(payload - len);
	memcpy(e->section_type, mem_guid ? &mem : &pcie, sizeof(e->section_type));
	e->error_severity = sec_sev;
	e->revision = v300 ? 0x300 : 0x201;
	e->error_data_length = sizeof(b->mem);
	b->mem.validation_bits = pa ? CPER_MEM_VALID_PA : 0;
	b->mem.physical_addr = 0x8000000000ULL;
	return &b->mem;
}

static bool tst_poisons(struct tst_ghes_block *b, bool record_lost, bool v300,
			u32 sec_sev, bool pa, bool mem_guid)
{
	return nvgrace_ghes_mem_poisons(record_lost,
					tst_ghes(b, v300, sec_sev, pa, mem_guid));
}

/* The GHES filter reads the section's severity, not only the record's. */
static void poison_ghes_filter(struct kunit *test)
{
	struct tst_ghes_block *b;
	int v;

	b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (v = 0; v < 2; v++) {
		/* Record and section lost: poison. */
		KUNIT_EXPECT_TRUE(test, tst_poisons(b, true, v, CPER_SEV_RECOVERABLE,
						    true, true));
		KUNIT_EXPECT_TRUE(test, tst_poisons(b, true, v, CPER_SEV_FATAL,
						    true, true));
		/* A corrected section in an uncorrected record: not. */
		KUNIT_EXPECT_FALSE(test, tst_poisons(b, true, v, CPER_SEV_CORRECTED,
						     true, true));
		KUNIT_EXPECT_FALSE(test, tst_poisons(b, true, v,
						     CPER_SEV_INFORMATIONAL,
						     true, true));
		/* A corrected record: not. */
		KUNIT_EXPECT_FALSE(test, tst_poisons(b, false, v,
						     CPER_SEV_RECOVERABLE,
						     true, true));
		/* No physical address: not. */
		KUNIT_EXPECT_FALSE(test, tst_poisons(b, true, v,
						     CPER_SEV_RECOVERABLE,
						     false, true));
		/* No memory-section header in front of the payload: not. */
		KUNIT_EXPECT_FALSE(test, tst_poisons(b, true, v,
						     CPER_SEV_RECOVERABLE,
						     true, false));
	}
}

#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
/* Ranges are registered with the kernel too: its registry refuses overlaps. */
static void poison_native_overlap(struct kunit *test)
{
	struct pfn_address_space other = { };
	struct nvgrace_pfn_space *a = tst_new(test);

	other.node.start = 0x80000;
	other.node.last = 0x80fff;
	other.mapping = &tst_mapping;
	other.pfn_to_vma_pgoff = tst_pgoff;
	KUNIT_ASSERT_EQ(test, register_pfn_address_space(&other), 0);
	tst_space(a, 0x80800, 0x81fff);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), -EBUSY);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x81000));
	unregister_pfn_address_space(&other);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(a), 0);
	/* And the kernel now refuses a range overlapping ours. */
	KUNIT_EXPECT_EQ(test, register_pfn_address_space(&other), -EBUSY);
	nvgrace_poison_unregister(a);
}
#endif

static struct kunit_case nvgrace_poison_cases[] = {
	KUNIT_CASE(poison_register_lookup),
	KUNIT_CASE(poison_register_overlap),
	KUNIT_CASE(poison_register_bad_input),
	KUNIT_CASE(poison_register_many),
	KUNIT_CASE(poison_report_check),
	KUNIT_CASE(poison_report_many),
	KUNIT_CASE(poison_keep_clear),
	KUNIT_CASE(poison_bound),
	KUNIT_CASE(poison_ghes_filter),
#ifdef HAVE_REGISTER_PFN_ADDRESS_SPACE
	KUNIT_CASE(poison_native_overlap),
#endif
	{}
};

static struct kunit_suite nvgrace_poison_suite = {
	.name = "nvgrace-poison-registry",
	.suite_init = tst_suite_init,
	.test_cases = nvgrace_poison_cases,
};

kunit_test_suite(nvgrace_poison_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for nvgrace-poison");
