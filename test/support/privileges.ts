import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { missingCapabilities } from '../../src/adapters/capture/capture-environment.js';

/** What the privileged lab tests lack to run here: root (network namespaces) and the capture capabilities. */
export function missingLabPrivileges(): string[] {
  const missing = process.getuid?.() === 0 ? [] : ['root (ip netns)'];
  return [...missing, ...missingCapabilities(readFileSync('/proc/self/status', 'utf8')).map((entry) => entry.capability)];
}

/** TCX needs kernel 6.6 or later. */
export function kernelHasTcx(): boolean {
  const [major, minor] = release().split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 6);
}

/**
 * describe() for tests that need root and CAP_BPF/CAP_PERFMON/CAP_NET_ADMIN (or a
 * further condition such as TCX). Without them the tests are skipped with a loud
 * warning — except under CI=true, where the block fails instead, so CI never
 * passes by skipping.
 */
export function describePrivileged(title: string, body: () => void, extra: { unmet?: string } = {}): void {
  const missing = [...missingLabPrivileges(), ...(extra.unmet ? [extra.unmet] : [])];
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = `${title}: needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('runs with the privileges it needs', () => {
        throw new Error(`${message} (CI=true: failing instead of skipping)`);
      });
    });
    return;
  }
  console.warn(`SKIPPING privileged tests — ${message}`);
  describe.skip(title, body);
}

/** The attach modes to test: both, with TCX reported as unmet on kernels before 6.6. */
export const ATTACH_MODES: ReadonlyArray<{ mode: 'tcx' | 'tc'; unmet?: string }> = [
  { mode: 'tcx', unmet: kernelHasTcx() ? undefined : `kernel >= 6.6 for TCX (have ${release()})` },
  { mode: 'tc' },
];
