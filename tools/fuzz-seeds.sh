#!/usr/bin/env bash
# Regenerates tests/fuzz/seeds: one small real recording per micro-guest
# scenario (*.strec), and its records unwrapped from their zlib blocks
# (*.rec, "R:" + raw records: the fuzz target wraps them in a valid file so
# that mutations reach the records behind the checksums). Needs root, KVM.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fuzz/seeds
mkdir -p "$out"
for s in fault-churn sync-flip remap hugepage-dirtylog prefetch reuse; do
	./shadowtrace record -o "$out/$s.strec" \
		-c "tools/microguest/microguest -name guest=$s --vms 2 $s 8" >/dev/null 2>&1
done
python3 - "$out" <<'PY'
import glob, struct, sys, zlib
for path in glob.glob(sys.argv[1] + '/*.strec'):
    b = open(path, 'rb').read()
    off = 16 + struct.unpack('<I', b[12:16])[0] + 4	# magic, version, length, body, CRC
    raw = b''
    while off + 16 <= len(b):
        _, _, zlen, _ = struct.unpack('<IIII', b[off:off + 16])
        raw += zlib.decompress(b[off + 16:off + 16 + zlen])
        off += 16 + zlen
    open(path[:-len('.strec')] + '.rec', 'wb').write(b'R:' + raw)
PY
ls -l "$out"
