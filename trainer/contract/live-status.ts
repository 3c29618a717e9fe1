// The live status record of `caffe train --status-file=URI`, as both sides read it: the trainer writes it
// (trainer/train/live-status.ts) and the operator reads it to report progress without parsing logs.
import { z } from 'zod';

import { BadInputError } from './errors.js';
import { fieldPath } from './records.js';

export const LIVE_STATUS_VERSION = 1;

// A diverged run has NaN or infinite losses, which JSON writes as null: read null back as NaN so the
// field stays a number.
const lossValue = z.union([z.number(), z.null().transform(() => Number.NaN)]);
const count = z.number().int().nonnegative();

const testResultSchema = z.object({
  netIndex: count.describe('The test net, numbered as the solver lists them (test_iter order).'),
  iteration: count.describe('The iteration (updates done) at which the test pass ran.'),
  loss: lossValue.optional().describe('The mean test loss; present only with test_compute_loss.'),
  outputs: z
    .array(z.object({ name: z.string(), value: lossValue }))
    .describe('Every element of every output blob, in Caffe\'s "Test net output #k" order.'),
});

export const liveStatusSchema = z.object({
  version: z.literal(LIVE_STATUS_VERSION),
  state: z
    .enum(['running', 'succeeded', 'stopped'])
    .describe('running; succeeded: max_iter reached; stopped: ended by SIGTERM/SIGINT after its snapshot.'),
  iteration: count.describe('Weight updates done so far.'),
  maxIter: count.describe("The solver's max_iter."),
  trainLoss: lossValue.describe('The average_loss-smoothed loss, as in "Iteration N (...), loss = X".'),
  lastLoss: lossValue.describe('The loss of the last iteration.'),
  learningRate: z.number().describe('The learning rate of the last iteration.'),
  imagesPerSecond: z
    .number()
    .nonnegative()
    .describe('Train images per second over the last display interval.'),
  tests: z.array(testResultSchema).describe('The last test pass of each test net.'),
  latestSnapshot: z
    .object({ iteration: count, caffemodel: z.string(), solverstate: z.string() })
    .optional()
    .describe('The newest complete snapshot (its progress record written).'),
  updatedAt: z.iso.datetime({ offset: true }).describe('When this record was written (RFC 3339).'),
});

export type LiveStatus = z.infer<typeof liveStatusSchema>;
export type LiveTestResult = z.infer<typeof testResultSchema>;
/** What the trainer knows at a moment; the writer adds version and updatedAt. */
export type LiveProgress = Omit<LiveStatus, 'version' | 'updatedAt'>;

/** Checks a decoded status record; `where` names the file in the error. */
export function parseLiveStatus(json: unknown, where: string): LiveStatus {
  const result = liveStatusSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new BadInputError(`${fieldPath(issue.path)}: ${issue.message}`, where);
}
