#!/usr/bin/env bash
# Build the Linux onedir bundle with PyInstaller and check it serves from the bundle alone.
#   build/linux.sh            build into build/dist/mlflow-launcher, then run build/check_bundle.py
#   build/linux.sh check      only the check, on an existing bundle
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
BUNDLE="$REPO/build/dist/mlflow-launcher"

if [ "${1:-build}" = "build" ]; then
    python -m pip install -q -e '.[build]'
    start=$(date +%s)
    python -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath build/dist --workpath build/work launcher.spec
    echo "bundle built in $(( $(date +%s) - start )) s: $(du -sm "$BUNDLE" | cut -f1) MB," \
         "$(find "$BUNDLE" -type f | wc -l) files"
fi
# Every runtime dependency of pyproject.toml is in the bundle (build/check_dependencies.py).
python build/check_dependencies.py "$BUNDLE/mlflow-launcher" \
    --site-packages "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
python build/check_bundle.py "$BUNDLE/mlflow-launcher"
