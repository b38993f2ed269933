// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "trace/verifier_log.h"

/* The verifier's closing statistics, not its reason. */
static bool is_statistics(const char *line)
{
	return !strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17) ||
	       !strncmp(line, "stack depth", 11);
}

bool verifier_reason(const char *msg, char *out, size_t outlen)
{
	const char *name = strstr(msg, "prog '");
	const char *log = strstr(msg, "-- BEGIN PROG LOAD LOG --\n");
	const char *end = log ? strstr(log, "-- END PROG LOAD LOG --") : NULL;
	const char *reason = NULL;
	int reason_len = 0;

	if (!name || !end || name > log)
		return false;
	name += strlen("prog '");
	for (const char *line = strchr(log, '\n') + 1; line < end;) {
		int len = (int)strcspn(line, "\n");

		if (len && !is_statistics(line)) {
			reason = line;
			reason_len = len;
		}
		if (!line[len])
			break;
		line += len + 1;
	}
	if (!reason)
		return false;
	snprintf(out, outlen, "%.*s: %.*s", (int)strcspn(name, "'"), name, reason_len, reason);
	return true;
}
