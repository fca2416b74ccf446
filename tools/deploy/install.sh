#!/usr/bin/env bash
# Installs guestapi on this host: the release binaries (linked with the static Swift standard
# library, so they run where Swift is not installed; stripped), the systemd units, the
# container runtimes' files, shell completions (bash, zsh, fish) and man pages, each with
# its mode given (whatever the umask), and every path in them made this install's.
#
#   PREFIX/bin/guestapid, PREFIX/bin/guestapi-admin                                   0755
#   PREFIX/lib/systemd/system/guestapid.service, guestapid.socket                     0644
#   PREFIX/share/guestapi/runtimes/lxc.conf, runc-config-fragment.json, guestapi-hooks.json
#   PREFIX/share/bash-completion/completions/guestapi-admin, .../zsh/site-functions/_guestapi-admin,
#   PREFIX/share/fish/vendor_completions.d/guestapi-admin.fish                        0644
#   PREFIX/share/man/man8/guestapid.8, guestapi-admin.8                               0644
#   with --keep-debug: /usr/lib/debug/PREFIX/bin/guestapid.debug, guestapi-admin.debug
#   (where gdb looks for a binary's debug link; under --destdir like the rest)
#
# Then: systemctl daemon-reload && systemctl enable --now guestapid.socket guestapid.service
#
# usage: tools/deploy/install.sh [--prefix DIR] [--destdir DIR] [--state-dir DIR] [--bin-dir DIR] [--keep-debug]
#   --prefix      where it goes (default /usr/local)
#   --destdir     a folder to install into as if it were / (for packaging, or to look first)
#   --state-dir   the state folder the units, the hooks and the bind mounts name (default
#                 /var/lib/guestapi); made 0711 if it is not there; one there must be
#                 root's and writable by root alone; none under /home, /root or /run/user
#                 (the unit's ProtectHome= hides them)
#   --bin-dir     install these binaries instead of building
#   --keep-debug  keep the debug information apart, under /usr/lib/debug
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=/usr/local
destdir=
state=/var/lib/guestapi
bin_dir=
keep_debug=0

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --state-dir) state=$2; shift 2 ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        --keep-debug) keep_debug=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
log() { echo "install: $*" >&2; }
# The paths go into unit files, JSON and LXC hook lines (which a shell runs): only characters
# that mean nothing to any of them.
for path in "$prefix" "$state"; do
    if [[ ! $path =~ ^(/[A-Za-z0-9._+-]+)+$ || $path =~ /\.\.?(/|$) ]]; then
        echo "install: $path: give an absolute path of letters, digits, '.', '_', '+', '-' and '/' (no . or .. in it)" >&2
        exit 2
    fi
done
case $state in
    /home|/home/*|/root|/root/*|/run/user|/run/user/*)
        echo "install: --state-dir $state: the unit's ProtectHome= hides /home, /root and /run/user from the daemon" >&2
        exit 2 ;;
esac
if [[ -e $destdir$state ]]; then
    owner_mode=$(stat -c '%u %a' "$destdir$state")
    if [[ ! -d $destdir$state || ${owner_mode%% *} != 0 || $(( 8#${owner_mode#* } & 8#022 )) != 0 ]]; then
        echo "install: --state-dir $state is there but is not a folder root alone may write" >&2
        exit 2
    fi
fi

if [[ -z $bin_dir ]]; then
    # A build folder of its own: the walk-through's .build/release is left as it is.
    log "building the release binaries (--static-swift-stdlib) in .build/install"
    for product in guestapid guestapi-admin; do
        (cd "$repo" && swift build -c release --static-swift-stdlib --scratch-path .build/install --product "$product" >&2)
    done
    bin_dir=$repo/.build/install/release
fi
root=$destdir$prefix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every path in a shipped file, made this install's.
rewrite() { sed -e "s|/usr/local/bin/|$prefix/bin/|g" -e "s|/var/lib/guestapi|$state|g" "$1"; }

install -d -m 0755 "$root/bin" "$root/lib/systemd/system" "$root/share/guestapi/runtimes" "$root/share/man/man8" \
    "$root/share/bash-completion/completions" "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
debug=$destdir/usr/lib/debug$prefix/bin
for tool in guestapid guestapi-admin; do
    cp "$bin_dir/$tool" "$work/$tool"
    if ((keep_debug)); then
        install -d -m 0755 "$debug"
        objcopy --only-keep-debug "$work/$tool" "$work/$tool.debug"
        install -m 0644 "$work/$tool.debug" "$debug/"
    fi
    strip --strip-all "$work/$tool"
    if ((keep_debug)); then (cd "$work" && objcopy --add-gnu-debuglink="$tool.debug" "$tool"); fi
    install -m 0755 "$work/$tool" "$root/bin/"
done
for unit in guestapid.service guestapid.socket; do
    rewrite "$repo/tools/deploy/systemd/$unit" >"$work/$unit"
    # systemd makes /var/lib/guestapi (StateDirectory=); another state folder is made here.
    if [[ $state != /var/lib/guestapi ]]; then sed -i '/^StateDirectory/d' "$work/$unit"; fi
    install -m 0644 "$work/$unit" "$root/lib/systemd/system/"
done
if [[ ! -e $destdir$state ]]; then install -d -m 0711 "$destdir$state"; fi
for file in lxc.conf runc-config-fragment.json guestapi-hooks.json; do
    rewrite "$repo/tools/deploy/runtimes/$file" >"$work/$file"
    install -m 0644 "$work/$file" "$root/share/guestapi/runtimes/"
done
for page in guestapid.8 guestapi-admin.8; do install -m 0644 "$repo/tools/deploy/man/$page" "$root/share/man/man8/"; done
"$root/bin/guestapi-admin" --generate-completion-script bash >"$work/bash"
"$root/bin/guestapi-admin" --generate-completion-script zsh >"$work/zsh"
"$root/bin/guestapi-admin" --generate-completion-script fish >"$work/fish"
install -m 0644 "$work/bash" "$root/share/bash-completion/completions/guestapi-admin"
install -m 0644 "$work/zsh" "$root/share/zsh/site-functions/_guestapi-admin"
install -m 0644 "$work/fish" "$root/share/fish/vendor_completions.d/guestapi-admin.fish"
log "installed in $root (state $state)"
