#!/bin/sh
# The sizes the real kernel gives the one namespace of a label-less memmap=
# region when ndctl reconfigures it in place (no pmemd): fsdax and devdax with
# map=dev and map=mem at 4K, 2M and 1G alignment, sector mode with 512 and
# 4096-byte sectors, and raw. 1G is refused except for fsdax map=mem, which
# ndctl makes without an info block on a label-less namespace (the whole
# 1 GiB, as raw). Prints the fixture as kernel_sizes.sh does
# (lib/platform/testdata/README.md).
#
# vm: machine=memmap pmem=1G timeout=600

# The lib is /vmtest/lib.sh only in the guest.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

step "the label-less region"
size_begin

for mode in fsdax devdax; do
	for map in dev mem; do
		step "$mode map=$map"
		for align in 4096 $((2 * MiB)) $((1 * GiB)); do
			size_measure "-e namespace0.0 -f" "$mode" "$map" "$align" - -
		done
	done
done

step "sector mode and raw"
for sector in 512 4096; do size_measure "-e namespace0.0 -f" sector - - "$sector" -; done
size_measure "-e namespace0.0 -f" raw - - - -

step "the fixture"
size_report \
	"fsdax/dev/1073741824/-/- devdax/dev/1073741824/-/- devdax/mem/1073741824/-/-"
step "kernel_sizes_memmap passed"
