#!/bin/sh
# The sizes the real kernel gives namespaces, measured with plain ndctl (no
# pmemd) on an emulated ACPI NVDIMM: fsdax and devdax with map=dev and
# map=mem at 4K, 2M and 1G alignment, sector mode with 512 and 4096-byte
# sectors, and raw, each over several raw sizes, created at the start of the
# empty region and destroyed again; plus a 1G alignment where the kernel's
# first fit is not 1G-aligned (which it "creates" with 0 usable bytes).
# The kernel refuses 1G alignment on 1 GiB: the data would start at 1 GiB.
# Prints one JSON document between
# "==== kernel_sizes begin/end" lines: the fixture that
# lib/platform/kernel_sizes_test.cc holds pmemd's size rules to (see
# lib/platform/testdata/README.md for how to refresh it). Fails when a
# create the kernel should accept is refused, or the other way round.
#
# vm: machine=nvdimm pmem=4G timeout=900

# The lib is /vmtest/lib.sh only in the guest.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

# Raw sizes: 256M, 272M (a multiple of the 16M region alignment but not of
# 32M), 1G, 1.5G and 2G; at 1G alignment only multiples of 1G.
sizes="$((256 * MiB)) $((272 * MiB)) $((1 * GiB)) $((1536 * MiB)) $((2 * GiB))"
sizes_1g="$((1 * GiB)) $((2 * GiB)) $((3 * GiB))"

# measure MODE MAP ALIGN SECTOR SIZE: one namespace at the region's start.
measure() {
	size_measure "-r region0" "$@"
	[ -z "$size_dev" ] || run ndctl destroy-namespace -f "$size_dev" >/dev/null 2>&1
}

step "the empty region"
size_begin

for mode in fsdax devdax; do
	for map in dev mem; do
		step "$mode map=$map"
		for align in 4096 $((2 * MiB)); do
			for size in $sizes; do measure "$mode" "$map" "$align" - "$size"; done
		done
		for size in $sizes_1g; do measure "$mode" "$map" $((1 * GiB)) - "$size"; done
	done
done

step "fsdax with ndctl's defaults, over the whole region"
measure fsdax - - - -

step "sector mode"
for sector in 512 4096; do
	for size in $sizes; do measure sector - - "$sector" "$size"; done
done

step "raw"
for size in $sizes; do measure raw - - - "$size"; done
measure raw - - - -

step "1G alignment behind a 256M namespace (the kernel's first fit starts at 256M)"
measure_kept=$(run ndctl create-namespace -r region0 -m raw -s $((256 * MiB)))
size_measure "-r region0" devdax dev $((1 * GiB)) - $((1 * GiB))
expect_eq "usable bytes of the misaligned 1G devdax" "$(jqr "$(tail -n 1 "$SIZES_FILE")" '.ndctl.size')" 0
run ndctl destroy-namespace -f all >/dev/null 2>&1
: "$measure_kept"

step "the fixture"
size_report \
	"fsdax/dev/1073741824/-/1073741824 fsdax/mem/1073741824/-/1073741824 devdax/dev/1073741824/-/1073741824 devdax/mem/1073741824/-/1073741824"
step "kernel_sizes passed"
