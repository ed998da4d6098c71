#!/bin/sh
# pmemd killed (SIGKILL) in the middle of multi-step operations on the real
# kernel, then restarted: it reconciles its intent journal to a clean state
# that ndctl agrees with (no half-created, disabled or zero-size namespace
# left; memory of an interrupted offline-memory online again). Then the
# namespaces pmemd created, with a caller's uuid and names, survive a guest
# reboot on the same NVDIMM backing file, as does pmemd's state directory.
#
# vm: machine=nvdimm pmem=2G boots=2 persist=yes needs=pmemd timeout=400

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

state=/persist/pmemd
journal=$state/intents.json
keep_uuid=5e1ec7ed-0000-4000-8000-00000000cafe
project='[list[] | {dev, name, mode, map, size, uuid, align, chardev, blockdev}] | sort_by(.dev)'

# clean WHEN: no debris that ndctl can see: no disabled namespace holding
# space (ndctl list -N -i), and no zero-size namespace among the configured
# ones (ndctl list -N; -i also shows the kernel's idle zero-size seeds, which
# are how it offers the next namespace, not debris). pmemd's journal holds
# no intent.
clean() {
	jvars k "$(printf '{"i":%s,"n":%s}' "$(ndctl_json -N -i)" "$(ndctl_json -N)")" '{
		debris: ([(.i | list[] | select(.state == "disabled" and .size > 0)), (.n | list[] | select(.size == 0))]
			| map(.dev) | join(" ")),
		all: ([.n | list[] | "\(.dev):\(.mode):\(.size)"] | join(" "))}'
	info "$1: ndctl list -N: ${k_all:-nothing}"
	expect_eq "$1: disabled or zero-size namespaces (ndctl)" "$k_debris" ""
	intents=$(jqr "$(cat "$journal" 2>/dev/null || echo '{"intents":[]}')" '.intents | length')
	expect_eq "$1: intents left in the journal" "$intents" 0
}

# kill_during OP...: runs `pmemctl OP` in the background, waits until pmemd
# has journaled the intent, lets it run DELAY seconds more, and kills pmemd
# with SIGKILL. Sets caught=yes when the operation had not finished then.
kill_during() {
	_delay=$1
	shift
	pmemctl --socket "$PMEMD_SOCK" "$@" --json >/tmp/op.out 2>&1 &
	_op=$!
	_i=0
	until grep -q '"op"' "$journal" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 400 ] || fail "pmemd never journaled $*"
		sleep 0.02
	done
	sleep "$_delay"
	caught=no
	grep -q '"op"' "$journal" && caught=yes
	# pmemd must still be running: it is this script that kills it.
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd died by itself during '$*' (a crash: see the console and its log)"
	kill -9 "$pmemd_pid"
	wait "$pmemd_pid" 2>/dev/null || true
	wait "$_op" 2>/dev/null || true
	rm -f "$PMEMD_SOCK"
	info "killed pmemd ${_delay}s into '$*': operation still running: $caught; pmemctl said: $(cat /tmp/op.out)"
	info "left behind: $(ndctl list -N -i 2>&1 | tr -d '\n\t ')"
}

case $VM_BOOT in
1)
	step "a half-created namespace and its journaled intent, made by hand"
	# What a crash between 'size' and the pfn claim leaves: a disabled
	# namespace with a uuid and a size, and the intent pmemd wrote first.
	mkdir -p "$state"
	half=0badc0de-0000-4000-8000-000000000001
	seed=$(cat /sys/bus/nd/devices/region0/namespace_seed)
	echo "$half" >/sys/bus/nd/devices/"$seed"/uuid
	echo $((256 * MiB)) >/sys/bus/nd/devices/"$seed"/size
	jvars h "$(ndctl_json -N -i)" '{n: (list | length), state: (list | .[0].state)}'
	expect_eq "ndctl sees the half-created $seed" "$h_n/$h_state" "1/disabled"
	printf '{"version":1,"intents":[{"id":1,"op":"create-namespace","region":"region0","args":{"uuid":"%s","mode":"fsdax","spec":{"region":"region0","mode":"fsdax","name":"","uuid":"%s","size":%d}}}]}\n' \
		"$half" "$half" $((256 * MiB)) >"$journal"
	pmemd_start "$state"
	clean "after reconciling the hand-made intent"
	grep -q "removed the half-created $seed" "$PMEMD_LOG" || fail "pmemd's log does not say it removed $seed"

	step "a seed left with a uuid but no size, then create-namespace"
	# What SIGKILL between writing the uuid and the size leaves: an idle
	# namespace (not listed, nothing to reconcile) that keeps the uuid. The
	# kernel refuses to rename it (EBUSY), so pmemd must clear it first; a
	# failed create used to crash pmemd in its undo (use after free).
	# The namespace a create would configure (as ndctl picks it: namespaceN.0
	# when idle, else the region's seed).
	plan=$(pmemctl_json create-namespace -r 0 -m fsdax -s 256M --dry-run)
	jvars p "$plan" .plan
	seed=$p_dev
	echo 0badc0de-0000-4000-8000-000000000002 >/sys/bus/nd/devices/"$seed"/uuid
	ns=$(run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m fsdax -s 256M --json)
	jvars c "$ns" .
	expect_eq "created on the seed that held a stale uuid" "$c_dev/$c_mode" "$seed/fsdax"
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd died"
	grep -q "$seed: cleared the uuid 0badc0de-0000-4000-8000-000000000002" "$PMEMD_LOG" ||
		fail "pmemd's log does not say it cleared the stale uuid of $seed"
	run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$seed" -f --json >/dev/null
	clean "after creating on the stale seed"

	step "SIGKILL during create-namespace (1G fsdax), restart"
	for delay in 0 0.4; do
		kill_during "$delay" create-namespace -r 0 -m fsdax -s 1G
		pmemd_start "$state"
		clean "after create-namespace killed at +${delay}s"
		# A plain assignment, so that a failed list stops the scenario.
		l=$(pmemctl_json list -N)
		for ns in $(jqr "$l" '.namespaces[].dev'); do
			run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$ns" -f --json >/dev/null
		done
	done

	step "SIGKILL during offline-memory, restart: the memory is online again"
	run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m devdax -s 1G -a 2M --json >/dev/null
	run pmemctl --socket "$PMEMD_SOCK" reconfigure-device dax0.0 --mode system-ram --json >/dev/null
	# The kill lands inside the operation by construction, not after a
	# delay: pmemd kills itself as its third block starts going offline.
	pmemd_stop
	export PMEMD_TEST_CRASH_AT_EVENT=memory_block:going-offline:3
	pmemd_start "$state"
	unset PMEMD_TEST_CRASH_AT_EVENT
	pmemctl --socket "$PMEMD_SOCK" offline-memory dax0.0 --json >/tmp/op.out 2>&1 &&
		fail "offline-memory finished although pmemd was to die in it: $(cat /tmp/op.out)"
	_rc=0
	wait "$pmemd_pid" 2>/dev/null || _rc=$?
	[ "$_rc" -eq 137 ] || fail "pmemd ended with status $_rc, not killed by its crash hook (137)"
	rm -f "$PMEMD_SOCK"
	info "pmemd killed itself in offline-memory; left behind: $(ndctl list -N -i 2>&1 | tr -d '\n\t ')"
	pmemd_start "$state"
	clean "after offline-memory killed"
	jvars d "$(daxctl_json -d dax0.0)" 'list | .[0]'
	expect_eq "daxctl: dax0.0 blocks online" "$d_online_memblocks" "$d_total_memblocks"
	run pmemctl --socket "$PMEMD_SOCK" offline-memory dax0.0 --json >/dev/null
	run pmemctl --socket "$PMEMD_SOCK" reconfigure-device dax0.0 --mode devdax --json >/dev/null
	run pmemctl --socket "$PMEMD_SOCK" destroy-namespace namespace0.0 -f --json >/dev/null 2>&1 ||
		run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$(jqr "$(pmemctl_json list -N)" '.namespaces[0].dev')" -f --json >/dev/null
	clean "after the kmem round trip"

	step "namespaces to keep across the reboot"
	run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m fsdax -s 512M --name keep-fsdax --uuid "$keep_uuid" --json >/dev/null
	run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m devdax -s 256M -a 2M --name keep-devdax --json >/dev/null
	jvars s "$(printf '{"p":%s,"nd":%s}' "$(pmemctl_json list -N)" "$(ndctl_json -N)")" '{
		p: (.p.namespaces | '"$project"' | tojson), nd: (.nd | '"$project"' | tojson),
		raw: ([.p.namespaces[] | select(.name == "keep-fsdax") | .raw_uuid] | join(" "))}'
	expect_eq "pmemd vs ndctl" "$s_p" "$s_nd"
	expect_eq "the caller's uuid is the label's" "$s_raw" "$keep_uuid"
	printf '%s\n' "$s_p" >/persist/pmemd-namespaces.json
	pmemd_stop
	;;
2)
	step "boot 2: pmemd finds the namespaces it created"
	[ -s /persist/pmemd-namespaces.json ] || fail "/persist/pmemd-namespaces.json from boot 1 is missing"
	pmemd_start "$state"
	clean "after the reboot"
	jvars s "$(printf '{"p":%s,"nd":%s}' "$(pmemctl_json list -N)" "$(ndctl_json -N)")" '{
		p: (.p.namespaces | '"$project"' | tojson), nd: (.nd | '"$project"' | tojson)}'
	expect_eq "pmemd after reboot = before" "$s_p" "$(cat /persist/pmemd-namespaces.json)"
	expect_eq "pmemd vs ndctl after reboot" "$s_p" "$s_nd"
	l=$(pmemctl_json list -N)
	for ns in $(jqr "$l" '.namespaces[].dev'); do
		run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$ns" -f --json >/dev/null
	done
	clean "after destroying them"
	pmemd_stop
	;;
*)
	fail "unexpected boot $VM_BOOT"
	;;
esac
step "pmemd_restart boot $VM_BOOT passed"
