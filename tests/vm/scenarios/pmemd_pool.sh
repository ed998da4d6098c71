#!/bin/sh
# A pmemd pool on a real devdax device (mapped through libpmem2 on the
# guest's NVDIMM): create it, online its blocks, lease extents (an
# idempotent retry gets the same extent), see the dax device protected while
# the pool holds it, offlining refused while leases hold blocks; then the
# leases survive a clean restart of pmemd, a SIGKILL, a detach-pool +
# attach-pool --device, and a guest reboot on the same backing file (the pool
# comes back attached by itself); finally detach it and give the namespace
# back. The pool keeps its metadata array on the device (memmap dev): built
# at create, reused as sealed after a clean restart or detach, built again
# after a SIGKILL. A second pool on its own devdax keeps it in DRAM (memmap
# mem) and builds it at every attach.
#
# vm: machine=nvdimm pmem=2G boots=2 persist=yes needs=pmemd timeout=600

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

state=/persist/pmemd
leases='[.leases[] | {name, size, align, offset, pool_offset, path}] | sort_by(.name) | tojson'

# pool_memmap NAME WANT_MEMMAP WANT_INIT: list-pools NAME says it is attached
# with its metadata array where WANT_MEMMAP says, set up as WANT_INIT says.
pool_memmap() {
	jvars pm "$(pmemctl_json list-pools "$1")" '.pools[0] // .'
	expect_eq "pool $1 state" "$pm_state" attached
	expect_eq "pool $1 memmap" "$pm_memmap" "$2"
	expect_eq "pool $1 memmap_init" "$pm_memmap_init" "$3"
}
# log_mark; ...; log_says TEXT: the pmemd log got a line with TEXT since the mark.
log_mark() { log_from=$(($(wc -l <"$PMEMD_LOG") + 1)); }
log_says() {
	if tail -n +"$log_from" "$PMEMD_LOG" | grep -q -- "$1"; then
		info "ok: pmemd log: $(tail -n +"$log_from" "$PMEMD_LOG" | grep -- "$1" | head -n 1)"
	else
		fail "the pmemd log has no line with \"$1\" since the mark"
	fi
}

case $VM_BOOT in
1)
	pmemd_start "$state"
	step "a devdax namespace and a pool on it"
	jvars ns "$(pmemctl_json create-namespace -r region0 -m devdax -s $((1 * GiB)) -a 2M -n pool-dev)" '.'
	run pmemctl_json create-pool p0 --device "$ns_chardev" >/dev/null
	jvars p "$(pmemctl_json list-pools p0)" '.pools[0] // .'
	expect_eq "pool backing" "$p_path" "/dev/$ns_chardev"
	expect_eq "pool state" "$p_state" attached
	[ -n "$p_granularity" ] || fail "the pool reports no persistence granularity"
	info "libpmem2 granularity: $p_granularity; $p_blocks_total blocks"
	expect_ge "blocks in a 1 GiB pool" "$p_blocks_total" 5
	expect_eq "pool memmap" "$p_memmap" dev
	expect_eq "pool memmap_init after create" "$p_memmap_init" built
	expect_eq "memmap_size (1/64 of the pool, 2 MiB rounded)" "$p_memmap_size" $((16 * MiB))
	expect_eq "memmap_offset is 2 MiB aligned" "$((p_memmap_offset % (2 * MiB)))" 0

	step "a second devdax namespace and a pool on it with its metadata in DRAM"
	jvars ms "$(pmemctl_json create-namespace -r region0 -m devdax -s $((512 * MiB)) -a 2M -n pool-mem)" '.'
	run pmemctl_json create-pool m0 --device "$ms_chardev" --memmap mem >/dev/null
	pool_memmap m0 mem built
	run pmemctl_json online-blocks m0 all >/dev/null
	run pmemctl_json create-lease m0 x --size $((32 * MiB)) --align 2M >/dev/null
	mleases=$(jqr "$(pmemctl_json list-leases m0)" "$leases")

	step "online every block, lease extents"
	run pmemctl_json online-blocks p0 all >/dev/null
	jvars p "$(pmemctl_json list-pools p0)" '.pools[0] // .'
	expect_eq "online blocks" "$p_blocks_online" "$p_blocks_total"
	jvars a "$(pmemctl_json create-lease p0 a --size $((256 * MiB)) --align 2M --owner vmtest)" '.'
	jvars b "$(pmemctl_json create-lease p0 b --size $((64 * MiB)) --align 4K)" '.'
	jvars again "$(pmemctl_json create-lease p0 a --size $((256 * MiB)) --align 2M --owner vmtest)" '.'
	expect_eq "idempotent retry of lease a: offset" "$again_offset" "$a_offset"
	expect_eq "lease a is 2 MiB aligned" "$((a_pool_offset % (2 * MiB)))" 0
	expect_eq "lease path" "$a_path" "/dev/$ns_chardev"

	step "the dax device is protected while the pool holds it"
	out=$(pmemctl_fails destroy-namespace "$ns_dev" -f)
	case $out in *"pool"*) info "ok: $out" ;; *) fail "destroy-namespace refused for another reason: $out" ;; esac
	out=$(pmemctl_fails reconfigure-device "$ns_chardev" --mode system-ram)
	case $out in *"pool"*) info "ok: $out" ;; *) fail "reconfigure-device refused for another reason: $out" ;; esac
	out=$(pmemctl_fails offline-blocks p0 all)
	case $out in *"lease"*) info "ok: $out" ;; *) fail "offline-blocks refused for another reason: $out" ;; esac
	jvars p "$(pmemctl_json list-pools p0)" '.pools[0] // .'
	expect_eq "online blocks after the refused offline" "$p_blocks_online" "$p_blocks_total"

	before=$(jqr "$(pmemctl_json list-leases p0)" "$leases")
	step "a clean restart keeps the leases and reuses the sealed metadata array"
	pmemd_stop
	log_mark
	pmemd_start "$state"
	expect_eq "leases after restart" "$(jqr "$(pmemctl_json list-leases p0)" "$leases")" "$before"
	pool_memmap p0 dev reused
	log_says "memmap dev: [0-9]* pages reused as sealed at the last clean detach"
	pool_memmap m0 mem built
	expect_eq "m0 leases after restart" "$(jqr "$(pmemctl_json list-leases m0)" "$leases")" "$mleases"

	step "SIGKILL and restart keeps the leases, the metadata array is built again"
	kill -9 "$pmemd_pid"
	wait "$pmemd_pid" 2>/dev/null || true
	rm -f "$PMEMD_SOCK"
	log_mark
	pmemd_start "$state"
	expect_eq "leases after SIGKILL" "$(jqr "$(pmemctl_json list-leases p0)" "$leases")" "$before"
	pool_memmap p0 dev built
	log_says "memmap dev: [0-9]* pages initialised in"
	pool_memmap m0 mem built
	expect_eq "m0 leases after SIGKILL" "$(jqr "$(pmemctl_json list-leases m0)" "$leases")" "$mleases"

	step "detach-pool, then attach-pool --device reads the pool's name from the devdax"
	run pmemctl_json detach-pool p0 >/dev/null
	run pmemctl_json attach-pool --device "$ns_chardev" >/dev/null
	expect_eq "leases after detach + attach" "$(jqr "$(pmemctl_json list-leases p0)" "$leases")" "$before"
	pool_memmap p0 dev reused
	run pmemctl_json detach-pool m0 >/dev/null
	run pmemctl_json attach-pool --device "$ms_chardev" >/dev/null
	pool_memmap m0 mem built
	expect_eq "m0 leases after detach + attach" "$(jqr "$(pmemctl_json list-leases m0)" "$leases")" "$mleases"

	printf '%s\n' "$before" >/persist/leases.json
	printf '%s\n' "$mleases" >/persist/mleases.json
	printf '%s\n' "$ns_dev" >/persist/namespace
	printf '%s\n' "$ms_dev" >/persist/namespace-mem
	pmemd_stop
	;;
2)
	step "after a guest reboot the pool is attached again, with its leases"
	[ -s /persist/leases.json ] || fail "/persist/leases.json from boot 1 is missing"
	pmemd_start "$state"
	jvars p "$(pmemctl_json list-pools p0)" '.pools[0] // .'
	expect_eq "pool state after reboot" "$p_state" attached
	expect_eq "leases after reboot" "$(jqr "$(pmemctl_json list-leases p0)" "$leases")" "$(cat /persist/leases.json)"
	pool_memmap p0 dev reused
	pool_memmap m0 mem built
	expect_eq "m0 leases after reboot" "$(jqr "$(pmemctl_json list-leases m0)" "$leases")" "$(cat /persist/mleases.json)"
	run pmemctl_json delete-lease p0 b >/dev/null
	run pmemctl_json create-lease p0 c --size $((128 * MiB)) --align 2M >/dev/null
	expect_eq "leases now" "$(jqr "$(pmemctl_json list-leases p0)" '[.leases[].name] | sort | join(",")')" "a,c"

	step "detach the pool and give the namespace back"
	run pmemctl_json detach-pool p0 >/dev/null
	run pmemctl_json detach-pool m0 >/dev/null
	run pmemctl_json destroy-namespace "$(cat /persist/namespace)" -f >/dev/null
	run pmemctl_json destroy-namespace "$(cat /persist/namespace-mem)" -f >/dev/null
	expect_eq "namespaces left (ndctl list -N)" "$(jqr "$(ndctl_json -N)" 'list | length')" 0
	pmemd_stop
	;;
*)
	fail "unexpected boot $VM_BOOT"
	;;
esac
step "pmemd_pool boot $VM_BOOT passed"
