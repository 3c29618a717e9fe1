// The import rules between the rooms of the tree (README.md, "Where things live"), checked by `npm run lint`. Paths are relative to
// the folder depcruise runs in, so test/unit/lint/import-rules.test.ts runs these same rules over a small
// tree of fixtures that breaks each of them on purpose.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend on each other one way: a cycle between two folders makes them one room.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'operator-imports-only-the-contract',
      comment:
        'The operator reads the trainer through trainer/contract/ alone. One exception: trainer/proto/ ' +
        "(Caffe's prototxt format, bytes in and bytes out, which the operator renders into a job's ConfigMap).",
      severity: 'error',
      from: { path: '^operator/' },
      to: { path: '^(trainer|hack)/', pathNot: '^trainer/(contract|proto)/' },
    },
    {
      name: 'operator-reads-no-object-store',
      comment:
        'The operator holds no object-store credentials and reads no bucket (issue #21): progress and ' +
        "counts come from the pods' reports. Nothing it loads reaches trainer/storage/ or the S3 client.",
      severity: 'error',
      from: { path: '^operator/' },
      to: { reachable: true, path: ['^trainer/storage/', 'node_modules/@aws-sdk/'] },
    },
    {
      name: 'operator-loads-no-compute',
      comment:
        'The operator image has no TensorFlow.js, sharp or vega, and loads no net, solver or data code.',
      severity: 'error',
      from: { path: '^operator/' },
      to: {
        reachable: true,
        path: [
          '^trainer/(net|solver|data|backend|train|cli|classify|plot)/',
          'node_modules/(@tensorflow|sharp|vega|vega-lite)/',
        ],
      },
    },
    {
      name: 'contract-stands-alone',
      comment:
        'The contract holds what the operator and the trainer share and no compute: it imports nothing else ' +
        'of ours (findLatestSnapshot reads through the storage its caller passes).',
      severity: 'error',
      from: { path: '^trainer/contract/' },
      to: { path: '^(trainer|operator|hack)/', pathNot: '^trainer/contract/' },
    },
    {
      name: 'formats-import-no-storage',
      comment: 'trainer/proto/ is bytes in, bytes out; reading files by URI is trainer/files.ts.',
      severity: 'error',
      from: { path: '^trainer/proto/' },
      to: { path: '^trainer/storage/' },
    },
    {
      name: 'storage-imports-no-data-code',
      comment: 'trainer/storage/ moves bytes; what they mean is for the rooms that use it.',
      severity: 'error',
      from: { path: '^trainer/storage/' },
      to: { path: '^(trainer/(data|net|solver|train|proto|cli)|operator)/' },
    },
    {
      name: 'api-imports-nothing-of-ours',
      comment:
        'operator/api/ is the schema of the custom resources: the one source of truth depends on nothing.',
      severity: 'error',
      from: { path: '^operator/api/' },
      to: { path: '^(operator|trainer|hack)/', pathNot: '^operator/api/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // As Node resolves our ESM imports (vega-lite, for one, exports only an `import` condition).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
