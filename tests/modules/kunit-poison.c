// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the nvgrace-poison range registry, through its exported
 * API. Built only for kernels with CONFIG_KUNIT (the custom test kernels).
 */

#include <kunit/test.h>
#include <linux/module.h>

#include "nvgrace-poison.h"

static int tst_pgoff(struct vm_area_struct *vma, unsigned long pfn,
		     pgoff_t *pgoff)
{
	return -EINVAL;
}

/* A dummy mapping: the registry stores the pointer and never follows it. */
static struct address_space tst_mapping;

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
	struct nvgrace_pfn_space a;

	tst_space(&a, 0x1000, 0x1fff);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(&a), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x1000));
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x1fff));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0xfff));
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x2000));
	nvgrace_poison_unregister(&a);
	KUNIT_EXPECT_FALSE(test, nvgrace_poison_pfn_registered(0x1800));
}

static void poison_register_overlap(struct kunit *test)
{
	struct nvgrace_pfn_space a, b, c, d;

	tst_space(&a, 0x1000, 0x1fff);
	tst_space(&b, 0x1fff, 0x2fff);	/* shares the last PFN */
	tst_space(&c, 0x0, 0x5000);		/* covers it whole */
	tst_space(&d, 0x2000, 0x2fff);	/* adjacent: fine */
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(&a), 0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&b), -EBUSY);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&c), -EBUSY);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&d), 0);
	KUNIT_EXPECT_TRUE(test, nvgrace_poison_pfn_registered(0x2000));
	nvgrace_poison_unregister(&d);
	nvgrace_poison_unregister(&a);
}

static void poison_register_bad_input(struct kunit *test)
{
	struct nvgrace_pfn_space a;

	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(NULL), -EINVAL);
	tst_space(&a, 0x2000, 0x1000);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&a), -EINVAL);
	tst_space(&a, 0x1000, 0x2000);
	a.mapping = NULL;
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&a), -EINVAL);
	tst_space(&a, 0x1000, 0x2000);
	a.pfn_to_vma_pgoff = NULL;
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&a), -EINVAL);

	/* Double registration is refused, double unregistration harmless. */
	tst_space(&a, 0x1000, 0x2000);
	KUNIT_ASSERT_EQ(test, nvgrace_poison_register(&a), 0);
	KUNIT_EXPECT_EQ(test, nvgrace_poison_register(&a), -EINVAL);
	nvgrace_poison_unregister(&a);
	nvgrace_poison_unregister(&a);
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

static struct kunit_case nvgrace_poison_cases[] = {
	KUNIT_CASE(poison_register_lookup),
	KUNIT_CASE(poison_register_overlap),
	KUNIT_CASE(poison_register_bad_input),
	KUNIT_CASE(poison_register_many),
	{}
};

static struct kunit_suite nvgrace_poison_suite = {
	.name = "nvgrace-poison-registry",
	.test_cases = nvgrace_poison_cases,
};

kunit_test_suite(nvgrace_poison_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for nvgrace-poison");
