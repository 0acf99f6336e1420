import type { Command } from 'commander';

/** Shells `dataprod completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandWords {
  name: string;
  description: string;
  flags: { long: string; description: string; takesValue: boolean }[];
  arguments: string[];
}

/**
 * The words to complete, read from the command tree itself so a new command or flag is
 * completed without touching this file.
 */
function commandWords(program: Command): { global: CommandWords['flags']; commands: CommandWords[] } {
  const flagsOf = (command: Command) =>
    command.options
      .filter((option) => option.long)
      .map((option) => ({ long: option.long!, description: option.description, takesValue: option.required || option.optional }));
  return {
    global: [...flagsOf(program), { long: '--help', description: 'show help', takesValue: false }],
    commands: program.commands.map((command) => ({
      name: command.name(),
      description: command.description(),
      flags: flagsOf(command),
      arguments: command.registeredArguments.flatMap((argument) => argument.argChoices ?? []),
    })),
  };
}

/** Single-quoted for sh-like shells. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function bash(program: Command): string {
  const { global, commands } = commandWords(program);
  const cases = commands
    .map((command) => `    ${command.name}) words=${quote([...command.arguments, ...command.flags.map((flag) => flag.long), ...global.map((flag) => flag.long)].join(' '))} ;;`)
    .join('\n');
  return `# bash completion for dataprod: source it, or save it as
#   ~/.local/share/bash-completion/completions/dataprod
_dataprod() {
  local current="\${COMP_WORDS[COMP_CWORD]}" command="" word words
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) command="$word"; break ;; esac
  done
  case "$command" in
    "") words=${quote([...commands.map((command) => command.name), ...global.map((flag) => flag.long)].join(' '))} ;;
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$current"))
}
complete -o default -F _dataprod dataprod
`;
}

function zsh(program: Command): string {
  const { global, commands } = commandWords(program);
  const describe = (word: string, description: string) => quote(`${word.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`);
  const cases = commands
    .map(
      (command) =>
        `    ${command.name}) values=(${[...command.arguments.map((argument) => describe(argument, command.name)), ...command.flags.map((flag) => describe(flag.long, flag.description)), ...global.map((flag) => describe(flag.long, flag.description))].join(' ')}) ;;`,
    )
    .join('\n');
  return `#compdef dataprod
# zsh completion for dataprod: save it as _dataprod in a directory of $fpath
_dataprod() {
  local -a values
  local command=""
  local word
  for word in \${words[2,CURRENT-1]}; do
    case "$word" in -*) ;; *) command="$word"; break ;; esac
  done
  case "$command" in
    "") values=(${[...commands.map((command) => describe(command.name, command.description)), ...global.map((flag) => describe(flag.long, flag.description))].join(' ')}) ;;
${cases}
  esac
  _describe 'dataprod' values
}
compdef _dataprod dataprod
`;
}

function fish(program: Command): string {
  const { global, commands } = commandWords(program);
  const names = commands.map((command) => command.name).join(' ');
  const lines = ['# fish completion for dataprod: save it as ~/.config/fish/completions/dataprod.fish', 'complete -c dataprod -f'];
  for (const flag of global) lines.push(`complete -c dataprod -l ${flag.long.slice(2)}${flag.takesValue ? ' -r' : ''} -d ${quote(flag.description)}`);
  for (const command of commands) {
    lines.push(`complete -c dataprod -n ${quote(`not __fish_seen_subcommand_from ${names}`)} -a ${command.name} -d ${quote(command.description)}`);
    for (const argument of command.arguments) lines.push(`complete -c dataprod -n ${quote(`__fish_seen_subcommand_from ${command.name}`)} -a ${argument}`);
    for (const flag of command.flags) {
      lines.push(`complete -c dataprod -n ${quote(`__fish_seen_subcommand_from ${command.name}`)} -l ${flag.long.slice(2)}${flag.takesValue ? ' -r' : ''} -d ${quote(flag.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`, generated from the program's commands and flags. */
export function completionScript(program: Command, shell: CompletionShell): string {
  return { bash, zsh, fish }[shell](program);
}
