#!/bin/sh
# pmemd's namespace and kmem operations on the real kernel (--platform
# ndctl), driven only through pmemctl and checked against ndctl, daxctl and
# sysfs in the same guest: a dry-run plan that equals what the kernel then
# creates (devdax, 1G alignment), devdax 2M, a named fsdax, sector mode, the
# whole inventory against ndctl/daxctl, a mode reconfiguration, devdax ->
# system-ram with every block online, offline and online again, back to
# devdax, a destroy refused while the memory is in use, and destroying
# everything gives the region back whole.
#
# vm: machine=nvdimm pmem=4G needs=pmemd timeout=400

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

# pmemd's list against ndctl/daxctl (lib.sh).
compare() {
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd (pid $pmemd_pid) is not running"
	compare_with_ndctl "$1" "$(pmemctl_json list)"
}

# blocks_of DAX: sets b_pmemd (pmemd's blocks of DAX as "id:state ..."),
# b_sysfs (the same blocks read from /sys) and b_n (how many).
blocks_of() {
	jvars b "$(pmemctl_json list --memory-blocks)" \
		'[.memory_blocks[] | select(.dax_device == "'"$1"'")] |
		{pmemd: (map("\(.id):\(.state)") | join(" ")), ids: (map(.id | tostring) | join(" ")), n: length}'
	b_sysfs=""
	for _id in $b_ids; do
		b_sysfs="$b_sysfs${b_sysfs:+ }$_id:$(cat /sys/devices/system/memory/memory"$_id"/state)"
	done
}

step "start pmemd on the ndctl platform, and pmemctl monitor on its event stream"
pmemd_start
# --since 0 replays from the daemon's ring: no race with the first change.
pmemctl --socket "$PMEMD_SOCK" monitor --json --since 0 --kind daemon,namespace,dax_device,memory_block \
	>/tmp/monitor.out 2>/tmp/monitor.err &
monitor_pid=$!
compare "empty"
jvars r0 "$(ndctl_json -R)" 'list | .[0]'

step "1G alignment where the kernel's first fit is not 1G-aligned is refused up front"
# With 256M taken at the start, the kernel would place the next namespace at
# 256M: its data could not start on a 1G boundary.
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m fsdax -s 256M --json >/dev/null
err=$(pmemctl_fails create-namespace -r 0 -m devdax -s 2G -a 1G --dry-run)
case $err in *"1073741824-byte boundary where the kernel allocates"*) info "ok: $err" ;;
*) fail "unexpected error: $err" ;; esac
run pmemctl --socket "$PMEMD_SOCK" destroy-namespace namespace0.0 -f --json >/dev/null

step "dry run: devdax 2G at 1G alignment, then the same for real"
plan=$(pmemctl_json create-namespace -r 0 -m devdax -s 2G -a 1G --dry-run)
ns=$(pmemctl_json create-namespace -r 0 -m devdax -s 2G -a 1G)
jvars x "$(printf '{"plan":%s,"ns":%s,"nd":%s}' "$plan" "$ns" "$(ndctl_json -N -n namespace0.0)")" '{
	plan_dev: .plan.plan.dev, plan_size: .plan.plan.size, plan_raw: .plan.plan.raw_size,
	plan_meta: .plan.plan.metadata_size, ns_dev: .ns.dev, ns_size: .ns.size, ns_raw: .ns.raw_size,
	nd_size: (.nd | list | .[0].size), nd_align: (.nd | list | .[0].align), nd_mode: (.nd | list | .[0].mode),
	nd_chardev: (.nd | list | .[0].chardev), ns_uuid: .ns.uuid, nd_uuid: (.nd | list | .[0].uuid)}'
expect_eq "planned device" "$x_plan_dev" namespace0.0
expect_eq "created device" "$x_ns_dev" namespace0.0
expect_eq "planned size = ndctl's size" "$x_plan_size" "$x_nd_size"
expect_eq "planned size = pmemd's size" "$x_plan_size" "$x_ns_size"
expect_eq "planned raw size" "$x_plan_raw" $((2 * GiB))
expect_eq "raw size" "$x_ns_raw" $((2 * GiB))
expect_eq "metadata + size = raw size" $((x_plan_meta + x_plan_size)) $((2 * GiB))
expect_eq "ndctl mode" "$x_nd_mode" devdax
expect_eq "ndctl align" "$x_nd_align" $((1 * GiB))
expect_eq "ndctl chardev" "$x_nd_chardev" dax0.0
expect_eq "uuid pmemd = ndctl" "$x_ns_uuid" "$x_nd_uuid"

step "devdax 1G at 2M alignment (for kmem), named fsdax, sector"
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m devdax -s 1G -a 2M --json >/dev/null
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r region0 -m fsdax -s 256M --name db --json >/dev/null
run pmemctl --socket "$PMEMD_SOCK" create-namespace -r 0 -m sector -s 256M --json >/dev/null
jvars x "$(ndctl_json -N)" '{
	modes: ([list[] | "\(.dev)=\(.mode)"] | sort | join(" ")),
	db: ([list[] | select(.name == "db") | .dev] | join(" ")),
	sector_size: ([list[] | select(.mode == "sector") | .sector_size] | join(" ")),
	fsdax_align: ([list[] | select(.mode == "fsdax") | .align] | join(" "))}'
expect_eq "ndctl modes" "$x_modes" "namespace0.0=devdax namespace0.1=devdax namespace0.2=fsdax namespace0.3=sector"
expect_eq "named namespace" "$x_db" namespace0.2
expect_eq "sector size" "$x_sector_size" 4096
expect_eq "fsdax align" "$x_fsdax_align" $((2 * MiB))
compare "four namespaces"

step "reconfigure the named fsdax namespace to devdax"
pmemctl_fails reconfigure-namespace namespace0.2 -m devdax >/dev/null
plan=$(pmemctl_json reconfigure-namespace namespace0.2 -m devdax --dry-run)
ns=$(pmemctl_json reconfigure-namespace namespace0.2 -m devdax -f)
jvars x "$(printf '{"plan":%s,"ns":%s,"nd":%s}' "$plan" "$ns" "$(ndctl_json -N -n namespace0.2)")" '{
	plan_size: .plan.plan.size, ns_size: .ns.size, nd: (.nd | list | .[0] | "\(.mode) \(.size) \(.name) \(.chardev)")}'
expect_eq "reconfigured (ndctl)" "$x_nd" "devdax $x_plan_size db dax0.2"
expect_eq "reconfigured (pmemd)" "$x_ns_size" "$x_plan_size"
compare "after reconfigure"

step "dax0.1 -> system-ram: every block online"
t0=$(uptime_s)
dev=$(pmemctl_json reconfigure-device dax0.1 --mode system-ram)
info "reconfigure-device took $(uptime_s) - $t0 s"
jvars d "$(printf '{"p":%s,"d":%s}' "$dev" "$(daxctl_json -d dax0.1)")" '{
	mode: (.d | list | .[0].mode), online: (.d | list | .[0].online_memblocks),
	total: (.d | list | .[0].total_memblocks), p_online: .p.online_memblocks, p_mode: .p.mode}'
expect_eq "daxctl mode" "$d_mode" system-ram
expect_eq "pmemd mode" "$d_p_mode" system-ram
expect_ge "blocks" "$d_total" 1
expect_eq "daxctl online blocks" "$d_online" "$d_total"
expect_eq "pmemd online blocks" "$d_p_online" "$d_total"
blocks_of dax0.1
expect_eq "pmemd's blocks of dax0.1" "$b_n" "$d_total"
expect_eq "block states (pmemd vs /sys)" "$b_pmemd" "$b_sysfs"
case " $b_sysfs" in *":offline"*) fail "a block is offline: $b_sysfs" ;; esac

step "a namespace whose memory is online cannot be destroyed"
err=$(pmemctl_fails destroy-namespace namespace0.1 -f)
case $err in *"system-ram"*) info "ok: $err" ;; *) fail "unexpected error: $err" ;; esac

step "offline-memory, online-memory, offline-memory"
r=$(pmemctl_json offline-memory dax0.1)
jvars r "$r" '{rolled_back, to: ([.blocks[].to] | unique | join(" "))}'
expect_eq "offline: rolled back" "$r_rolled_back" false
expect_eq "offline: every block's new state" "$r_to" offline
blocks_of dax0.1
expect_eq "block states after offline (pmemd vs /sys)" "$b_pmemd" "$b_sysfs"
case " $b_sysfs" in *":online"*) fail "a block is still online: $b_sysfs" ;; esac
jvars d "$(daxctl_json -d dax0.1)" 'list | .[0]'
expect_eq "daxctl online blocks after offline" "$d_online_memblocks" 0
r=$(pmemctl_json online-memory dax0.1)
jvars r "$r" '{rolled_back, to: ([.blocks[].to] | unique | join(" "))}'
expect_eq "online: every block's new state" "$r_to" online
blocks_of dax0.1
expect_eq "block states after online (pmemd vs /sys)" "$b_pmemd" "$b_sysfs"
case " $b_sysfs" in *":offline"*) fail "a block is still offline: $b_sysfs" ;; esac
run pmemctl --socket "$PMEMD_SOCK" offline-memory dax0.1 --json >/dev/null

step "dax0.1 back to devdax"
dev=$(pmemctl_json reconfigure-device dax0.1 --mode devdax)
jvars d "$(printf '{"p":%s,"d":%s}' "$dev" "$(daxctl_json -d dax0.1)")" '{mode: (.d | list | .[0].mode), p_mode: .p.mode}'
expect_eq "daxctl mode" "$d_mode" devdax
expect_eq "pmemd mode" "$d_p_mode" devdax
blocks_of dax0.1
expect_eq "dax0.1's memory blocks are gone" "$b_n" 0
compare "after kmem"

step "destroy everything"
for ns in namespace0.0 namespace0.1 namespace0.2 namespace0.3; do
	run pmemctl --socket "$PMEMD_SOCK" destroy-namespace "$ns" -f --json >/dev/null
done
jvars r "$(printf '{"r":%s,"n":%s}' "$(ndctl_json -R)" "$(ndctl_json -N)")" '{
	avail: (.r | list | .[0].available_size), size: (.r | list | .[0].size), n: (.n | list | length)}'
expect_eq "namespaces left (ndctl)" "$r_n" 0
expect_eq "available size as at the start" "$r_avail" "$r0_available_size"
compare "after destroy"

pmemd_stop

step "pmemctl monitor saw it all, in order, and ended with the daemon"
mon_rc=0
wait "$monitor_pid" || mon_rc=$?
expect_eq "pmemctl monitor's exit status after the daemon stopped" "$mon_rc" 0
info "monitor: $(wc -l </tmp/monitor.out) events; stderr: $(cat /tmp/monitor.err)"
jvars m "$(jq -cs '{
	increasing: ([.[].seq] as $s | $s == ($s | sort) and ($s | length) == ($s | unique | length)),
	last: (.[-1] | "\(.kind) \(.to)"),
	dax_seq: ([.[] | select(.kind == "dax_device" and .object == "dax0.1" and .to == "system-ram")][0].seq // 0),
	dax_by: ([.[] | select(.kind == "dax_device" and .object == "dax0.1" and .to == "system-ram")][0].request.method),
	ns_before: ([.[] | select(.kind == "namespace" and .from == "" and .to == "devdax")] | map(.seq) | min // 0)
}' /tmp/monitor.out)" '.'
expect_eq "monitor: sequence numbers strictly increasing" "$m_increasing" true
expect_eq "monitor: the last event" "$m_last" "daemon stopping"
expect_eq "monitor: dax0.1 -> system-ram caused by" "$m_dax_by" reconfigure-device
[ "$m_ns_before" -gt 0 ] && [ "$m_ns_before" -lt "$m_dax_seq" ] || fail "monitor: no devdax namespace created before dax0.1 went system-ram"
blocks_ok=$(jq -s --argjson d "$m_dax_seq" '[.[] | select(.kind == "memory_block" and .detail.dax_device == "dax0.1" and .to == "online") | .seq] | length > 0 and all(. > $d)' /tmp/monitor.out)
expect_eq "monitor: dax0.1's blocks online after its system-ram event" "$blocks_ok" true
step "pmemd_namespaces passed"
