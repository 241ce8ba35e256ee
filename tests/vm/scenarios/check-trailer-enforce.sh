# check-trailer.sh's runner under module.sig_enforce=1 (the boot of check-cmdline.sh, whose
# module_blacklist names none of these): a legacy id_type is now refused like an unknown key
# ("Loading of module with unsupported crypto is rejected", EKEYREJECTED), a non-zero __pad byte
# and signed attributes are refused as before (the same errno, enforcement or not), and forced
# loads (insmod -f) count as unsigned: Debian's own signed in-tree module and the throwaway-key
# module are both refused ("Loading of unsigned module is rejected").
lab_cmdline="module.sig_enforce=1 module_blacklist=check_prop,dummy"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-trailer.sh"
check_b_cases="legacy pad authattrs authattrs2 tree-ifb f-tree-ifb f-ownkey f-ownkeyz"
