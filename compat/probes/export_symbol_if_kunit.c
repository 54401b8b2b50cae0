// SPDX-License-Identifier: GPL-2.0-only
/*
 * HAVE_EXPORT_SYMBOL_IF_KUNIT: <kunit/visibility.h> lets a module export
 * static helpers only to KUnit test modules.
 * Added by "kunit: add macro to allow conditionally exposing static symbols
 * to tests" (v6.2 cycle; Debian's 6.1 headers have it too).
 */
#include <kunit/visibility.h>

#ifndef EXPORT_SYMBOL_IF_KUNIT
#error "no EXPORT_SYMBOL_IF_KUNIT"
#endif
