#!/bin/sh
# pmemd's inventory on the real kernel (--platform ndctl) must say exactly
# what ndctl and daxctl say: regions, then an fsdax and a devdax namespace
# created behind pmemd's back with ndctl. On a mismatch both sides are
# printed, field by field, in the same projection.
#
# vm: machine=nvdimm pmem=4G needs=pmemd timeout=300

# The lib is /vmtest/lib.sh only in the guest; jvars sets the x_field variables.
# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

sock=/run/pmemd.sock
state=/var/lib/pmemd
log=/tmp/pmemd.log

# pmemd's own log explains most failures; show it whenever we fail.
show_pmemd_log() {
	rc=$?
	if [ "$rc" != 0 ] && [ -f "$log" ]; then
		echo "----- pmemd log (last 200 lines of $log) -----" >&2
		tail -n 200 "$log" >&2
		echo "----- end of pmemd log -----" >&2
	fi
}
trap show_pmemd_log EXIT

# The projections both sides are reduced to: the fields pmemd promises to
# report as ndctl/daxctl do, sorted by name. A field one side lacks shows up
# as null on that side. ndctl has no "region" field in a namespace, so it is
# derived from the name (namespaceX.Y lives in regionX).
compare_prog='
def regions: [list[] | {dev, size, align, available_size, max_available_extent}] | sort_by(.dev);
def namespaces: [list[] | {dev, region, mode, size, uuid, blockdev, chardev, align}] | sort_by(.dev);
def devices: [list[] | {chardev, size, align}] | sort_by(.chardev);
{
  regions_pmemd: (.pmemd.regions | regions),
  regions_ndctl: (.ndctl.regions | regions),
  namespaces_pmemd: (.pmemd.namespaces | namespaces),
  namespaces_ndctl: (.ndctl.namespaces | list
    | map(. + {region: ("region" + (.dev | ltrimstr("namespace") | split(".")[0]))})
    | namespaces),
  devices_pmemd: (.pmemd.devices | devices),
  devices_daxctl: (.daxctl | devices)
}'

# compare WHEN: one pmemctl list against ndctl/daxctl right after it.
compare() {
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd (pid $pmemd_pid) is not running"
	p=$(run pmemctl --socket "$sock" list --json)
	printf '%s\n' "$p" | jq -e 'type == "object"' >/dev/null 2>&1 ||
		fail "pmemctl list --json did not print a JSON object: $p"
	doc=$(printf '{"pmemd":%s,"ndctl":%s,"daxctl":%s}' "$p" "$(ndctl_state)" "$(daxctl_json)")
	jvars c "$doc" "$compare_prog"
	expect_eq "$1: regions (pmemd vs ndctl list -R)" "$c_regions_pmemd" "$c_regions_ndctl"
	expect_eq "$1: namespaces (pmemd vs ndctl list -N)" "$c_namespaces_pmemd" "$c_namespaces_ndctl"
	expect_eq "$1: devices (pmemd vs daxctl list)" "$c_devices_pmemd" "$c_devices_daxctl"
}

step "start pmemd on the ndctl platform"
mkdir -p "$state"
pmemd --platform ndctl --socket "$sock" --state-dir "$state" --log-level debug >"$log" 2>&1 &
pmemd_pid=$!
# Fail fast if pmemd exits instead of waiting for the whole timeout.
socket_or_exit() {
	[ -S "$sock" ] && return 0
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd exited before creating $sock"
	return 1
}
wait_for 60 "pmemd's socket $sock" socket_or_exit
info "pmemd is up (pid $pmemd_pid)"

step "empty region (labels initialized, no namespaces)"
compare "empty"

step "an fsdax namespace created with ndctl"
run ndctl create-namespace -r region0 -m fsdax -s $((512 * MiB)) --align=2M >/dev/null
compare "after fsdax"

step "a devdax namespace created with ndctl"
run ndctl create-namespace -r region0 -m devdax -s $((256 * MiB)) --align=2M >/dev/null
compare "after devdax"

kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd died during the scenario"
kill "$pmemd_pid"
step "pmemd_inventory passed"
