#!/bin/sh
# The kernel behaviour pmemd builds on, driven with plain ndctl/daxctl on an
# emulated ACPI NVDIMM: the bus/DIMM/region inventory and its sizes, fsdax
# and devdax namespaces, and a devdax device turned into system RAM (kmem)
# and back. If this fails, the harness or the kernel changed, not pmemd.
#
# vm: machine=nvdimm pmem=4G timeout=300

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

label_bytes=$((128 * KiB))   # run-vm-test gives the NVDIMM label-size=128K
region_align=$((16 * MiB))   # libnvdimm's region alignment on x86-64

step "inventory: one ACPI.NFIT bus, one DIMM, one pmem region"
inv=$(ndctl_json -BDR)
printf '%s\n' "$inv" >&2
# Counts and the single bus/dimm/region, in one jq run (see lib.sh).
jvars inv "$inv" '{buses: (list | length), dimms: ([list[].dimms[]?] | length),
	regions: ([list[].regions[]?] | length)}'
expect_eq "bus count" "$inv_buses" 1
expect_eq "dimm count" "$inv_dimms" 1
expect_eq "region count" "$inv_regions" 1
jvars b "$inv" 'list | .[0] | del(.dimms, .regions)'
expect_eq "bus provider" "$b_provider" ACPI.NFIT
expect_eq "bus dev" "$b_dev" ndbus0
jvars d "$inv" 'list | .[0].dimms[0]'
expect_eq "dimm dev" "$d_dev" nmem0

jvars r "$inv" 'list | .[0].regions[0]'
expect_eq "region dev" "$r_dev" region0
expect_eq "region type" "$r_type" pmem
# The label area is carved out of the DIMM; what remains is the region.
region_size=$((VM_PMEM_BYTES - label_bytes))
expect_eq "region size" "$r_size" "$region_size"
expect_eq "region align" "$r_align" "$region_align"
# Namespaces are allocated in region_align units, so a partial unit is lost.
full_avail=$((region_size / region_align * region_align))
expect_eq "region available_size (labels initialized, empty)" "$r_available_size" "$full_avail"
expect_eq "region max_available_extent" "$r_max_available_extent" "$full_avail"
expect_eq "active namespaces" "$(jqr "$(ndctl_json -N)" 'list | length')" 0

step "fsdax namespace: create, use, destroy"
ns=$(run ndctl create-namespace -r region0 -m fsdax -s $((512 * MiB)) --align=2M)
printf '%s\n' "$ns" >&2
jvars ns "$ns" .
expect_eq "mode" "$ns_mode" fsdax
expect_eq "map" "$ns_map" dev
expect_eq "align" "$ns_align" $((2 * MiB))
# With map=dev the page array (64 B per 4 KiB page) lives on the device, so
# the usable size is a little less than the 512 MiB allocated.
expect_ge "usable size" "$ns_size" $((500 * MiB))
[ "$ns_size" -lt $((512 * MiB)) ] || fail "usable size $ns_size should be below 512 MiB (map=dev reserves the page array)"
[ -b "/dev/$ns_blockdev" ] || fail "/dev/$ns_blockdev is not a block device"
expect_eq "blockdev size (blockdev --getsize64)" "$(blockdev --getsize64 "/dev/$ns_blockdev")" "$ns_size"
jvars after "$(ndctl_state)" '{listed: ([.namespaces | list[] | select(.dev == "'"$ns_dev"'")] | length),
	available: (.regions | list | .[0].available_size)}'
expect_eq "listed by ndctl list -N" "$after_listed" 1
expect_eq "region available_size after 512 MiB" "$after_available" $((full_avail - 512 * MiB))
# Data written through the block device reads back.
run dd if=/vmtest/lib.sh of="/dev/$ns_blockdev" bs=4096 conv=fsync 2>/dev/null
expect_eq "data read back" \
	"$(dd if="/dev/$ns_blockdev" bs=4096 count=1 2>/dev/null | head -c 100 | md5sum)" \
	"$(head -c 100 /vmtest/lib.sh | md5sum)"
run ndctl destroy-namespace -f "$ns_dev"
jvars after "$(ndctl_state)" '{namespaces: (.namespaces | list | length),
	available: (.regions | list | .[0].available_size)}'
expect_eq "active namespaces after destroy" "$after_namespaces" 0
expect_eq "region available_size after destroy" "$after_available" "$full_avail"

step "devdax namespace with --align=2M"
ns=$(run ndctl create-namespace -r region0 -m devdax -s $((256 * MiB)) --align=2M)
printf '%s\n' "$ns" >&2
jvars ns "$ns" '. + {chardev: .daxregion.devices[0].chardev}'
expect_eq "mode" "$ns_mode" devdax
expect_eq "align" "$ns_align" $((2 * MiB))
case $ns_chardev in
dax[0-9]*.[0-9]*) info "ok: chardev = $ns_chardev" ;;
*) fail "chardev '$ns_chardev' is not a daxX.Y name" ;;
esac
[ -c "/dev/$ns_chardev" ] || fail "/dev/$ns_chardev is not a character device"
jvars dax "$(daxctl_json -d "$ns_chardev")" 'list | .[0]'
expect_eq "daxctl mode" "$dax_mode" devdax
expect_eq "daxctl align" "$dax_align" $((2 * MiB))
expect_eq "daxctl size = namespace size" "$dax_size" "$ns_size"
run ndctl destroy-namespace -f "$ns_dev"

step "devdax -> system-ram (kmem) -> offline -> devdax"
block_size=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
expect_eq "memory block size" "$block_size" $((128 * MiB))
ns=$(run ndctl create-namespace -r region0 -m devdax -s $((1 * GiB)) --align=2M)
jvars ns "$ns" '. + {chardev: .daxregion.devices[0].chardev}'
count_memblocks
online_before=$mb_online
mem_before=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)

run daxctl reconfigure-device --mode=system-ram "$ns_chardev" >/dev/null
dax=$(daxctl_json -d "$ns_chardev")
printf '%s\n' "$dax" >&2
jvars dax "$dax" 'list | .[0]'
expect_eq "daxctl mode" "$dax_mode" system-ram
# Only whole, block-aligned 128 MiB blocks of the device are hot-added.
expect_ge "total_memblocks" "$dax_total_memblocks" 1
[ "$dax_total_memblocks" -le $((ns_size / block_size)) ] ||
	fail "total_memblocks $dax_total_memblocks > size $ns_size / $block_size"
expect_eq "online_memblocks" "$dax_online_memblocks" "$dax_total_memblocks"
expect_eq "onlined movable (the default policy)" "$dax_movable" true
count_memblocks
expect_eq "online memory blocks in sysfs" "$mb_online" $((online_before + dax_total_memblocks))
mem_after=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
expect_eq "MemTotal growth (KiB)" $((mem_after - mem_before)) $((dax_total_memblocks * block_size / KiB))
total=$dax_total_memblocks

run daxctl offline-memory "$ns_chardev" >/dev/null
jvars dax "$(daxctl_json -d "$ns_chardev")" 'list | .[0]'
expect_eq "online_memblocks after offline-memory" "$dax_online_memblocks" 0
count_memblocks
expect_eq "online memory blocks after offline" "$mb_online" "$online_before"
expect_eq "offline memory blocks after offline" "$mb_offline" "$total"

run daxctl reconfigure-device --mode=devdax "$ns_chardev" >/dev/null
jvars dax "$(daxctl_json -d "$ns_chardev")" 'list | .[0]'
expect_eq "daxctl mode after reconfigure back" "$dax_mode" devdax
# Removing the memory also removes its blocks from sysfs.
count_memblocks
expect_eq "offline memory blocks after devdax" "$mb_offline" 0
[ -c "/dev/$ns_chardev" ] || fail "/dev/$ns_chardev is gone after going back to devdax"
run ndctl destroy-namespace -f "$ns_dev"
expect_eq "region available_size at the end" "$(jqr "$(ndctl_json -R)" 'list | .[0].available_size')" "$full_avail"

step "ndctl_smoke passed"
