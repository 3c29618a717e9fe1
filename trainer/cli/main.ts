#!/usr/bin/env node
// The `caffe` command: Caffe's tools and flags, so a Caffe user's habits work.
import { ExitCode, exitCodeFor, UsageError } from '../contract/errors.js';
import { allCommands, findCommand } from './command.js';
import { loadCommands } from './commands/index.js';
import { HelpRequested } from './flags.js';

async function main(argv: string[]): Promise<number> {
  await loadCommands(argv);
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help') {
    const lines = allCommands().map((c) => `  ${c.name.padEnd(28)} ${c.summary}`);
    console.log(`usage: caffe <command> [flags]\n\ncommands:\n${lines.join('\n')}`);
    return argv.length === 0 ? ExitCode.Usage : ExitCode.Ok;
  }
  const { command, rest } = findCommand(argv);
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof HelpRequested) {
      console.log(`usage: ${error.usage}`);
      process.exitCode = ExitCode.Ok;
      return;
    }
    // Bad input and usage errors are one line for the user; anything else keeps its stack for us.
    const known = error instanceof UsageError || (error instanceof Error && error.name === 'BadInputError');
    console.error(known ? `caffe: ${(error as Error).message}` : error);
    process.exitCode = exitCodeFor(error);
  },
);
