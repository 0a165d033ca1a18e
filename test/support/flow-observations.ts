import { flowKeyId } from '../fakes/flow-deltas.js';
import type { FlowDelta } from '../../src/domain/flow/flow-observation.js';
import type { ExpectedFlow } from '../lab/traffic.js';
import type { CaptureAgent } from './capture-agent.js';

/** Deltas summed per observation (flow key incl. interface and direction) across drains. */
export class ObservedFlows {
  private readonly sums = new Map<string, FlowDelta>();
  drops: Record<string, number> = {};

  add(deltas: readonly FlowDelta[]): void {
    for (const delta of deltas) {
      const id = flowKeyId(delta.key);
      const sum = this.sums.get(id);
      this.sums.set(
        id,
        sum === undefined
          ? delta
          : {
              ...sum,
              packets: sum.packets + delta.packets,
              octets: sum.octets + delta.octets,
              layer2Octets: sum.layer2Octets + delta.layer2Octets,
              firstMs: Math.min(sum.firstMs, delta.firstMs),
              lastMs: Math.max(sum.lastMs, delta.lastMs),
              tcpFlags: sum.tcpFlags | delta.tcpFlags,
            },
      );
    }
  }

  /** Drains the agent once into these sums. */
  async drainFrom(agent: CaptureAgent): Promise<void> {
    const drain = await agent.drain();
    this.add(drain.deltas);
    for (const [reason, count] of Object.entries(drain.drops)) this.drops[reason] = (this.drops[reason] ?? 0) + count;
  }

  /**
   * Drains until a drain, taken a moment after the previous one, brings nothing:
   * for traffic no receiver acknowledges (raw frames nobody listens to), whose last
   * frames may still wait in a softirq backlog when the sender returns.
   */
  async drainUntilQuiet(agent: CaptureAgent, settleMs = 200, maxDrains = 20): Promise<void> {
    for (let drains = 0; drains < maxDrains; drains++) {
      const before = this.sums.size;
      const packetsBefore = this.totalPackets();
      await this.drainFrom(agent);
      if (drains > 0 && this.sums.size === before && this.totalPackets() === packetsBefore) return;
      await new Promise((resolve) => setTimeout(resolve, settleMs));
    }
    throw new Error(`traffic still arriving after ${maxDrains} drains`);
  }

  private totalPackets(): number {
    let packets = 0;
    for (const delta of this.sums.values()) packets += delta.packets;
    return packets;
  }

  /** The observations of one expected flow, keyed "<interface>/<direction>". */
  of(flow: ExpectedFlow): Record<string, { packets: number; octets: number; layer2Octets: number; tcpFlags: number }> {
    const found: Record<string, { packets: number; octets: number; layer2Octets: number; tcpFlags: number }> = {};
    for (const delta of this.sums.values()) {
      const key = delta.key;
      if (
        key.sourceAddress === flow.sourceAddress &&
        key.destinationAddress === flow.destinationAddress &&
        key.sourcePort === flow.sourcePort &&
        key.destinationPort === flow.destinationPort &&
        key.protocol === flow.protocol &&
        key.icmpType === flow.icmpType &&
        key.vlanId === (flow.vlanId ?? 0)
      ) {
        found[`${delta.interfaceName}/${key.direction === 0 ? 'ingress' : 'egress'}`] = {
          packets: delta.packets,
          octets: delta.octets,
          layer2Octets: delta.layer2Octets,
          tcpFlags: delta.tcpFlags,
        };
      }
    }
    return found;
  }
}

/**
 * What a pod-to-pod flow must look like on one node: seen twice, at the sender's
 * host veth ingress (what the pod sends) and at the receiver's host veth egress,
 * each with the exact counts.
 */
export function bothObservations(flow: ExpectedFlow, senderVeth: string, receiverVeth: string) {
  const counts = { packets: flow.packets, octets: flow.octets, layer2Octets: flow.layer2Octets };
  return {
    [`${senderVeth}/ingress`]: expect.objectContaining(counts),
    [`${receiverVeth}/egress`]: expect.objectContaining(counts),
  };
}
