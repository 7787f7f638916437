/**
 * A bash completion script (zsh loads it through bashcompinit) that asks `<bin> completion words` for candidates.
 * Words are passed after `--` so that none is read as a flag of the completion command itself.
 */
export function completionScript(bin: string, shell: 'bash' | 'zsh'): string {
  const fn = `_${bin.replaceAll(/\W/g, '_')}_complete`
  const bash = [
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}"',
    "  local IFS=$'\\n'",
    `  COMPREPLY=($(compgen -W "$(${bin} completion words -- "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)" -- "$cur"))`,
    '}',
    `complete -o default -F ${fn} ${bin}`,
  ]
  const zsh = ['autoload -U +X bashcompinit && bashcompinit', ...bash]
  return (shell === 'zsh' ? zsh : bash).join('\n')
}
