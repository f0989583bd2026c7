# bash completion for at-login(1)
_at_login() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
	--db)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--workers | --rate | --deadline | --flush | --date)
		return
		;;
	esac
	COMPREPLY=($(compgen -W "--all --workers --rate --deadline --flush --force --date --db --help --version" -- "$cur"))
}
complete -F _at_login at-login
