; The Windows installer of MLflow Launcher: per user, no admin rights, upgradeable in place.
; Built by build/windows.sh (`package`) with Debian's makensis on the PyInstaller onedir folder:
;
;   makensis -DVERSION=0.1.0 -DVERSION4=0.1.0.0 -DSOURCE=<onedir folder> -DOUTFILE=<setup.exe>
;            -DFILES_NSH=<generated list of top-level entries> -DAPP_USER_MODEL_ID=<id>
;            -DICON=assets/launcher.ico build/windows/installer.nsi
;
; APP_USER_MODEL_ID comes from launcher/app/appid.py, which the tray sets for itself at start:
; Windows names and groups the tray's notifications by the Start-menu shortcut carrying it.
; FILES_NSH defines REMOVE_PROGRAM_FILES (Delete / RMDir /r of each top-level entry of SOURCE),
; so the uninstaller removes what the installer wrote and nothing the user put beside it.
;
; Silent: setup.exe /S [/UPDATES=0|1] [/FEED=<folder or URL>] [/D=C:\Some\Folder] (/D last,
; unquoted); Uninstall.exe /S. A silent install records /UPDATES (default 0: a roll-out never
; starts checking for updates on its own) and /FEED in HKCU\${POLICY_KEY}, which
; launcher/updates/installer.py reads until the user answers for themselves; an interactive
; install records nothing and the app asks once. /UPDATE=1 (the app's own updater passes it)
; starts the new version when the silent upgrade is done.
; The user's config (%APPDATA%\mlflow-launcher), data and logs (%LOCALAPPDATA%\mlflow-launcher)
; are never touched, except by the uninstaller's unticked-by-default "also remove my settings and
; data" box, which silent mode never ticks.

!ifndef VERSION | SOURCE | OUTFILE | FILES_NSH | APP_USER_MODEL_ID | ICON
  !error "pass -DVERSION -DSOURCE -DOUTFILE -DFILES_NSH -DAPP_USER_MODEL_ID -DICON (see build/windows.sh)"
!endif
!ifndef VERSION4
  !define VERSION4 "0.0.0.0"
!endif

!ifdef SIGN_UNINSTALLER  ; build/windows.sh with SIGN_PFX: sign Uninstall.exe before it is packed
  !uninstfinalize '${SIGN_UNINSTALLER} "%1"'
!endif

Unicode true
!ifndef TARGET  ; .github/workflows/windows.yml passes x86-unicode where NSIS has no amd64 stubs
  !define TARGET amd64-unicode  ; the 32-bit stub would need wine32 to test; the app is 64-bit
!endif
Target ${TARGET}
SetCompressor /SOLID lzma
SetCompressorDictSize 64
RequestExecutionLevel user      ; per user: no UAC prompt
ManifestDPIAware true
ShowInstDetails show
ShowUninstDetails show

!define APPNAME "MLflow Launcher"
!define PUBLISHER "MLflow Launcher contributors"
!define EXE "MLflowLauncher.exe"
!define CLI "MLflowLauncher-cli.exe"
!define UNINSTALLER "Uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\MLflowLauncher"
; Where launcher/app/autostart.py writes "Start at login".
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_VALUE "MLflow Launcher"
; launcher/updates/installer.py: POLICY_KEY
!define POLICY_KEY "Software\MLflow Launcher"
!define SHORTCUT "$SMPROGRAMS\${APPNAME}.lnk"
!define DESKTOP_SHORTCUT "$DESKTOP\${APPNAME}.lnk"
; launcher/model/paths.py on Windows (platformdirs, app name "mlflow-launcher")
!define CONFIG_DIR "$APPDATA\mlflow-launcher"
!define DATA_DIR "$LOCALAPPDATA\mlflow-launcher"

Name "${APPNAME}"
Caption "${APPNAME} ${VERSION} Setup"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"   ; an upgrade goes where the last one went
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} ${VERSION} Setup"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include Win\COM.nsh
!include Win\Propkey.nsh
!include "${FILES_NSH}"
!define /ifndef STGM_READWRITE 2

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME} now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!define MUI_COMPONENTSPAGE_TEXT_TOP "Your projects' settings, the default local store and the logs are kept unless you tick the box below. Your own MLflow stores (folders, shares, databases) are never touched."
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; Ask a running tray to stop every server and exit, through its single-instance channel
; (`MLflowLauncher-cli.exe quit`, launcher/app/commands/quit.py): an exe in use cannot be replaced.
!macro QUIT_RUNNING_LAUNCHER
  ${If} ${FileExists} "$INSTDIR\${CLI}"
    retry_quit:
    DetailPrint "Asking a running ${APPNAME} to quit ..."
    nsExec::ExecToLog '"$INSTDIR\${CLI}" quit'
    Pop $0
    ${If} $0 != 0
    ${AndIfNot} ${Silent}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${APPNAME} is still running. Choose Quit in its tray menu, then Retry." IDRETRY retry_quit
      Abort "${APPNAME} is still running."
    ${EndIf}
    Sleep 500  ; the process itself ends just after it released its lock
  ${EndIf}
!macroend

; Set PKEY_AppUserModel_ID on an existing shortcut (IShellLink -> IPersistFile::Load,
; IPropertyStore::SetValue + Commit, IPersistFile::Save): what Windows matches with the
; AppUserModelID the tray sets for its process, to name and group its notifications.
Function SetShortcutAppId
  Exch $R0  ; the shortcut's path
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  !insertmacro ComHlpr_CreateInProcInstance ${CLSID_ShellLink} ${IID_IShellLink} r0 ""
  ${If} $0 P<> 0
    ${IUnknown::QueryInterface} $0 '("${IID_IPersistFile}",.r1)'
    ${If} $1 P<> 0
      ${IPersistFile::Load} $1 '("$R0",${STGM_READWRITE}).r5'
      ${If} $5 = 0
        ${IUnknown::QueryInterface} $0 '("${IID_IPropertyStore}",.r2)'
        ${If} $2 P<> 0
          System::Call '*${SYSSTRUCT_PROPERTYKEY}(${PKEY_AppUserModel_ID})p.r3'
          System::Call '*(&w128 "${APP_USER_MODEL_ID}")p.r4'
          System::Call '*(&i2 ${VT_LPWSTR},&i6 0,p r4,&i8 0)p.r5'
          ${IPropertyStore::SetValue} $2 '($3,$5).r5'
          ${If} $5 = 0
            ${IPropertyStore::Commit} $2 '().r5'
          ${EndIf}
          DetailPrint "AppUserModelID ${APP_USER_MODEL_ID} on the shortcut: HRESULT $5"
          System::Free $3
          System::Free $4
          ${IUnknown::Release} $2 ""
          ${IPersistFile::Save} $1 '("$R0",1)'
        ${EndIf}
      ${Else}
        DetailPrint "could not open $R0 to set its AppUserModelID: HRESULT $5"
      ${EndIf}
      ${IUnknown::Release} $1 ""
    ${EndIf}
    ${IUnknown::Release} $0 ""
  ${EndIf}
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
  Pop $R0
FunctionEnd

Section "${APPNAME}" SecProgram
  SectionIn RO
  SetShellVarContext current
  !insertmacro QUIT_RUNNING_LAUNCHER
  ; An upgrade replaces the bundle's library folder whole: no stale module of an older version
  ; may be imported by the new one.
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${SOURCE}/*"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  CreateShortCut "${SHORTCUT}" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0 SW_SHOWNORMAL "" \
    "Every project's MLflow UI one click away"
  Push "${SHORTCUT}"
  Call SetShortcutAppId

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
  ${If} ${Silent}
    ${GetParameters} $1
    ClearErrors
    ${GetOptions} $1 "/UPDATES=" $0
    ${If} ${Errors}
    ${OrIf} $0 != "1"
      StrCpy $0 "0"
    ${EndIf}
    WriteRegDWORD HKCU "${POLICY_KEY}" "Updates" $0
    ClearErrors
    ${GetOptions} $1 "/FEED=" $0
    ${IfNot} ${Errors}
      WriteRegStr HKCU "${POLICY_KEY}" "UpdateFeed" $0
    ${EndIf}
  ${EndIf}
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  SetShellVarContext current
  CreateShortCut "${DESKTOP_SHORTCUT}" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
  Push "${DESKTOP_SHORTCUT}"
  Call SetShortcutAppId
SectionEnd

Section "un.${APPNAME}" UnSecProgram
  SectionIn RO
  SetShellVarContext current
  !insertmacro QUIT_RUNNING_LAUNCHER
  Delete "${SHORTCUT}"
  Delete "${DESKTOP_SHORTCUT}"
  ; "Start at login" goes too, but only when it starts this copy (not a portable one elsewhere).
  ReadRegStr $0 HKCU "${RUN_KEY}" "${RUN_VALUE}"
  StrCpy $1 $0 1
  ${If} $1 == '"'
    StrCpy $0 $0 "" 1
  ${EndIf}
  StrLen $2 "$INSTDIR\"
  StrCpy $3 $0 $2
  ${If} $3 == "$INSTDIR\"  ; StrCmp ignores case, as Windows paths do
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${EndIf}
  !insertmacro REMOVE_PROGRAM_FILES
  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"  ; only if empty: never a folder with the user's own files in it
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "${POLICY_KEY}"
SectionEnd

Section /o "un.Also remove my settings and data" UnSecData
  ${IfNot} ${Silent}
    DetailPrint "Removing settings, data and logs"
    RMDir /r "${CONFIG_DIR}"
    RMDir /r "${DATA_DIR}"
  ${EndIf}
SectionEnd

; The app's updater ran this silent upgrade (/UPDATE=1): start the new version, as the user
; expects after "Update to X.Y.Z" (the finish page's "Start now" does this for a manual install).
Function .onInstSuccess
  ${GetParameters} $1
  ClearErrors
  ${GetOptions} $1 "/UPDATE=" $0
  ${IfNot} ${Errors}
  ${AndIf} $0 == "1"
    Exec '"$INSTDIR\${EXE}"'
  ${EndIf}
FunctionEnd
