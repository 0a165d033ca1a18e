import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

/** Capability bit numbers from linux/capability.h. */
const CAPABILITIES = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;

/** What capture needs, why, and what CAP_SYS_ADMIN stands in for (bpf_capable(), perfmon_capable()). */
const REQUIRED: ReadonlyArray<{ name: keyof typeof CAPABILITIES; effect: string; coveredBySysAdmin: boolean }> = [
  { name: 'CAP_BPF', effect: 'cannot create maps or load the program', coveredBySysAdmin: true },
  { name: 'CAP_PERFMON', effect: 'the verifier rejects the program (pointer arithmetic prohibited for !root)', coveredBySysAdmin: true },
  { name: 'CAP_NET_ADMIN', effect: 'cannot attach to interfaces (TCX links, clsact filters)', coveredBySysAdmin: false },
];

export interface MissingCapability {
  readonly capability: string;
  readonly effect: string;
}

/** The host facts that decide whether capture can work, for the start-up verdict. */
export interface CaptureEnvironment {
  readonly kernelRelease: string;
  /** /sys/kernel/btf/vmlinux exists (the program needs no CO-RE; reported for operators). */
  readonly btf: boolean;
  readonly missingCapabilities: MissingCapability[];
}

/** Parses the effective capability set (CapEff, hex) of /proc/<pid>/status text. */
export function missingCapabilities(procStatus: string): MissingCapability[] {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus);
  const effective = match ? BigInt(`0x${match[1]}`) : 0n;
  const has = (bit: number) => (effective & (1n << BigInt(bit))) !== 0n;
  return REQUIRED.filter(({ name, coveredBySysAdmin }) => !has(CAPABILITIES[name]) && !(coveredBySysAdmin && has(CAPABILITIES.CAP_SYS_ADMIN))).map(
    ({ name, effect }) => ({ capability: name, effect }),
  );
}

export function probeCaptureEnvironment(): CaptureEnvironment {
  return {
    kernelRelease: release(),
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    missingCapabilities: missingCapabilities(readFileSync('/proc/self/status', 'utf8')),
  };
}
