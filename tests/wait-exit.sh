#!/bin/sh
# wait-exit.sh PID...: returns when every PID has exited (zombies count as exited).
for pid in "$@"; do
	while [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
		sleep 0.05
	done
done
