#!/usr/bin/env bash
# Installs guestapi on this host: the release binaries (linked with the static Swift standard
# library, so they run where Swift is not installed), the systemd units, shell completions
# (bash, zsh, fish) and man pages.
#
#   PREFIX/bin/guestapid, PREFIX/bin/guestapi-admin
#   PREFIX/lib/systemd/system/guestapid.service, guestapid.socket   (ExecStart= names PREFIX/bin)
#   PREFIX/share/bash-completion/completions/guestapi-admin, .../zsh/site-functions/_guestapi-admin,
#   PREFIX/share/fish/vendor_completions.d/guestapi-admin.fish
#   PREFIX/share/man/man1/guestapid.1, guestapi-admin.1
#
# Then: systemctl daemon-reload && systemctl enable --now guestapid.socket guestapid.service
#
# usage: tools/deploy/install.sh [--prefix DIR] [--destdir DIR] [--bin-dir DIR]
#   --prefix   where it goes (default /usr/local)
#   --destdir  a folder to install into as if it were / (for packaging, or to look first)
#   --bin-dir  install these binaries instead of building (man pages are then skipped:
#              making them needs the package built by swift package generate-manual)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=/usr/local
destdir=
bin_dir=

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
log() { echo "install: $*" >&2; }

if [[ -z $bin_dir ]]; then
    log "building the release binaries (--static-swift-stdlib)"
    (cd "$repo" && swift build -c release --static-swift-stdlib --product guestapid >&2 \
        && swift build -c release --static-swift-stdlib --product guestapi-admin >&2)
    bin_dir=$repo/.build/release
fi
root=$destdir$prefix

install -d "$root/bin" "$root/lib/systemd/system" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
install -m 0755 "$bin_dir/guestapid" "$bin_dir/guestapi-admin" "$root/bin/"
for unit in guestapid.service guestapid.socket; do
    sed "s|/usr/local/bin/|$prefix/bin/|g" "$repo/tools/deploy/systemd/$unit" > "$root/lib/systemd/system/$unit"
    chmod 0644 "$root/lib/systemd/system/$unit"
done
"$root/bin/guestapi-admin" --generate-completion-script bash > "$root/share/bash-completion/completions/guestapi-admin"
"$root/bin/guestapi-admin" --generate-completion-script zsh > "$root/share/zsh/site-functions/_guestapi-admin"
"$root/bin/guestapi-admin" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/guestapi-admin.fish"

if [[ $bin_dir == "$repo/.build/release" && -z ${GUESTAPI_NO_MAN:-} ]]; then
    log "making the man pages (swift package generate-manual)"
    if (cd "$repo" && swift package generate-manual >&2); then
        install -d "$root/share/man/man1"
        for tool in guestapid guestapi-admin; do
            install -m 0644 "$repo/.build/plugins/GenerateManual/outputs/$tool/$tool.1" "$root/share/man/man1/"
        done
    else
        log "man pages skipped: swift package generate-manual failed"
    fi
else
    log "man pages skipped (--bin-dir)"
fi
log "installed in $root"
