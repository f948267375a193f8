#!/usr/bin/env bash
# Files and pipes go through the same read()/write() hooks as sockets:
# under the shim they must behave exactly as without it.
source "$(dirname "$0")/lib.sh"

head -c 3000000 /dev/urandom > "$WORK/input.bin"
pipeline() {
	local name=$1
	shift
	# Pipes between processes, a file written with write() and read back,
	# and python's own file and pipe I/O.
	"$@" sh -c 'cat "$1" | gzip -1 | gunzip | tee "$2.copy" | sha256sum' _ "$WORK/input.bin" "$WORK/$name"
	"$@" /usr/bin/python3 -c '
import hashlib, os, subprocess, sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as f:
    for i in range(0, len(data), 4096):
        f.write(data[i:i + 4096])
out = subprocess.run(["cat", sys.argv[2]], capture_output=True).stdout
r, w = os.pipe()
os.write(w, b"pipe-check"); os.close(w)
print(hashlib.sha256(out).hexdigest(), os.read(r, 100).decode())
' "$WORK/input.bin" "$WORK/$name.py"
}
pipeline plain env > "$WORK/plain.txt"
pipeline shimmed "$BUILD/sockpool" -- > "$WORK/shimmed.txt"
cmp "$WORK/plain.txt" "$WORK/shimmed.txt" || fail "outputs differ: $(diff "$WORK/plain.txt" "$WORK/shimmed.txt")"
cmp "$WORK/input.bin" "$WORK/shimmed.copy" || fail "file written under the shim differs"
cmp "$WORK/input.bin" "$WORK/shimmed.py" || fail "file written by python under the shim differs"
want=$(sha256sum < "$WORK/input.bin" | cut -d' ' -f1)
grep -q "$want" "$WORK/shimmed.txt" || fail "checksum under the shim is wrong"
echo "ok: files and pipes behave identically"
