#!/bin/sh
# torch-flags.sh TORCHCONFIG_CMAKE [ABI] - prints the C++ standard and the libstdc++ ABI flag
# that code built against this torch must use, as torch itself reports them: the standard from
# its TorchConfig.cmake (C++20 where it asks for cxx_std_20, as torch >= 2.13 does; else C++17,
# attnrl's minimum), the ABI from the cmake file's TORCH_CXX_FLAGS, else ABI (the Makefile asks
# python's torch._C._GLIBCXX_USE_CXX11_ABI), else 1 (the default of every current libstdc++).
cmake=$1
given=${2:-}
std=c++17
grep -q 'cxx_std_20\|c++20' "$cmake" 2>/dev/null && std=c++20
abi=$(sed -n 's/.*_GLIBCXX_USE_CXX11_ABI=\([01]\).*/\1/p' "$cmake" 2>/dev/null | head -n 1)
echo "-std=$std -D_GLIBCXX_USE_CXX11_ABI=${abi:-${given:-1}}"
