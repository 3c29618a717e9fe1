// The dataset controller's decision: from what was observed, the phase, the status to record, the
// Jobs to create or suspend, and the Events to emit. Pure: no clock, no client, no I/O.
import type { DatasetPhase, ImageNetDatasetSpec, ImageNetDatasetStatus } from '../api/imagenet-dataset.js';
import { type ConditionInput, setConditions } from '../runtime/conditions.js';
import type { EventType } from '../runtime/events.js';
import { datasetOutputs, jobName, outputPrefix, type Step } from './jobs.js';
import type { JobView } from './observe.js';

export const Reason = {
  Pending: 'Pending',
  Suspended: 'Suspended',
  WaitingForOldJob: 'WaitingForOldJob',
  PrepRunning: 'PrepRunning',
  Queued: 'Queued',
  Finalizing: 'Finalizing',
  Ready: 'Ready',
  NoFailure: 'NoFailure',
  InvalidSpec: 'InvalidSpec',
  BadInput: 'BadInput',
  ShardFailed: 'ShardFailed',
  FinalizeFailed: 'FinalizeFailed',
  Failed: 'Failed',
  CountsNotReported: 'CountsNotReported',
} as const;

/** How long to wait before looking again at a Job left by an earlier dataset of the same name. */
export const OLD_JOB_RECHECK_MS = 5_000;

export interface DatasetInput {
  name: string;
  generation?: number;
  /** The parsed spec, or undefined when it failed validation (specError says why). */
  spec?: ImageNetDatasetSpec;
  specError?: string;
  uid: string;
  status: ImageNetDatasetStatus;
  prepJob?: JobView;
  finalizeJob?: JobView;
  now: Date;
}

export type DatasetAction = { type: 'createJob'; step: Step } | { type: 'suspendPrep'; suspend: boolean };

export interface DatasetEvent {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

export interface DatasetDecision {
  phase: DatasetPhase;
  status: ImageNetDatasetStatus;
  actions: DatasetAction[];
  events: DatasetEvent[];
  requeueAfterMs?: number;
}

/** What one branch of the decision says, before it becomes a status. */
interface Verdict {
  phase: DatasetPhase;
  /** Progressing condition: True while work runs. */
  progressing: { status: 'True' | 'False'; reason: string; message: string };
  failure?: { reason: string; message: string };
  actions?: DatasetAction[];
  events?: DatasetEvent[];
  requeueAfterMs?: number;
  /** Extra status fields the branch sets. */
  status?: Partial<ImageNetDatasetStatus>;
}

export function decideDataset(input: DatasetInput): DatasetDecision {
  const verdict = judge(input);
  return {
    phase: verdict.phase,
    status: statusFor(input, verdict),
    actions: verdict.actions ?? [],
    events: verdict.events ?? [],
    ...(verdict.requeueAfterMs !== undefined ? { requeueAfterMs: verdict.requeueAfterMs } : {}),
  };
}

function judge(input: DatasetInput): Verdict {
  const { spec, status } = input;
  // Ready and Failed are final: the spec cannot change, so there is nothing left to do.
  if (status.phase === 'Ready' || status.phase === 'Failed') return keepFinal(input, status.phase);
  if (!spec) return invalidSpec(input.specError ?? 'the spec could not be read');
  const { prepJob, finalizeJob } = input;
  if (prepJob && !ownedByThisDataset(input, prepJob)) return waitForOldJob(prepJob);
  if (!prepJob) return spec.suspend ? suspendedBeforeStart() : startPrep(input, spec);
  if (prepJob.outcome?.type === 'Failed') return prepFailed(prepJob);
  if (prepJob.outcome?.type !== 'Complete') return preparing(spec, prepJob);
  if (finalizeJob && !ownedByThisDataset(input, finalizeJob)) return waitForOldJob(finalizeJob);
  if (!finalizeJob) return startFinalize(input);
  if (finalizeJob.outcome?.type === 'Failed') return finalizeFailed(finalizeJob);
  if (finalizeJob.outcome?.type !== 'Complete') return finalizing(finalizeJob);
  return ready(input, spec);
}

function ownedByThisDataset(input: DatasetInput, job: JobView): boolean {
  return job.ownerUid === input.uid;
}

function invalidSpec(message: string): Verdict {
  return {
    phase: 'Failed',
    progressing: {
      status: 'False',
      reason: Reason.InvalidSpec,
      message: 'Nothing runs for an invalid spec.',
    },
    failure: { reason: Reason.InvalidSpec, message },
    events: [{ type: 'Warning', reason: Reason.InvalidSpec, action: 'Validate', note: message }],
  };
}

function keepFinal(input: DatasetInput, phase: 'Ready' | 'Failed'): Verdict {
  const failed = input.status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  return {
    phase,
    progressing: {
      status: 'False',
      reason: phase === 'Ready' ? Reason.Ready : Reason.Failed,
      message: 'Done.',
    },
    ...(failed ? { failure: { reason: failed.reason, message: failed.message } } : {}),
  };
}

function waitForOldJob(job: JobView): Verdict {
  return {
    phase: 'Pending',
    progressing: {
      status: 'False',
      reason: Reason.WaitingForOldJob,
      message: `Job ${job.name} belongs to an earlier dataset of the same name; waiting for it to be deleted.`,
    },
    requeueAfterMs: OLD_JOB_RECHECK_MS,
  };
}

function suspendedBeforeStart(): Verdict {
  return {
    phase: 'Pending',
    progressing: {
      status: 'False',
      reason: Reason.Suspended,
      message: 'The dataset is suspended; set spec.suspend to false to start preparing it.',
    },
  };
}

function startPrep(input: DatasetInput, spec: ImageNetDatasetSpec): Verdict {
  const name = jobName(input.name, 'prep');
  return {
    phase: 'Preparing',
    progressing: {
      status: 'True',
      reason: Reason.PrepRunning,
      message: `0 of ${spec.shards} shards prepared.`,
    },
    actions: [{ type: 'createJob', step: 'prep' }],
    events: [
      {
        type: 'Normal',
        reason: 'PrepStarted',
        action: 'CreateJob',
        note: `Created Job ${name} with ${spec.shards} prep workers writing to ${outputPrefix(spec)}.`,
      },
    ],
    status: {
      startTime: input.now.toISOString(),
      prepJob: name,
      shards: { total: spec.shards, succeeded: 0, failed: 0 },
    },
  };
}

function preparing(spec: ImageNetDatasetSpec, job: JobView): Verdict {
  const actions: DatasetAction[] = [];
  const events: DatasetEvent[] = [];
  const done = `${job.succeededIndexes} of ${spec.shards} shards prepared.`;
  // A queued Job's suspend belongs to Kueue (its batch/Job integration unsuspends it on admission and
  // suspends it on eviction): the operator never flips it.
  if (spec.queueName) {
    return {
      phase: 'Preparing',
      progressing: job.suspended
        ? {
            status: 'False',
            reason: Reason.Queued,
            message: `Job ${job.name} waits in LocalQueue ${spec.queueName} for Kueue to admit it; ${done}`,
          }
        : { status: 'True', reason: Reason.PrepRunning, message: done },
      actions,
      events,
    };
  }
  if (job.suspended !== spec.suspend) {
    actions.push({ type: 'suspendPrep', suspend: spec.suspend });
    events.push(
      spec.suspend
        ? { type: 'Normal', reason: 'Suspended', action: 'SuspendJob', note: `Suspended Job ${job.name}.` }
        : { type: 'Normal', reason: 'Resumed', action: 'ResumeJob', note: `Resumed Job ${job.name}.` },
    );
  }
  return {
    phase: 'Preparing',
    progressing: spec.suspend
      ? { status: 'False', reason: Reason.Suspended, message: `Suspended; ${done}` }
      : { status: 'True', reason: Reason.PrepRunning, message: done },
    actions,
    events,
  };
}

function prepFailed(job: JobView): Verdict {
  const badInput = job.outcome?.reason === 'PodFailurePolicy';
  const message = badInput
    ? `A prep worker of Job ${job.name} exited with code 65: the input is bad and retrying cannot help. ` +
      `Its log says which file or field. (${job.outcome?.message})`
    : `Job ${job.name} failed: ${job.outcome?.reason}: ${job.outcome?.message}`;
  const reason = badInput ? Reason.BadInput : Reason.ShardFailed;
  return {
    phase: 'Failed',
    progressing: { status: 'False', reason: Reason.Failed, message: 'Preparation stopped.' },
    failure: { reason, message },
    events: [{ type: 'Warning', reason, action: 'ObserveJob', note: message }],
  };
}

function startFinalize(input: DatasetInput): Verdict {
  const name = jobName(input.name, 'finalize');
  return {
    phase: 'Finalizing',
    progressing: { status: 'True', reason: Reason.Finalizing, message: 'All shards prepared; finalizing.' },
    actions: [{ type: 'createJob', step: 'finalize' }],
    events: [
      {
        type: 'Normal',
        reason: 'FinalizeStarted',
        action: 'CreateJob',
        note: `All shards are prepared; created Job ${name} to write the mean, label lists and manifest.`,
      },
    ],
    status: { finalizeJob: name },
  };
}

function finalizing(job: JobView): Verdict {
  return {
    phase: 'Finalizing',
    progressing: { status: 'True', reason: Reason.Finalizing, message: `Job ${job.name} is finalizing.` },
  };
}

function finalizeFailed(job: JobView): Verdict {
  const reason = job.outcome?.reason === 'PodFailurePolicy' ? Reason.BadInput : Reason.FinalizeFailed;
  const message = `Job ${job.name} failed: ${job.outcome?.reason}: ${job.outcome?.message}`;
  return {
    phase: 'Failed',
    progressing: { status: 'False', reason: Reason.Failed, message: 'Finalizing stopped.' },
    failure: { reason, message },
    events: [{ type: 'Warning', reason, action: 'ObserveJob', note: message }],
  };
}

function ready(input: DatasetInput, spec: ImageNetDatasetSpec): Verdict {
  const out = outputPrefix(spec);
  // The counts are in the status already: the finalize step reported them to the operator before it
  // exited (operator/progress), which wrote them there. The operator reads no manifest.
  const counts = input.status.images;
  const status: Partial<ImageNetDatasetStatus> = {
    completionTime: input.now.toISOString(),
    outputs: datasetOutputs(spec, input.status.outputs?.shards),
  };
  const events: DatasetEvent[] = [];
  if (counts) {
    events.push({
      type: 'Normal',
      reason: Reason.Ready,
      action: 'ObserveJob',
      note: `Ready: ${counts.train} training and ${counts.val} validation images, ${counts.skipped} skipped.`,
    });
  } else {
    events.push({ type: 'Normal', reason: Reason.Ready, action: 'ObserveJob', note: `Ready at ${out}.` });
    events.push({
      type: 'Warning',
      reason: Reason.CountsNotReported,
      action: 'ObserveJob',
      note:
        'The data is ready but the image counts are unknown: the finalize step reported none to the ' +
        `operator (its log says why); they are in ${out}/manifest.json.`,
    });
  }
  return {
    phase: 'Ready',
    progressing: { status: 'False', reason: Reason.Ready, message: 'Preparation finished.' },
    events,
    status,
  };
}

function statusFor(input: DatasetInput, verdict: Verdict): ImageNetDatasetStatus {
  const { spec, prepJob, now, generation } = input;
  const status: ImageNetDatasetStatus = { ...input.status, ...verdict.status, phase: verdict.phase };
  if (generation !== undefined) status.observedGeneration = generation;
  if (spec && prepJob && ownedByThisDataset(input, prepJob) && verdict.phase !== 'Ready') {
    status.shards = {
      total: spec.shards,
      succeeded: prepJob.succeededIndexes,
      failed: prepJob.failedIndexes,
    };
  } else if (spec && verdict.phase === 'Ready') {
    status.shards = { total: spec.shards, succeeded: spec.shards, failed: 0 };
  }
  if (status.shards) status.shardProgress = `${status.shards.succeeded}/${status.shards.total}`;
  if (prepJob && ownedByThisDataset(input, prepJob)) status.prepJob = prepJob.name;
  if (input.finalizeJob && ownedByThisDataset(input, input.finalizeJob))
    status.finalizeJob = input.finalizeJob.name;
  if (verdict.phase === 'Failed' && !status.completionTime) status.completionTime = now.toISOString();
  const conditions: ConditionInput[] = [
    verdict.phase === 'Ready'
      ? {
          type: 'Ready',
          status: 'True',
          reason: Reason.Ready,
          message: `The data is ready at ${readyAt(input)}.`,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: verdict.progressing.reason,
          message: verdict.progressing.message,
        },
    { type: 'Progressing', ...verdict.progressing },
    verdict.failure
      ? { type: 'Failed', status: 'True', ...verdict.failure }
      : { type: 'Failed', status: 'False', reason: Reason.NoFailure, message: 'Nothing has failed.' },
  ];
  status.conditions = setConditions(input.status.conditions, conditions, now, generation);
  return status;
}

function readyAt(input: DatasetInput): string {
  if (input.status.outputs?.manifest) return input.status.outputs.manifest.replace(/\/manifest\.json$/, '');
  return input.spec ? outputPrefix(input.spec) : 'its output';
}
