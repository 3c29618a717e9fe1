// The shape of one `caffe` subcommand, and the registry that maps its name to it.
import { UsageError } from '../contract/errors.js';

export interface Command {
  /** The name a user types: `train`, `describe`, `imagenet prep`. */
  name: string;
  /** One line for `caffe help`. */
  summary: string;
  /** Usage text shown on a usage error, flags included. */
  usage: string;
  /** Runs the command; resolves to the process exit code. Throw BadInputError or UsageError. */
  run(argv: string[]): Promise<number>;
}

const commands = new Map<string, Command>();

export function registerCommand(command: Command): void {
  if (commands.has(command.name)) throw new Error(`command ${command.name} is registered twice`);
  commands.set(command.name, command);
}

export function allCommands(): Command[] {
  return [...commands.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Finds the longest registered name that prefixes argv (`imagenet prep` before `imagenet`). */
export function findCommand(argv: string[]): { command: Command; rest: string[] } {
  for (let words = Math.min(argv.length, 3); words > 0; words--) {
    const command = commands.get(argv.slice(0, words).join(' '));
    if (command) return { command, rest: argv.slice(words) };
  }
  const known = allCommands()
    .map((c) => c.name)
    .join(', ');
  throw new UsageError(`unknown command '${argv.join(' ')}'; known commands: ${known}`);
}
