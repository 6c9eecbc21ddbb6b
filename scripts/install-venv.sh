#!/usr/bin/env bash
# install-venv.sh - the project's Python environment: .venv/ (git-ignored) from requirements.txt,
# with PyPI's torch 2.x (its CUDA build, which runs on the CPU too) and the test oracles, then
# requirements-nodeps.txt without dependencies (verl and the few small packages its loss code
# imports). Run by install-deps.sh; does nothing when .venv/ already holds exactly both files.
# Prints what it found; a failure is one line naming the missing piece. PYTHON picks the
# interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
req=requirements.txt
req_nodeps=requirements-nodeps.txt
stamp=.venv/.requirements.sha256
die() { echo "install-venv: $*"; exit 1; }

command -v "$py" >/dev/null || die "no $py (apt-get install python3 python3-venv, or PYTHON=...)"
want=$(cat "$req" "$req_nodeps" | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
	"$py" -m venv .venv >/tmp/attnrl-venv.log 2>&1 ||
		die "$py -m venv .venv failed: $(tail -n 1 /tmp/attnrl-venv.log) (apt-get install python3-venv)"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "install-venv: installing $req into .venv/ (torch with NVIDIA's libraries: several GB)"
	.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1
	.venv/bin/python -m pip install -q --progress-bar off -r "$req" ||
		die "pip install -r $req failed (above: the package PyPI could not serve)"
	.venv/bin/python -m pip install -q --progress-bar off --no-deps -r "$req_nodeps" ||
		die "pip install --no-deps -r $req_nodeps failed (above: the package PyPI could not serve)"
	echo "$want" >"$stamp"
fi
.venv/bin/python - <<'PY' || die "the packages of $req do not import in .venv/ (rm -rf .venv and run again)"
import os, torch, tokenizers, transformers, safetensors, numpy, tensordict, omegaconf, codetiming
from importlib.metadata import version
print("install-venv: .venv/: python %s, torch %s (CUDA %s, C++11 ABI %d) at %s, tokenizers %s, "
      "transformers %s, safetensors %s, numpy %s, verl %s (no deps)" % (
    os.sys.version.split()[0], torch.__version__, torch.version.cuda,
    torch._C._GLIBCXX_USE_CXX11_ABI, os.path.dirname(torch.__file__), tokenizers.__version__,
    transformers.__version__, safetensors.__version__, numpy.__version__, version("verl")))
PY
