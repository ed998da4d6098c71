#!/bin/sh
# pmemd on a label-less memmap= region (--platform ndctl, through pmemctl
# only): the one namespace is reconfigured in place to fsdax and to devdax
# with the sizes the dry-run plan promised and ndctl reports, create is
# refused with the way out, destroy leaves it disabled (as ndctl does), and
# a reconfiguration brings it back.
#
# vm: machine=memmap pmem=1G needs=pmemd timeout=300

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh
pmemd_log_on_failure

# check_ns WHAT PMEMD_JSON: pmemd's answer for namespace0.0 against ndctl's.
check_ns() {
	jvars x "$(printf '{"p":%s,"nd":%s}' "$2" "$(ndctl_json -N -n namespace0.0)")" '{
		p: (.p | "\(.mode) \(.size) \(.uuid) \(.chardev) \(.blockdev)"),
		nd: (.nd | list | .[0] | "\(.mode) \(.size) \(.uuid) \(.chardev) \(.blockdev)")}'
	expect_eq "$1 (pmemd vs ndctl)" "$x_p" "$x_nd"
}

step "start pmemd"
pmemd_start
ns=$(pmemctl_json list -N)
jvars n "$ns" '.namespaces[0] | {dev, mode, raw_size}'
expect_eq "the region's one namespace" "$n_dev" namespace0.0
expect_eq "its raw size" "$n_raw_size" "$VM_PMEM_BYTES"

step "create-namespace is refused with the way out"
err=$(pmemctl_fails create-namespace -r 0 -m fsdax -s 256M)
case $err in *"has no labels"*"reconfigure-namespace namespace0.0"*) info "ok: $err" ;;
*) fail "unexpected error: $err" ;; esac

step "reconfigure to fsdax in place (plan = kernel)"
plan=$(pmemctl_json reconfigure-namespace namespace0.0 -m fsdax --dry-run)
ns=$(pmemctl_json reconfigure-namespace namespace0.0 -m fsdax -f)
check_ns "fsdax" "$ns"
jvars x "$(printf '{"plan":%s,"ns":%s}' "$plan" "$ns")" '{plan: .plan.plan.size, ns: .ns.size, map: .ns.map}'
expect_eq "fsdax size = plan" "$x_ns" "$x_plan"
expect_eq "fsdax size (measured with ndctl)" "$x_ns" 1054867456
expect_eq "fsdax map" "$x_map" dev

step "reconfigure to devdax in place"
plan=$(pmemctl_json reconfigure-namespace namespace0.0 -m devdax -a 2M --dry-run)
ns=$(pmemctl_json reconfigure-namespace namespace0.0 -m devdax -a 2M -f)
check_ns "devdax" "$ns"
jvars x "$(printf '{"plan":%s,"ns":%s,"d":%s}' "$plan" "$ns" "$(daxctl_json -d dax0.0)")" '{
	plan: .plan.plan.size, ns: .ns.size, d: (.d | list | .[0].size), chardev: .ns.chardev}'
expect_eq "devdax size = plan" "$x_ns" "$x_plan"
expect_eq "daxctl size" "$x_d" "$x_ns"
expect_eq "chardev" "$x_chardev" dax0.0

step "destroy leaves it disabled; reconfigure brings it back"
run pmemctl --socket "$PMEMD_SOCK" destroy-namespace namespace0.0 -f --json >/dev/null
jvars x "$(printf '{"p":%s,"nd":%s}' "$(pmemctl_json list -N)" "$(ndctl_json -N -i -n namespace0.0)")" '{
	p: (.p.namespaces | length), nd_state: (.nd | list | .[0].state // "enabled")}'
expect_eq "ndctl: namespace0.0 state" "$x_nd_state" disabled
ns=$(pmemctl_json reconfigure-namespace namespace0.0 -m fsdax -f)
check_ns "fsdax again" "$ns"

pmemd_stop
step "pmemd_memmap passed"
