import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { labNamespaces } from '../lab/lab.js';
import { describePrivileged } from '../support/privileges.js';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');

/** Runs `npm run demo` (what `make demo` runs after set-up) with a short duration; needs the build in dist/. */
async function runDemo(): Promise<{ code: number | null; output: string }> {
  // npm runs the script with the first node on PATH: this one.
  const path = `${dirname(process.execPath)}:${process.env.PATH}`;
  const demo = spawn('npm', ['run', '--silent', 'demo'], { cwd: ROOT, env: { ...process.env, PATH: path, NODE_OPTIONS: '', DEMO_DURATION: '1', DEMO_COLLECTOR_PORT: '47391' } });
  let output = '';
  for (const stream of [demo.stdout, demo.stderr]) stream.on('data', (chunk) => (output += String(chunk)));
  const [code] = (await once(demo, 'exit')) as [number | null];
  return { code, output };
}

describePrivileged('make demo (smoke)', () => {
  it('passes every generated stream against what the collector received, with names at both ends and vitals, and leaves no lab behind', async () => {
    const namespacesBefore = await labNamespaces();
    const { code, output } = await runDemo();
    const streams = ['udp/ipv4', 'udp/ipv6', 'tcp/ipv4 frontend -> cart', 'tcp/ipv6', 'icmp echo', 'icmpv6 echo', 'service cart:80', 'service kube-dns:53'];
    for (const stream of streams) expect(output).toMatch(new RegExp(`^PASS .*${stream.replace(/[/.]/g, '\\$&')}`, 'm'));
    expect(output).not.toMatch(/^FAIL/m);
    expect(output).toMatch(/^10 of 10 streams PASS; \d+ flow records and [1-9]\d* vitals records received/m);
    // Names at both ends from the lab API server, the Service on the ClusterIP stream.
    expect(output).toMatch(/shop\/frontend-\S+ \(Deployment\/frontend\)\s+10\.96\.0\.11:80\s+svc shop\/cart\s+in/);
    expect(code).toBe(0);
    expect(await labNamespaces()).toEqual(namespacesBefore);
  });
});
