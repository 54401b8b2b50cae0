// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_CLEANUP_GUARD: <linux/cleanup.h> scope-based guard()/scoped_guard()
 * with a mutex guard class.
 * Added in v6.5 by "locking: Introduce __cleanup() based
 * infrastructure"; Debian 6.1 carries it as a stable backport, hence a probe.
 */
#include <linux/cleanup.h>
#include <linux/mutex.h>

static int probe(struct mutex *lock) __maybe_unused;
static int probe(struct mutex *lock)
{
	guard(mutex)(lock);
	return 0;
}
