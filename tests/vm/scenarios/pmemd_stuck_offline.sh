#!/bin/sh
# Offline-memory of a block the kernel cannot empty ends (issue 15 item 4).
# A helper (guest/helpers/pin_pages.c) pins one user page in a block of a
# system-ram device (vmsplice into a pipe it keeps open): the kernel's
# offline_pages() then retries migration for ever ("migrating pfn ...
# failed"). pmemd must answer busy within its deadline naming that block,
# leave every block online, keep serving reads and other changes meanwhile,
# and stop promptly on SIGTERM in the middle of such an offline; the next
# start finds the memory online and no intent left. Once the page is
# released the same offline goes through. Last, disabling a devdax namespace
# that a process maps with a page pinned (guest/helpers/pin_dax.c) is busy
# naming the process, and works once it is gone.
#
# vm: machine=nvdimm pmem=2G needs=pmemd timeout=400

# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

state=/var/lib/pmemd
journal=$state/intents.json
# What docs/api.md promises (2 s) plus what TCG and the rollback add.
answer_limit=15

# elapsed_ms SINCE: milliseconds since SINCE (an uptime_s reading).
elapsed_ms() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

all_online() {
	jvars d "$(daxctl_json -d dax0.0)" 'list | .[0]'
	expect_eq "$1: daxctl online blocks of dax0.0" "$d_online_memblocks" "$d_total_memblocks"
	for b in $(jqr "$(pmemctl_json list -M)" '.memory_blocks[] | select(.dax_device == "dax0.0") | .id'); do
		s=$(cat /sys/devices/system/memory/memory"$b"/state)
		[ "$s" = online ] || fail "$1: memory$b is $s, not online"
	done
	info "$1: every block of dax0.0 is online (sysfs)"
}

pmemd_start "$state"

step "a 1G devdax namespace as system-ram, onlined movable"
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m devdax -s 1G -a 2M --json >/dev/null
run pmemctl --socket "$PMEMD_SOCK" reconfigure-device dax0.0 --mode system-ram --json >/dev/null
jvars m "$(pmemctl_json list -M)" '{bs: .memory_block_size,
	start: ([.memory_blocks[] | select(.dax_device == "dax0.0") | .start] | min),
	end: ([.memory_blocks[] | select(.dax_device == "dax0.0") | .start + .size] | max),
	node: ([.memory_blocks[] | select(.dax_device == "dax0.0") | .node] | first),
	n: ([.memory_blocks[] | select(.dax_device == "dax0.0")] | length)}'
info "dax0.0: $m_n blocks in [$m_start, $m_end), node $m_node, block size $m_bs"
all_online "before"

step "pin one user page in a block of dax0.0"
pin_pages "$m_start" "$m_end" "$m_bs" "$m_node" >/tmp/pin.out 2>/tmp/pin.err &
pin_pid=$!
wait_for 120 "pin_pages to pin a page" grep -q pinned /tmp/pin.out
stuck=$(sed -n 's/^pinned block=\([0-9]*\).*/\1/p' /tmp/pin.out)
info "pin_pages (pid $pin_pid): $(cat /tmp/pin.out)"

step "offline-memory answers busy within the deadline; reads and other changes go on"
t0=$(uptime_s)
pmemctl --socket "$PMEMD_SOCK" offline-memory dax0.0 --json >/tmp/off.out 2>/tmp/off.err &
off_pid=$!
sleep 0.3
t1=$(uptime_s)
run pmemctl --socket "$PMEMD_SOCK" list -M --json >/dev/null
# Under TCG the kernel's migration loop (and its page dumps on the serial
# console) takes most of the one CPU, so this is slow but not blocked.
info "list answered in $(elapsed_ms "$t1") ms during the stuck offline"
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m fsdax -s 256M --dry-run --json >/dev/null
other=$(run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m fsdax -s 256M --json)
other_dev=$(jqr "$other" .dev)
info "create-namespace of $other_dev done $(elapsed_ms "$t1") ms after the offline started waiting"
off_rc=0
wait "$off_pid" || off_rc=$?
took=$(elapsed_ms "$t0")
info "offline-memory: status $off_rc after $took ms: $(cat /tmp/off.err /tmp/off.out)"
[ "$off_rc" -ne 0 ] || fail "offline-memory succeeded although memory$stuck holds a pinned page"
[ "$took" -le $((answer_limit * 1000)) ] || fail "offline-memory took $took ms, more than ${answer_limit} s"
grep -q "memory block $stuck of dax0.0 did not go offline within 2000 ms" /tmp/off.err ||
	fail "the error does not name memory block $stuck and the deadline: $(cat /tmp/off.err)"
grep -q "Retry later" /tmp/off.err || fail "the error is not busy's (Retry later): $(cat /tmp/off.err)"
all_online "after the busy offline"
dmesg | grep -m 3 "migrating pfn\|memory offlining" >&2 || true
run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$other_dev" -f --json >/dev/null

step "SIGTERM in the middle of a stuck offline stops pmemd promptly"
pmemctl --socket "$PMEMD_SOCK" offline-memory dax0.0 --json >/tmp/off.out 2>/tmp/off.err &
off_pid=$!
sleep 0.5
t0=$(uptime_s)
kill -TERM "$pmemd_pid"
wait "$pmemd_pid" 2>/dev/null || true
took=$(elapsed_ms "$t0")
wait "$off_pid" 2>/dev/null || true
rm -f "$PMEMD_SOCK"
info "pmemd stopped $took ms after SIGTERM; pmemctl said: $(cat /tmp/off.err /tmp/off.out)"
[ "$took" -le $((answer_limit * 1000)) ] || fail "pmemd took $took ms to stop after SIGTERM"
pmemd_start "$state"
all_online "after the restart"
intents=$(jqr "$(cat "$journal" 2>/dev/null || echo '{"intents":[]}')" '.intents | length')
expect_eq "intents left in the journal" "$intents" 0

step "the page released, the same offline goes through"
kill "$pin_pid"
wait "$pin_pid" 2>/dev/null || true
r=$(pmemctl_json offline-memory dax0.0)
expect_eq "blocks offlined" "$(jqr "$r" '[.blocks[] | select(.to == "offline")] | length')" "$m_n"
run pmemctl --socket "$PMEMD_SOCK" reconfigure-device dax0.0 --mode devdax --json >/dev/null

step "disable-namespace while a process maps dax0.0 (a page pinned) is busy naming it"
# The kernel does not refuse to unbind a device-dax device a process maps,
# nor wait: on 6.1 it frees the page descriptors under the pinned page and
# oopses when the pipe is released (docs/memory-blocks.md). pmemd looks
# first (platform/device_users.h) and answers busy, at once.
pin_dax /dev/dax0.0 >/tmp/pin_dax.out 2>&1 &
pin_dax_pid=$!
wait_for 30 "pin_dax to pin a page of dax0.0" grep -q pinned /tmp/pin_dax.out
for op in "disable-namespace namespace0.0" "reconfigure-device dax0.0 --mode system-ram"; do
	# shellcheck disable=SC2086  # $op is the command and its arguments
	err=$(pmemctl_fails $op)
	info "$op: $err"
	case $err in
	*"/dev/dax0.0 is in use by pid $pin_dax_pid (pin_dax: mapped)"*) ;;
	*) fail "$op: the error does not name pin_dax (pid $pin_dax_pid) mapping /dev/dax0.0" ;;
	esac
done
kill "$pin_dax_pid"
wait "$pin_dax_pid" 2>/dev/null || true
run pmemctl --socket "$PMEMD_SOCK" disable-namespace namespace0.0 --json >/dev/null
dmesg | grep -q "BUG:" && fail "the kernel oopsed: $(dmesg | grep -A3 BUG:)"
run pmemctl --socket "$PMEMD_SOCK" destroy-namespace namespace0.0 -f --json >/dev/null
pmemd_stop
step "pmemd_stuck_offline passed"
