#!/bin/sh
# QEMU for `npm run bench`'s side-by-side column (Debian's qemu-system-x86; root or sudo).
# Not part of npm test: the bench prints "n/a" for QEMU without it.
set -e
command -v qemu-system-x86_64 >/dev/null && exit 0
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86
