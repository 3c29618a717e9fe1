// Every `caffe` subcommand, one file each; importing a file registers its commands. The CLI imports
// only the file of the command it runs, so a prep worker does not load TensorFlow.js or vega (about
// a second of start-up); `help` imports them all. Add one line per command: the name its file
// registers, and the file.
const upgrade = () => import('./upgrade.js');

export const COMMAND_FILES: Readonly<Record<string, () => Promise<unknown>>> = {
  classify: () => import('./classify.js'),
  compute_image_mean: () => import('./compute-image-mean.js'),
  convert_imageset: () => import('./convert-imageset.js'),
  describe: () => import('./describe.js'),
  'imagenet finalize': () => import('./imagenet-finalize.js'),
  'imagenet prep': () => import('./imagenet-prep.js'),
  plot: () => import('./plot.js'),
  test: () => import('./test.js'),
  time: () => import('./time.js'),
  train: () => import('./train.js'),
  upgrade_net_proto_binary: upgrade,
  upgrade_net_proto_text: upgrade,
  upgrade_solver_proto_text: upgrade,
};

/** Imports the file of the command argv names (the longest known prefix), or every file. */
export async function loadCommands(argv: string[]): Promise<void> {
  for (let words = Math.min(argv.length, 3); words > 0; words--) {
    const load = COMMAND_FILES[argv.slice(0, words).join(' ')];
    if (load) {
      await load();
      return;
    }
  }
  await Promise.all(Object.values(COMMAND_FILES).map((load) => load()));
}
