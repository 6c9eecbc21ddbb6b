#!/usr/bin/env bash
# gpu-debs.sh - downloads (does not install) the Debian packages a GPU machine without apt needs
# for the full CUDA=1 build (libyaml, OpenBLAS openmp, Gloo and their runtime libraries) into
# .gpu-debs/ (git-ignored). scripts/gpu-check.sh unpacks them under /tmp when the machine lacks
# the headers; carry the folder to the machine with the run (carry: [".gpu-debs"]).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu-debs
cd .gpu-debs
apt-get download libyaml-dev libyaml-0-2 libopenblas-openmp-dev libopenblas0-openmp \
	libgloo-dev libgloo0 libhiredis0.14 libibverbs1 libnl-3-200 libnl-route-3-200 \
	libgfortran5 libquadmath0 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
ls -1 *.deb | wc -l | xargs echo "gpu-debs: packages in .gpu-debs:"
du -sh . | cut -f1 | xargs echo "gpu-debs: size"
