# shellcheck shell=bash
# Shared by deploy/images/build and scripts/compose-test (sourced, not run): the podman set-up
# that works on this project's machines (Debian 12 VM, no systemd, cgroup v1 hybrid, no
# container registry), kept out of /etc so nothing else on the machine changes.
#
#   SC_CT_STATE      state folder (default /var/lib/session-context-compose-test): podman's
#                    configuration, its image store, the rootfs tarballs, podman-compose's venv.
#                    Keeping it between runs is the image cache.
#   SC_CT_STORAGE    overlay (default when the kernel mounts it) or vfs.
#
# After `source deploy/images/lib.sh; sc_podman_env`, plain `podman ...` sees the same images
# and containers as the scripts (it prints the two exports to use in another shell).

SC_CT_STATE="${SC_CT_STATE:-/var/lib/session-context-compose-test}"
SC_CT_RUNROOT="${SC_CT_RUNROOT:-/run/session-context-compose-test}"

sc_log() { printf '%s %s\n' "[$(date -u +%H:%M:%S)]" "$*" >&2; }
sc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt-get install the Debian packages that provide the given commands, when a command is missing.
# Arguments: command=package pairs.
sc_need() {
    local pair cmd pkg missing=()
    for pair in "$@"; do
        cmd="${pair%%=*}"; pkg="${pair#*=}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    sc_log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

sc_host_tools() {
    # netavark + aardvark-dns: podman's bridge networks with name resolution between containers
    # (compose service names); iptables: netavark's port forwarding; catatonit: podman's init.
    sc_need podman=podman runc=runc mmdebstrap=mmdebstrap curl=curl flock=util-linux \
        /usr/lib/podman/netavark=netavark /usr/lib/podman/aardvark-dns=aardvark-dns \
        iptables=iptables /usr/libexec/podman/catatonit=catatonit
}

# Which storage driver: overlay when the kernel can mount it here (much faster and smaller: vfs
# copies every layer in full), else vfs.
sc_storage_driver() {
    if [ -n "${SC_CT_STORAGE:-}" ]; then echo "$SC_CT_STORAGE"; return; fi
    local t ok=vfs
    t="$(mktemp -d)"
    mkdir -p "$t/l" "$t/u" "$t/w" "$t/m"
    if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
        umount "$t/m"; ok=overlay
    fi
    rm -rf "$t"
    echo "$ok"
}

sc_podman_env() {
    local driver
    driver="$(sc_storage_driver)"
    mkdir -p "$SC_CT_STATE"
    # crun 1.8 fails here ("cgroups in hybrid mode not supported"): runc. No systemd: cgroupfs.
    # The default nofile/nproc ulimits cannot be set in this VM: none. Events to a file (no
    # journald). Health checks: podman schedules them with systemd timers, and there is no
    # systemd here, so scripts/compose-test runs them itself (`podman healthcheck run`).
    cat >"$SC_CT_STATE/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
CONF
    cat >"$SC_CT_STATE/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$SC_CT_STATE/storage-$driver"
runroot = "$SC_CT_RUNROOT-$driver"
CONF
    export CONTAINERS_CONF="$SC_CT_STATE/containers.conf"
    export CONTAINERS_STORAGE_CONF="$SC_CT_STATE/storage.conf"
    # Docker's image format keeps HEALTHCHECK and STOPSIGNAL-like metadata that OCI drops.
    export BUILDAH_FORMAT=docker
    export SC_CT_DRIVER="$driver"
    sc_log "podman $(podman --version | awk '{print $3}'), storage $driver in $SC_CT_STATE/storage-$driver; to look around:"
    sc_log "  export CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
}
