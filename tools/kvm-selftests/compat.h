/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Debian's 6.1 sources carry a backported dirty_log_test that uses a
 * later kernel's TEST_ASSERT_EQ(); test_util.h of 6.1 lacks it.
 */
#ifndef TEST_ASSERT_EQ
#define TEST_ASSERT_EQ(a, b) TEST_ASSERT((a) == (b), "%s == %s failed", #a, #b)
#endif
