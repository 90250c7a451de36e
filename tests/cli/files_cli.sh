#!/usr/bin/env bash
# files_cli.sh TCONV — hostile files and paths given to `tconv train` and `tconv inspect`:
# divergence stops with the last good checkpoint kept, an existing checkpoint is replaced
# only with --force, --resume refuses another --batch or --limit and says which learning
# rate it uses, outputs that are not regular files (FIFO, directory, symbolic link, device)
# are refused and left as they were, long paths work or are refused (never cut), a failed
# PNG still saves the checkpoint, out-of-range checkpoint values and hostile keys are
# refused by name; `tconv conform` refuses a directory, an empty file and a doubled attr.
# Never touches a system path: every target lives in a temp directory.
set -euo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_files_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
base=(--synthetic --limit 640 --batch 32 --epochs 1 --threads 1)

# run EXPECTED_RC NEEDLE ARGS...: runs tconv, checks the exit status and that stderr has NEEDLE.
run() {
  local want=$1 needle=$2 rc=0
  shift 2
  "$tconv" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = "$want" ] || fail "tconv $*: exit $rc, expected $want: $(cat "$work/err")"
  grep -qF -- "$needle" "$work/err" || fail "tconv $*: stderr lacks '$needle': $(cat "$work/err")"
}
step_of() { "$tconv" inspect "$1" | awk '$1 == "meta/step" {print $2}'; }

# 1. divergence: a NaN loss stops the run (exit 1) naming the step; the checkpoint of step 10
#    stays, finite; with no checkpoint yet, none is written.
run 1 "loss is nan at step" train "${base[@]}" --lr 1e6 --checkpoint-every 5 --out "$work/nan"
grep -qF "the checkpoint '$work/nan/checkpoint.npz' of step 10 is kept" "$work/err" ||
  fail "divergence message: $(cat "$work/err")"
[ "$(step_of "$work/nan/checkpoint.npz")" = 10 ] || fail "the kept checkpoint is not step 10"
# (the first line names the file, whose random temp name may spell "nan")
"$tconv" inspect "$work/nan/checkpoint.npz" | tail -n +2 | grep -qwiE "nan|-?inf" &&
  fail "NaN in the checkpoint"
run 1 "no checkpoint was saved by this run" train "${base[@]}" --lr 1e6 --checkpoint-every 0 \
  --out "$work/nan0"
[ -e "$work/nan0/checkpoint.npz" ] && fail "a diverged run wrote a checkpoint"
ok "a NaN loss stops with exit 1, the step and the last good checkpoint kept"

# 2. an existing checkpoint: refused without --resume/--force (unchanged), replaced with --force
"$tconv" train "${base[@]}" --max-steps 3 --out "$work/a" >/dev/null 2>&1
cp "$work/a/checkpoint.npz" "$work/a.copy"
run 2 "pass --resume to continue it, or --force" train "${base[@]}" --out "$work/a"
cmp -s "$work/a/checkpoint.npz" "$work/a.copy" || fail "refused run changed the checkpoint"
run 2 "give one of them" train "${base[@]}" --out "$work/a" --resume --force
"$tconv" train "${base[@]}" --max-steps 2 --out "$work/a" --force >/dev/null 2>&1
[ "$(step_of "$work/a/checkpoint.npz")" = 2 ] || fail "--force did not start afresh"
ok "an existing checkpoint needs --resume or --force"

# 3. --resume: another --batch or --limit is refused; the learning rate used is printed
"$tconv" train "${base[@]}" --max-steps 13 --out "$work/r" --force >/dev/null 2>&1
run 2 "was trained with --batch 32, this run has --batch 16" train "${base[@]/32/16}" \
  --out "$work/r" --resume
run 2 "put that step in epoch 2" train "${base[@]/640/320}" --out "$work/r" --resume
"$tconv" train "${base[@]}" --max-steps 14 --out "$work/r" --resume 2>/dev/null |
  grep -qF "learning rate 0.001 from the checkpoint" || fail "resume does not say its lr"
"$tconv" train "${base[@]}" --max-steps 15 --out "$work/r" --resume --lr 0.0005 2>/dev/null |
  grep -qF "learning rate 0.0005 from --lr (the checkpoint had 0.001)" || fail "--lr on resume"
ok "--resume refuses another --batch or --limit and prints its learning rate"

# 4. outputs that are not regular files are refused and stay what they were
mkfifo "$work/fifo"
run 2 "is a FIFO" train "${base[@]}" --out "$work/o4" --checkpoint "$work/fifo"
[ -p "$work/fifo" ] || fail "the FIFO was replaced"
mkdir "$work/dir.npz"
run 2 "is a directory" train "${base[@]}" --out "$work/o4" --checkpoint "$work/dir.npz"
echo keep >"$work/target"
ln -s "$work/target" "$work/link.npz"
run 2 "is a symbolic link" train "${base[@]}" --out "$work/o4" --checkpoint "$work/link.npz"
[ -L "$work/link.npz" ] && [ "$(cat "$work/target")" = keep ] || fail "the symlink changed"
mkdir -p "$work/o5"
mkfifo "$work/o5/reconstructions.png"
run 2 "reconstructions.png' is a FIFO" train "${base[@]}" --out "$work/o5"
if mknod "$work/null" c 1 3 2>/dev/null; then
  run 2 "is a character device" train "${base[@]}" --out "$work/o4" --checkpoint "$work/null"
  [ -c "$work/null" ] || fail "the device node was replaced"
  echo "   (a character device made with mknod in the temp dir was refused too)"
fi
ok "a FIFO, a directory, a symbolic link and a device are refused as outputs, unchanged"

# 5. long paths: 1100 bytes (over the old 1024-byte buffer) land exactly; 5000 are refused
long="$work"
while [ ${#long} -lt 1100 ]; do long="$long/$(printf 'd%.0s' $(seq 1 200))"; done
"$tconv" train "${base[@]}" --max-steps 1 --out "$work/o6" --checkpoint "$long/c.npz" \
  >/dev/null 2>&1 || fail "a ${#long}-byte checkpoint path failed"
[ -f "$long/c.npz" ] || fail "the checkpoint is not at its ${#long}-byte path"
huge="$work/$(printf 'x%.0s' $(seq 1 5000))"
run 2 "the limit is 4095" train "${base[@]}" --out "$work/o7" --checkpoint "$huge/c.npz"
run 2 "the limit is 4095" train "${base[@]}" --out "$huge"
[ -e "$work/o7" ] && fail "a refused run made its --out directory"
ok "a ${#long}-byte path works, a 5000-byte path is refused before anything is made"

# 6. a PNG that cannot be written (a FIFO appears after the start) still saves the checkpoint
"$tconv" train "${base[@]}" --limit 1280 --out "$work/p" >"$work/p.out" 2>"$work/p.err" &
pid=$!
for _ in $(seq 1 600); do grep -q "tconv train:" "$work/p.out" 2>/dev/null && break; sleep 0.05; done
mkfifo "$work/p/reconstructions.png"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 1 ] || fail "PNG failure: exit $rc, expected 1: $(cat "$work/p.err")"
grep -qF "reconstructions.png' is a FIFO" "$work/p.err" || fail "PNG failure: $(cat "$work/p.err")"
grep -qF "the run stopped after saving the checkpoint" "$work/p.err" || fail "PNG: no save note"
[ "$(step_of "$work/p/checkpoint.npz")" = 40 ] || fail "PNG failure: checkpoint not at step 40"
ok "a failed PNG stops the run with exit 1 after its checkpoint was saved"

# 7. out-of-range checkpoint values and a hostile key are refused by name
/usr/bin/python3 - "$work/a/checkpoint.npz" "$work" <<'PY'
import sys
import numpy as np
f = dict(np.load(sys.argv[1]))
bad = dict(f); bad["meta/step"] = np.int64(-5)
np.savez(sys.argv[2] + "/negstep.npz", **bad)
bad = dict(f); bad["meta/step"] = np.int64(-2**63)
np.savez(sys.argv[2] + "/minstep.npz", **bad)
bad = dict(f); bad["meta/optimizer/optimizer/lr"] = np.float32("nan")
np.savez(sys.argv[2] + "/nanlr.npz", **bad)
bad = dict(f); bad["evil\x1b[2J"] = np.float32(1)
np.savez(sys.argv[2] + "/evil.npz", **bad)
PY
run 1 "meta/step is -5, expected >= 0" train "${base[@]}" --out "$work/a" --resume \
  --checkpoint "$work/negstep.npz"
run 1 "meta/step is -9223372036854775808" train "${base[@]}" --out "$work/a" --resume \
  --checkpoint "$work/minstep.npz"
run 1 "meta/optimizer/optimizer/lr is nan" train "${base[@]}" --out "$work/a" --resume \
  --checkpoint "$work/nanlr.npz"
run 1 "'evil\\x1b[2J.npy': key" inspect "$work/evil.npz"
grep -q $'\x1b' "$work/err" "$work/out" && fail "a raw escape byte reached the terminal"
ok "negative/INT64_MIN step, NaN lr and a key with an escape byte are refused by name"

# 8. tconv conform: a directory or a file without cases is an error, not "0 passed"
run 1 "a directory, not a case file" conform "$work"
printf '# no cases\n' >"$work/empty.case"
run 1 "empty.case: no cases in the file" conform "$work/empty.case"
printf 'case a\nattr kind layer\nattr kind layer\nend\n' >"$work/dup.case"
run 1 "dup.case:3: attr 'kind' given twice in case 'a' (first at line 2)" conform "$work/dup.case"
ok "conform refuses a directory, a file without cases and a doubled attr"

echo "files_cli: $passed passed, 0 failed"
