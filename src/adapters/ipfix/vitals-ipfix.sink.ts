import { Injectable } from '@nestjs/common';
import { AgentConfig } from '../../application/config/agent-config.js';
import { VitalsSinkPort } from '../../application/vitals/vitals-sink.port.js';
import type { Observed, VitalsSnapshot, WithUsage } from '../../domain/vitals/vitals-snapshot.js';
import { exporterRegistry } from './information-elements.js';
import type { RecordTemplate } from './ipfix-message.encoder.js';
import { IpfixExporterAdapter } from './ipfix-exporter.adapter.js';
import { MessagePacker, type PackedMessage } from './ipfix-message.packer.js';
import { ObservationDomainOffset } from './ipfix-protocol.js';
import { VitalsTemplates, type VitalsRow, type VitalsTemplateFamily, type WithUsageValue } from './vitals-templates.js';

/**
 * Encodes vitals into IPFIX messages of observation domain N+2. Every message
 * carries the templates of its records inline: vitals go out once per export
 * interval, so this costs little and a collector that restarted decodes the very
 * next export.
 */
export class VitalsMessageEncoder {
  private readonly templates: VitalsTemplates;
  private readonly packer: MessagePacker<VitalsRow<unknown>>;

  constructor(config: AgentConfig) {
    this.templates = new VitalsTemplates(exporterRegistry(config.ipfix.enterpriseId));
    this.packer = new MessagePacker({
      maxMessageSize: config.ipfix.maxMessageSize,
      observationDomainId: config.ipfix.observationDomainId + ObservationDomainOffset.Vitals,
    });
  }

  get stats(): MessagePacker<unknown>['stats'] {
    return this.packer.stats;
  }

  encode(vitals: VitalsSnapshot, exportTimeMs: number, observerNodeName: string): { messages: PackedMessage[]; records: number } {
    let records = 0;
    const add = <T>(family: VitalsTemplateFamily<T>, value: T, observedAtMs: number) => {
      this.packer.addRecord(family.templateFor(value) as RecordTemplate<VitalsRow<unknown>>, { value, observedAtMs, observerNodeName }, true);
      records++;
    };
    const withUsage = <T>(family: VitalsTemplateFamily<WithUsageValue<T>>, entries: readonly WithUsage<T>[]) => {
      for (const { object, usage } of entries) {
        add(family, { object: object.value, usage: usage?.value }, Math.min(object.readAtMs, usage?.readAtMs ?? object.readAtMs));
      }
    };
    const plain = <T>(family: VitalsTemplateFamily<T>, entries: readonly Observed<T>[]) => {
      for (const entry of entries) add(family, entry.value, entry.readAtMs);
    };
    this.packer.begin(Math.floor(exportTimeMs / 1000));
    withUsage(this.templates.nodes, vitals.nodes);
    withUsage(this.templates.pods, vitals.pods);
    plain(this.templates.workloads, vitals.workloads);
    plain(this.templates.jobs, vitals.jobs);
    plain(this.templates.cronJobs, vitals.cronJobs);
    plain(this.templates.hpas, vitals.hpas);
    for (const hpa of vitals.hpas) {
      for (const metric of hpa.value.metrics) add(this.templates.hpaMetrics, { hpa: hpa.value, metric }, hpa.readAtMs);
    }
    return { messages: this.packer.finish(), records };
  }
}

/** VitalsSinkPort through the flow exporter's collector sockets (same source port, own observation domain). */
@Injectable()
export class IpfixVitalsSink extends VitalsSinkPort {
  private readonly encoder: VitalsMessageEncoder;

  constructor(
    private readonly config: AgentConfig,
    private readonly exporter: IpfixExporterAdapter,
  ) {
    super();
    this.encoder = new VitalsMessageEncoder(config);
  }

  export(vitals: VitalsSnapshot, exportTimeMs: number): number {
    const { messages, records } = this.encoder.encode(vitals, exportTimeMs, this.config.nodeName);
    this.exporter.sendMessages(messages);
    return records;
  }
}
