# bash completion for at-feed(1)
_at_feed() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
	--db)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "sqlite: postgresql://" -- "$cur"))
		return
		;;
	--token-file | --capture | --instruments-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--fanout)
		compopt -o dirnames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--mode)
		COMPREPLY=($(compgen -W "ltp quote full" -- "$cur"))
		return
		;;
	--underlyings)
		COMPREPLY=($(compgen -W "NIFTY BANKNIFTY FINNIFTY NIFTY,BANKNIFTY" -- "$cur"))
		return
		;;
	--api-key | --ws-url | --api-url | --strikes | --as-of | --tokens | \
		--resubscribe-every | --fanout-buffer | --from | --to | --speed)
		return
		;;
	esac
	if [[ "$cur" == --replay=* ]]; then
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -P --replay= -- "${cur#--replay=}"))
		return
	fi
	COMPREPLY=($(compgen -W "--db --api-key --token-file --ws-url --api-url
		--mode --underlyings --strikes --as-of --tokens --resubscribe-every
		--fanout --fanout-buffer --record --capture --replay --replay= --from
		--to --speed --refresh-instruments --instruments-file --help
		--version" -- "$cur"))
}
complete -F _at_feed at-feed
