/** The hexagon's rules, checked by `make test` (npm run lint:deps). */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain is the model: no framework, no I/O, no application or adapter code.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: {
        path: ['^src/application', '^src/adapters', 'node_modules/@nestjs', 'node_modules/@kubernetes', 'node_modules/prom-client', 'node_modules/pino'],
      },
    },
    {
      name: 'domain-no-node-io',
      comment: 'src/domain may not touch the network, files, processes or the OS.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|net|dgram|http|https|http2|child_process|os|dns|tls|cluster|worker_threads|process)(/|$)' },
    },
    {
      name: 'application-knows-no-adapters',
      comment: 'Use cases talk to ports; adapters are bound in Nest modules at the composition root.',
      severity: 'error',
      from: { path: '^src/application' },
      to: { path: '^src/adapters' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
