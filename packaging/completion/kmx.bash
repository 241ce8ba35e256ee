# bash completion for kmx: the tool names after `kmx`, then each tool's options as its own
# --help lists them (so the completion never disagrees with the binary), commands for
# autoclean and persist, and file names elsewhere. The kmod tools keep their own completions
# when kmx is called through their names.
_kmx() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local kmx=${COMP_WORDS[0]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    local tools
    tools=$("$kmx" --help 2>/dev/null | awk '/^  [a-z]/ {print $1}')
    COMPREPLY=($(compgen -W "$tools --help --version" -- "$cur"))
    return
  fi
  local tool=${COMP_WORDS[1]}
  if [[ $cur == -* ]]; then
    local opts
    opts=$("$kmx" "$tool" --help 2>/dev/null | grep -oE -- '--?[a-zA-Z][a-zA-Z-]*' | sort -u)
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case $tool in
    autoclean|persist)
      if [ "$COMP_CWORD" -eq 2 ] || [[ ${COMP_WORDS[COMP_CWORD-1]} == --* && $COMP_CWORD -eq 4 ]]; then
        local cmds
        cmds=$("$kmx" "$tool" --help 2>/dev/null | sed -n '/^Commands/,$p' | awk 'NR > 1 && /^  [a-z]/ {print $1}' | sort -u)
        COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
        return
      fi
      ;;
  esac
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _kmx kmx
