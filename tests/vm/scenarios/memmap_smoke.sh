#!/bin/sh
# Legacy persistent memory from the memmap= kernel argument (an e820 type-12
# range, as on machines without NFIT): the region and its one namespace
# appear, and the namespace can be reconfigured in place to fsdax, devdax
# and back to raw. Such a region has no labels: one namespace, the whole size.
#
# vm: machine=memmap pmem=1G timeout=300

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

step "inventory: an e820 bus with one region and one (raw) namespace"
inv=$(ndctl_json -BRN)
printf '%s\n' "$inv" >&2
jvars inv "$inv" '{buses: (list | length), regions: ([list[].regions[]?] | length),
	namespaces: ([list[].regions[]?.namespaces[]?] | length)}'
expect_eq "bus count" "$inv_buses" 1
expect_eq "region count" "$inv_regions" 1
expect_eq "namespace count" "$inv_namespaces" 1
jvars b "$inv" 'list | .[0] | del(.regions)'
expect_eq "bus provider" "$b_provider" e820
jvars r "$inv" 'list | .[0].regions[0] | del(.namespaces)'
expect_eq "region type" "$r_type" pmem
expect_eq "region size" "$r_size" "$VM_PMEM_BYTES"
# Nothing to allocate from: the namespace is fixed and covers the region.
expect_eq "region available_size" "$r_available_size" 0
jvars ns "$inv" 'list | .[0].regions[0].namespaces[0]'
# The kernel serves an e820 range as a plain pmem block device with DAX and
# its page array in RAM; ndctl 76 reports that as mode "fsdax", map "mem"
# (not "raw"), without a uuid or align.
expect_eq "namespace mode" "$ns_mode" fsdax
expect_eq "namespace map" "$ns_map" mem
expect_eq "namespace size" "$ns_size" "$VM_PMEM_BYTES"
[ -b "/dev/$ns_blockdev" ] || fail "/dev/$ns_blockdev is not a block device"
dev=$ns_dev

step "reconfigure in place: raw -> fsdax"
ns=$(run ndctl create-namespace -f -e "$dev" -m fsdax --align=2M)
printf '%s\n' "$ns" >&2
jvars ns "$ns" .
expect_eq "dev (same namespace)" "$ns_dev" "$dev"
expect_eq "mode" "$ns_mode" fsdax
expect_eq "map" "$ns_map" dev
expect_eq "align" "$ns_align" $((2 * MiB))
[ "$ns_size" -lt "$VM_PMEM_BYTES" ] || fail "fsdax size $ns_size should be below $VM_PMEM_BYTES (map=dev)"
[ -b "/dev/$ns_blockdev" ] || fail "/dev/$ns_blockdev is not a block device"
expect_eq "blockdev size" "$(blockdev --getsize64 "/dev/$ns_blockdev")" "$ns_size"

step "reconfigure in place: fsdax -> devdax --align=2M"
ns=$(run ndctl create-namespace -f -e "$dev" -m devdax --align=2M)
printf '%s\n' "$ns" >&2
jvars ns "$ns" '. + {chardev: .daxregion.devices[0].chardev}'
expect_eq "dev (same namespace)" "$ns_dev" "$dev"
expect_eq "mode" "$ns_mode" devdax
expect_eq "align" "$ns_align" $((2 * MiB))
[ -c "/dev/$ns_chardev" ] || fail "/dev/$ns_chardev is not a character device"
jvars dax "$(daxctl_json -d "$ns_chardev")" 'list | .[0]'
expect_eq "daxctl mode" "$dax_mode" devdax
expect_eq "daxctl size = namespace size" "$dax_size" "$ns_size"

step "reconfigure in place: devdax -> raw"
ns=$(run ndctl create-namespace -f -e "$dev" -m raw)
printf '%s\n' "$ns" >&2
jvars ns "$ns" .
# Back to the initial state, which ndctl again calls fsdax/mem (see above).
expect_eq "mode" "$ns_mode" fsdax
expect_eq "map" "$ns_map" mem
expect_eq "size" "$ns_size" "$VM_PMEM_BYTES"
expect_eq "uuid (none without an info block)" "${ns_uuid:-none}" none

step "destroy-namespace on a label-less region only disables it"
# There is no label to delete: ndctl reports nothing destroyed and the
# namespace stays, disabled, until it is enabled again.
out=$(ndctl destroy-namespace -f "$dev" 2>&1) || fail "ndctl destroy-namespace failed: $out"
expect_eq "ndctl destroy-namespace output" "$out" "destroyed 0 namespaces"
jvars ns "$(ndctl_json -i -N -n "$dev")" 'list | .[0]'
expect_eq "namespace still listed, state" "${ns_state:-enabled}" disabled
run ndctl enable-namespace "$dev" >/dev/null
jvars ns "$(ndctl_json -N -n "$dev")" 'list | .[0]'
expect_eq "after enable-namespace, mode" "$ns_mode" fsdax
expect_eq "after enable-namespace, size" "$ns_size" "$VM_PMEM_BYTES"

step "memmap_smoke passed"
