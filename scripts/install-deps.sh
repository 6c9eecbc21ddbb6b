#!/usr/bin/env bash
# install-deps.sh - installs what attnrl needs on Debian 12 (run as root, or with sudo): the
# system packages, then the project's Python environment .venv/ from requirements.txt (PyPI:
# torch 2.x, the test oracles). Used by the README's set-up and by .ci/run, so both install the
# same things. Idempotent: a second run installs nothing new; it prints what it found.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	libtorch-dev            # libtorch 1.13 (CPU), the training engine
	libopenblas0-openmp libopenblas-openmp-dev # BLAS for torch and the decode engine
	libyaml-dev             # config files
	libgloo-dev             # data-parallel collectives on CPU (dist.backend=gloo)
	slurm-client            # scontrol: the host-list oracle of test_dist_gloo
	python3-torch python3-numpy # the PyTorch reference scripts (run with /usr/bin/python3)
	python3-venv            # .venv/ below
	clang-14 libclang-rt-14-dev # libFuzzer: only `make fuzz` needs them
	chromium python3-pil    # test_report: the report page in a headless browser, its screenshot's pixels
)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"

# Debian may also carry the pthread build of OpenBLAS; torch uses OpenMP, so pin the OpenMP
# build (two thread pools fighting over 2 cores is 2-10x slower).
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for alt in libblas.so.3 libopenblas.so.0 liblapack.so.3; do
	target=/usr/lib/$arch/openblas-openmp/$alt
	[ -e "$target" ] && $SUDO update-alternatives --set "$alt-$arch" "$target" >/dev/null || true
done
# the Python environment, as the invoking user under sudo
venv=(bash "$(dirname "$0")/install-venv.sh")
[ -n "${SUDO_USER:-}" ] && [ "$(id -u)" -eq 0 ] && venv=(sudo -u "$SUDO_USER" "${venv[@]}")
"${venv[@]}"
echo "install-deps: done ($(dpkg-query -W -f='${Version}' libtorch-dev) libtorch, OpenBLAS openmp, .venv)"
