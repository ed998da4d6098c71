#!/bin/sh
# Namespaces live in the NVDIMM label area, so they survive a reboot: boot 1
# creates an fsdax and a devdax namespace and writes data, boot 2 (same
# backing file, labels not re-initialized) must find both with the same
# uuids, modes and sizes, and the data. This also proves the harness's
# multi-boot and /persist plumbing that pmemd's restart scenarios build on.
#
# vm: machine=nvdimm pmem=2G boots=2 persist=yes timeout=300

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

# What boot 1 saw, for boot 2 to compare: a projection of ndctl list -N.
project='[list[] | {dev, name, mode, map, size, uuid, align, blockdev, chardev}] | sort_by(.uuid)'
marker="pmemd reboot test $(date +%s 2>/dev/null)"

case $VM_BOOT in
1)
	step "boot 1: create namespaces and write data"
	run ndctl create-namespace -r region0 -m fsdax -s $((512 * MiB)) --align=2M -n keep-fsdax >/dev/null
	run ndctl create-namespace -r region0 -m devdax -s $((256 * MiB)) --align=2M -n keep-devdax >/dev/null
	jvars ns "$(ndctl_json -N)" '{list: ('"$project"' | tojson),
		blockdev: (list[] | select(.mode == "fsdax") | .blockdev)}'
	printf '%s\n' "$ns_list" >/persist/namespaces.json
	printf '%s\n' "$marker" >/persist/marker
	printf '%s\n' "$marker" | dd of="/dev/$ns_blockdev" bs=4096 conv=sync,fsync 2>/dev/null ||
		fail "writing to /dev/$ns_blockdev failed"
	info "saved $(cat /persist/namespaces.json)"
	;;
2)
	step "boot 2: the namespaces and the data are still there"
	[ -s /persist/namespaces.json ] || fail "/persist/namespaces.json from boot 1 is missing"
	jvars ns "$(ndctl_json -N)" '{list: ('"$project"' | tojson),
		blockdev: (list[] | select(.mode == "fsdax") | .blockdev)}'
	expect_eq "namespaces after reboot (ndctl list -N)" "$ns_list" "$(cat /persist/namespaces.json)"
	expect_eq "data on /dev/$ns_blockdev" \
		"$(dd if="/dev/$ns_blockdev" bs=4096 count=1 2>/dev/null | head -n1)" "$(cat /persist/marker)"
	;;
*)
	fail "unexpected boot $VM_BOOT"
	;;
esac
step "reboot_namespaces boot $VM_BOOT passed"
