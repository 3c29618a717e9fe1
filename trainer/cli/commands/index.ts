// Every `caffe` subcommand, one file each; importing a file registers it.
// Add one import line per command.
