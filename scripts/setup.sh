#!/usr/bin/env bash
# Installs what resnet-explorer needs: system packages, then a virtual environment in .venv.
#   scripts/setup.sh run    what the app needs (graphviz's dot, Qt's X11 libraries)
#   scripts/setup.sh test   that, plus what the tests need (Xvfb, xdotool, the desktop's tools)
set -euo pipefail
cd "$(dirname "$0")/.."

purpose="${1:-run}"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
# torch first, so that resolving the other dependencies never pulls a multi-GB CUDA build.
TORCH="${TORCH:-torch==2.13.0}"

run_packages=(graphviz libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxrender1 fonts-dejavu-core)
# The desktop's own tools check what `resnet-explorer desktop install` writes: the entry's
# validator, xdg-mime and what it asks outside GNOME and KDE (mimetype), GLib's gio, and the
# databases' builders.
test_packages=(xvfb xauth xdotool desktop-file-utils xdg-utils shared-mime-info libfile-mimeinfo-perl
  libglib2.0-bin)

packages=("${run_packages[@]}")
[ "$purpose" = test ] && packages+=("${test_packages[@]}")

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
elif ! command -v dot >/dev/null 2>&1; then
  echo "setup: install Graphviz (the 'dot' program) and Qt 6's X11 libraries with your package manager" >&2
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ]; then
    echo "setup: these system packages are missing; install them, then run this again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "setup: Python 3.10 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  echo "setup: installing $TORCH"
  # shellcheck disable=SC2086  # TORCH may carry pip options such as --index-url
  "${pip[@]}" install $TORCH
fi

stamp="$VENV/.installed-$purpose"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing resnet-explorer and its dependencies into $VENV"
  if [ "$purpose" = test ]; then extras="[dev,bench,export]"; else extras=""; fi
  "${pip[@]}" install -e ".$extras"
  if [ "$purpose" = test ]; then
    # timm is the tests' oracle for its ResNet variants. Without --no-deps pip would resolve its
    # torchvision requirement and replace the CPU torch with a multi-GB CUDA build; its model
    # code needs only torch (the tests stand in for torchvision's import-time names).
    "${pip[@]}" install --no-deps "timm==1.0.31"
    "${pip[@]}" install huggingface_hub safetensors pyyaml
  fi
  touch "$stamp"
fi
# An editable install leaves the package uncompiled; compiling it here spares the first
# launch (and every launch where PYTHONDONTWRITEBYTECODE is set) about 80 ms.
"$VENV/bin/python" -m compileall -q explorer >/dev/null || true
