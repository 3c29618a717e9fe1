// Caffe's upgrade tools: `caffe upgrade_net_proto_text IN OUT`, `caffe upgrade_net_proto_binary IN OUT`
// and `caffe upgrade_solver_proto_text IN OUT`. Each reads a file as written, upgrades legacy forms
// (V1 layers, input fields, solver_type, ...) and writes the current form.

import { ExitCode, UsageError } from '../../contract/errors.js';
import { readBytes, readText, writeBytes, writeText } from '../../files.js';
import { glogLine } from '../../glog.js';
import {
  decodeNetParameter,
  encodeNetParameter,
  parseNetPrototxt,
  parseSolverPrototxt,
  printNetPrototxt,
  printSolverPrototxt,
  upgradeNetParameter,
  upgradeSolverParameter,
} from '../../proto/index.js';
import { registerCommand } from '../command.js';
import { parseFlags } from '../flags.js';

type Upgrade = (input: string, output: string) => Promise<string[]>;

function upgradeCommand(name: string, what: string, upgrade: Upgrade): void {
  const usage = `caffe ${name} INPUT OUTPUT`;
  registerCommand({
    name,
    summary: `upgrade a ${what} from a legacy format to the current one`,
    usage,
    async run(argv) {
      const { positionals } = parseFlags(argv, {}, usage);
      if (positionals.length !== 2) {
        throw new UsageError(
          `expected INPUT OUTPUT, received ${positionals.length} arguments\nusage: ${usage}`,
        );
      }
      const [input, output] = positionals as [string, string];
      const upgrades = await upgrade(input, output);
      const note =
        upgrades.length > 0 ? `upgraded: ${upgrades.join(', ')}` : 'File already in latest proto format.';
      log(`${input}: ${note}`);
      log(`Wrote upgraded ${what} to ${output}`);
      return ExitCode.Ok;
    },
  });
}

function log(message: string): void {
  console.error(glogLine('I', 'upgrade_proto.cpp:50', message, new Date(), process.pid));
}

upgradeCommand('upgrade_net_proto_text', 'NetParameter text proto', async (input, output) => {
  const net = parseNetPrototxt(await readText(input), input, { upgrade: false });
  const { message, upgrades } = upgradeNetParameter(net, input);
  await writeText(output, printNetPrototxt(message));
  return upgrades;
});

upgradeCommand('upgrade_net_proto_binary', 'NetParameter binary proto', async (input, output) => {
  const net = decodeNetParameter(await readBytes(input), input, { upgrade: false });
  const { message, upgrades } = upgradeNetParameter(net, input);
  await writeBytes(output, encodeNetParameter(message));
  return upgrades;
});

upgradeCommand('upgrade_solver_proto_text', 'SolverParameter text proto', async (input, output) => {
  const solver = parseSolverPrototxt(await readText(input), input, { upgrade: false });
  const { message, upgrades } = upgradeSolverParameter(solver, input);
  await writeText(output, printSolverPrototxt(message));
  return upgrades;
});
