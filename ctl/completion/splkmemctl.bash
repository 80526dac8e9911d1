# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for splkmemctl(8).
# shellcheck disable=SC2207  # compgen output is one word per line, as bash-completion does

_splkmemctl_caches()
{
	splkmemctl -j list 2>/dev/null |
		grep -o '"name":"[^"]*"' | sed 's/"name":"\(.*\)"/\1/'
}

_splkmemctl_tunables()
{
	splkmemctl -j get 2>/dev/null |
		grep -o '"name":"[^"]*"' | sed 's/"name":"\(.*\)"/\1/'
}

_splkmemctl()
{
	local cur prev cmd i words_n
	local fields="name backing obj_size obj_align slab_size slab_objs bytes
		used_bytes slab_total slab_alloc slab_max obj_total obj_alloc obj_max
		live_objs linux_objs mag_size mag_auto mag_refill mag_objs
		obj_emergency obj_emergency_max obj_deadlock slab_create
		slab_destroy slab_fail grow grow_fail grow_backoff reap
		depot_full depot_empty depot_locks depot_contended slab_locks
		slab_contended"
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command is the first word that is not a global option.
	cmd=
	words_n=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) continue ;;
		esac
		# The value of an option that takes one is not an argument.
		case ${COMP_WORDS[i - 1]} in
		-s | -d | -n | -c | -l) [[ -n $cmd ]] && continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=${COMP_WORDS[i]}
		else
			words_n=$((words_n + 1))
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-j --json -p --pretty -V --version -h --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "list show get set magazine reap monitor top help" -- "$cur"))
		fi
		return
	fi

	case $prev in
	-s)
		COMPREPLY=($(compgen -W "$fields" -- "$cur"))
		return ;;
	-d | -n | -c | -l)
		return ;;
	esac

	case $cmd in
	list)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-s -r" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_splkmemctl_caches)" -- "$cur"))
		fi ;;
	show | reap)
		((words_n == 0)) &&
			COMPREPLY=($(compgen -W "$(_splkmemctl_caches)" -- "$cur")) ;;
	magazine)
		if ((words_n == 0)); then
			COMPREPLY=($(compgen -W "$(_splkmemctl_caches)" -- "$cur"))
		elif ((words_n == 1)); then
			COMPREPLY=($(compgen -W "auto 2 4 8 16 32 64 128 256" -- "$cur"))
		fi ;;
	get | set)
		((words_n == 0)) &&
			COMPREPLY=($(compgen -W "$(_splkmemctl_tunables)" -- "$cur")) ;;
	monitor)
		COMPREPLY=($(compgen -W "-c -w -j -p" -- "$cur")) ;;
	top)
		COMPREPLY=($(compgen -W "-d -n -s -l -r -j -p" -- "$cur")) ;;
	esac
	# Global options are taken after the command too (as ip does).
	if [[ $cur == -* && $cmd != monitor && $cmd != top ]]; then
		COMPREPLY+=($(compgen -W "-j -p" -- "$cur"))
	fi
}

complete -F _splkmemctl splkmemctl
