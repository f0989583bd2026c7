# bash completion for at-user(1)
_at_user() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		--db | --user | --email | --name | --google-sub | --tier | --file | --client-id | \
			--client-secret-file | --device-url | --token-url | --jwks-url | --issuer)
			((i++))
			;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	case "$prev" in
	--db)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "sqlite: postgresql://" -- "$cur"))
		return
		;;
	--file | --client-secret-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--tier)
		COMPREPLY=($(compgen -W "FREE PRO" -- "$cur"))
		return
		;;
	--user | --email | --name | --google-sub | --client-id | --device-url | --token-url | --jwks-url | --issuer)
		return
		;;
	esac
	if [[ "$cur" == -* ]]; then
		local opts="--db --help --version"
		case "$cmd" in
		add) opts="--db --email --name --google-sub --tier" ;;
		list | show) opts="--db --user" ;;
		set-credentials) opts="--db --user --file" ;;
		signin) opts="--db --client-id --client-secret-file --device-url --token-url --jwks-url --issuer" ;;
		"") opts="--db --user --help --version" ;;
		*) opts="--db" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "add list show disable enable set-credentials rotate-key signin genkey" -- "$cur"))
	fi
}
complete -F _at_user at-user
