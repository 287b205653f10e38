#!/usr/bin/env bash
# Installs the Debian packages rheasim needs, when they are missing (run as root or with sudo).
set -euo pipefail

packages=(build-essential cmake pkg-config git libcmocka-dev libxxhash-dev libbsd-dev libyaml-dev
    gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
echo "rheasim: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
