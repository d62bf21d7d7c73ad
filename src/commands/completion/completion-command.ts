import { Argument, type Command } from 'commander'
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion-script.ts'

/**
 * Registers `completion bash|zsh`: prints a completion script generated from the whole command
 * tree, which `context.fullProgram` (the registry's CommandContext) builds.
 */
export function registerCompletionCommand (program: Command, context: { fullProgram: () => Promise<Command> }): void {
  program.command('completion')
    .description('print a shell completion script (commands, options, file and choice values) for bash or zsh')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(COMPLETION_SHELLS))
    .action(async (shell: CompletionShell) => {
      process.stdout.write(completionScript(await context.fullProgram(), shell))
    })
}
