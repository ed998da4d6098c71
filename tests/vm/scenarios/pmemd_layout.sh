#!/bin/sh
# Declarative layouts on the real kernel (docs/layouts.md), checked against
# ndctl, daxctl and sysfs: a dry run that changes nothing; apply of a layout
# with fsdax and devdax namespaces, a system-ram device online movable, a
# pool on a devdax with its blocks online and a lease; apply again and apply
# of export-layout plan nothing; a prune that would take a namespace a
# process maps is busy, one without --force refuses data loss, both change
# nothing; with --force it goes. Then the host reboots: the kernel brings
# the kmem device back as devdax, and pmemd's start-up layout (the config's
# "layout") makes it system RAM again, with every block online.
#
# vm: machine=nvdimm pmem=4G boots=2 persist=yes needs=pmemd timeout=500

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

state=/persist/pmemd
layout=/persist/layout.json

# apply_steps ARGS...: pmemctl apply ARGS; sets n_steps (steps planned) and
# n_done (steps run).
apply_steps() {
	jvars a "$(pmemctl_json apply "$@")" '{steps: (.steps | length), done, ops: ([.steps[].op] | join(","))}'
	n_steps=$a_steps n_done=$a_done
	info "apply $*: $a_steps steps ($a_ops), $a_done run"
}

# host WHEN: what the kernel has, by ndctl and daxctl: named namespaces with
# mode and size, the system-ram device's blocks, pmemd's pools and leases.
host() {
	jvars h "$(printf '{"n":%s,"d":%s,"p":%s,"l":%s}' "$(ndctl_json -N)" "$(daxctl_json)" \
		"$(pmemctl_json list-pools)" "$(pmemctl_json list-leases)")" '{
		ns: ([.n | list[] | "\(.name // "-"):\(.mode)"] | sort | join(" ")),
		ram: ([.d | list[] | select(.mode == "system-ram") | "\(.chardev):\(.online_memblocks)/\(.total_memblocks):\(.movable)"] | join(" ")),
		ram_dev: ([.d | list[] | select(.mode == "system-ram") | .chardev] | join(" ")),
		pools: ([.p.pools[] | "\(.name):\(.device // "file"):\(if .blocks_online == .blocks_total then "all" else "\(.blocks_online)/\(.blocks_total)" end)-online"] | join(" ")),
		leases: ([.l.leases[] | "\(.pool)/\(.name):\(.size)"] | join(" "))}'
	info "$1: namespaces [$h_ns] system-ram [$h_ram] pools [$h_pools] leases [$h_leases]"
}

# every_block_online DEV: sysfs agrees that each of DEV's blocks is online.
every_block_online() {
	for _b in $(jqr "$(pmemctl_json list -M)" ".memory_blocks[] | select(.dax_device == \"$1\") | .id"); do
		_s=$(cat /sys/devices/system/memory/memory"$_b"/state)
		[ "$_s" = online ] || fail "memory$_b of $1 is $_s, not online"
	done
}

case $VM_BOOT in
1)
	cat >"$layout" <<'JSON'
{
  "version": 1,
  "namespaces": [
    {"name": "db", "region": "region0", "mode": "fsdax", "size": "512M"},
    {"name": "vms", "region": "region0", "mode": "devdax", "size": "1G", "align": "2M"},
    {"name": "ram", "region": "region0", "mode": "devdax", "size": "1G"}
  ],
  "system_ram": [{"namespace": "ram", "online": true, "movable": true}],
  "pools": [{"name": "vmpool", "namespace": "vms", "block_size": "128M", "online_blocks": "all"}],
  "leases": [{"pool": "vmpool", "name": "vm1", "size": "256M", "align": "2M"}]
}
JSON
	pmemd_start "$state"

	step "a dry run plans every object and changes nothing"
	apply_steps -f "$layout" --dry-run
	expect_eq "steps planned" "$a_ops" \
		"create-namespace,create-namespace,create-namespace,reconfigure-device,create-pool,online-blocks,create-lease"
	expect_eq "steps run by a dry run" "$n_done" 0
	host "after the dry run"
	expect_eq "namespaces after a dry run (ndctl)" "$h_ns" ""
	diff=$(run pmemctl --socket "$PMEMD_SOCK" apply -f "$layout" --dry-run --human)
	printf '%s\n' "$diff" | sed 's/^/vmtest: diff: /'
	[ "$(printf '%s\n' "$diff" | grep -c '^+ ')" -ge 6 ] || fail "the human plan has no '+ ' line per create"

	step "apply makes the host match"
	apply_steps -f "$layout"
	expect_eq "steps run" "$n_done" 7
	host "after apply"
	expect_eq "namespaces (ndctl)" "$h_ns" "db:fsdax ram:devdax vms:devdax"
	[ -n "$h_ram_dev" ] || fail "no system-ram device (daxctl)"
	case $h_ram in *:true) ;; *) fail "system-ram device not movable: $h_ram" ;; esac
	jvars r "$(daxctl_json -d "$h_ram_dev")" 'list | .[0] | {online_memblocks, total_memblocks}'
	expect_eq "$h_ram_dev: online blocks (daxctl)" "$r_online_memblocks" "$r_total_memblocks"
	every_block_online "$h_ram_dev"
	case $h_pools in vmpool:dax*:all-online) ;; *) fail "pool vmpool is not on a dax device with every block online: $h_pools" ;; esac
	expect_eq "leases" "$h_leases" "vmpool/vm1:268435456"
	compare_with_ndctl "after apply" "$(pmemctl_json list)"

	step "applied again, and its export applied: nothing to do"
	apply_steps -f "$layout"
	expect_eq "steps the second time" "$n_steps" 0
	run pmemctl --socket "$PMEMD_SOCK" export-layout --json >/tmp/export.json
	apply_steps -f /tmp/export.json
	expect_eq "steps of the export" "$n_steps" 0

	step "prune: a namespace a process maps is busy; data loss needs --force"
	jq '.namespaces += [{"name": "scratch", "region": "region0", "mode": "devdax", "size": "256M"}]' \
		"$layout" >/tmp/with-scratch.json
	apply_steps -f /tmp/with-scratch.json
	expect_eq "steps to add scratch" "$a_ops" "create-namespace"
	scratch=$(jqr "$(pmemctl_json list -N)" '.namespaces[] | select(.name == "scratch") | .chardev')
	pin_dax "/dev/$scratch" >/tmp/pin_dax.out 2>&1 &
	pin_pid=$!
	wait_for 30 "pin_dax to map /dev/$scratch" grep -q pinned /tmp/pin_dax.out
	host "before the prunes"
	before=$h_ns
	err=$(pmemctl_fails apply -f "$layout" --prune --force)
	case $err in *busy*"pid $pin_pid"*) info "ok: $err" ;; *) fail "a prune of a mapped namespace: $err" ;; esac
	kill "$pin_pid"
	wait "$pin_pid" 2>/dev/null || true
	err=$(pmemctl_fails apply -f "$layout" --prune)
	case $err in *"destroys data"*) info "ok: $err" ;; *) fail "a prune without --force: $err" ;; esac
	host "after the refused prunes"
	expect_eq "namespaces after refused prunes (ndctl)" "$h_ns" "$before"
	apply_steps -f "$layout" --prune --force
	expect_eq "steps of the prune" "$a_ops" "destroy-namespace"
	host "after the prune"
	expect_eq "namespaces (ndctl)" "$h_ns" "db:fsdax ram:devdax vms:devdax"

	step "the layout goes into the config for the next boot"
	printf '{"layout": "%s"}\n' "$layout" >/persist/pmemd.json
	pmemd_stop
	;;
2)
	step "after the reboot the kernel has the kmem device back as devdax"
	jvars k "$(daxctl_json)" '{ram: ([list[] | select(.mode == "system-ram")] | length), all: ([list[] | "\(.chardev):\(.mode)"] | join(" "))}'
	info "daxctl before pmemd: $k_all"
	expect_eq "system-ram devices before pmemd starts" "$k_ram" 0

	step "pmemd's start-up layout makes it system RAM again"
	PMEMD_CONFIG=/persist/pmemd.json pmemd_start "$state"
	grep -q "start-up layout $layout applied: [0-9]* steps" "$PMEMD_LOG" ||
		fail "pmemd did not say it applied the start-up layout"
	info "$(grep -o "start-up layout $layout applied: [0-9]* steps" "$PMEMD_LOG")"
	host "after the start-up layout"
	expect_eq "namespaces (ndctl)" "$h_ns" "db:fsdax ram:devdax vms:devdax"
	[ -n "$h_ram_dev" ] || fail "no system-ram device after the start-up layout (daxctl)"
	jvars r "$(daxctl_json -d "$h_ram_dev")" 'list | .[0] | {online_memblocks, total_memblocks}'
	expect_eq "$h_ram_dev: online blocks (daxctl)" "$r_online_memblocks" "$r_total_memblocks"
	every_block_online "$h_ram_dev"
	case $h_pools in vmpool:dax*:all-online) ;; *) fail "pool vmpool after the reboot: $h_pools" ;; esac
	expect_eq "leases" "$h_leases" "vmpool/vm1:268435456"
	apply_steps -f "$layout"
	expect_eq "steps after the start-up layout" "$n_steps" 0
	pmemd_stop
	;;
*)
	fail "unexpected boot $VM_BOOT"
	;;
esac

step "pmemd_layout boot $VM_BOOT passed"
