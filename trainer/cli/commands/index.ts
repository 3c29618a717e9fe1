// Every `caffe` subcommand, one file each; importing a file registers it.
// Add one import line per command.
import './classify.js';
import './compute-image-mean.js';
import './convert-imageset.js';
import './describe.js';
import './imagenet-finalize.js';
import './imagenet-prep.js';
import './plot.js';
import './test.js';
import './time.js';
import './train.js';
import './upgrade.js';
