// The Dockerfile as stages of plain data, for tests that check it without a Docker engine. Parsing
// (continuations, JSON and shell forms, flags) is dockerfile-ast's; this only gathers what we check.
import {
  type Copy,
  DockerfileParser,
  type Entrypoint,
  type From,
  type JSONInstruction,
} from 'dockerfile-ast';

export interface CopyStep {
  /** The stage named by --from, when there is one. */
  from?: string;
  sources: string[];
  destination: string;
  line: number;
}

export interface Stage {
  /** The name after AS (every stage of ours has one). */
  name: string;
  /** The FROM image, with ${ARG}s replaced by their global defaults: an image or an earlier stage. */
  base: string;
  line: number;
  runs: string[];
  copies: CopyStep[];
  /** The stage's own last USER, if it sets one. */
  user?: string;
  /** The stage's own last ENTRYPOINT in exec (JSON) form. */
  entrypoint?: string[];
}

export function parseDockerfile(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const defaults = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) defaults.set(property.getName(), property.getValue() ?? '');
  }
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;
    if (keyword === 'FROM') {
      const from = instruction as From;
      stages.push({
        name: from.getBuildStage() ?? `#${stages.length}`,
        base: expand(from.getImage() ?? '', defaults),
        line,
        runs: [],
        copies: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) continue; // a global ARG
    if (keyword === 'RUN') stage.runs.push(instruction.getArgumentsContent() ?? '');
    else if (keyword === 'COPY') stage.copies.push(copyStep(instruction as Copy, line));
    else if (keyword === 'USER') stage.user = (instruction.getArgumentsContent() ?? '').trim();
    else if (keyword === 'ENTRYPOINT') stage.entrypoint = jsonStrings(instruction as Entrypoint);
  }
  return stages;
}

/** The stages a stage is built on, itself first, following FROM <stage> down to an image. */
export function ancestry(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === name);
  while (current && !chain.includes(current)) {
    chain.push(current);
    const base = current.base;
    current = stages.find((s) => s.name === base);
  }
  return chain;
}

function copyStep(copy: Copy, line: number): CopyStep {
  const from = copy.getFromFlag()?.getValue() ?? undefined;
  const json = jsonStrings(copy);
  const words = json ?? copy.getArguments().map((a) => a.getValue());
  return {
    ...(from ? { from } : {}),
    sources: words.slice(0, -1),
    destination: words.at(-1) ?? '',
    line,
  };
}

function jsonStrings(instruction: JSONInstruction): string[] | undefined {
  const strings = instruction.getJSONStrings().map((s) => s.getJSONValue());
  return strings.length > 0 ? strings : undefined;
}

function expand(text: string, defaults: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced, bare) => defaults.get(braced ?? bare) ?? whole);
}
