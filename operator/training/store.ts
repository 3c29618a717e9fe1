// The object-store reads of the training controller, through the trainer's own storage layer and
// formats, with the operator's credentials (the standard AWS environment variables).
import { findLatestSnapshot } from '../../trainer/contract/snapshots.js';
import { storageFor } from '../../trainer/storage/index.js';
import type { TrainingStore } from './controller.js';

export const objectStoreTrainingStore: TrainingStore = {
  async findLatestSnapshot(prefix) {
    const found = await findLatestSnapshot(prefix, storageFor(prefix));
    return (
      found && { iteration: found.iteration, caffemodel: found.caffemodel, solverstate: found.solverstate }
    );
  },
};
